"""Log-sum-exp gradients in softmax form: stable, and one exponential fewer.

The score of a mixture, `∇ log Σ_k c_k e^{a_k(x)}`, differentiates (SymPy) to the
ratio `Σ_k c_k ∇a_k e^{a_k} / Σ_k c_k e^{a_k}`. Evaluated as written it costs one
exponential per component, and far from every mode each e^{a_k} underflows to
0, so the score is 0/0 = NaN. The same quantity is `Σ_k w_k ∇a_k` with
`w = softmax(a + log c)`, which `softmax_form` writes instead:

- two components: `w_0 = σ(b_0 - b_1)` (the logistic `Sigmoid`, one exponential;
  `b_0 - b_1` simplified, so for equal-variance Gaussians it is linear in x) and
  `w_1 = 1 - w_0`;
- more: `SoftmaxWeight(k, b_0, ..., b_{n-1})`, printed as a max-shifted
  `jax.nn.softmax`.

`softmax_form` rewrites, bottom-up, every product holding `1/S` with `S = Σ_k
c_k e^{a_k}` (at least two terms, distinct a_k, positive c_k free of the a_k's
exponentials) and a sum `N` whose every term carries exactly one of the `e^{a_k}`:
`N/S = Σ_k (N_k/c_k) w_k` with `N = Σ_k N_k e^{a_k}`. Anything else is left as
it is, so the rewrite is exact wherever it applies.
"""

from __future__ import annotations

import sympy as sp

from ..symbolic import Sigmoid, SoftmaxWeight

__all__ = ["softmax_form"]


def softmax_form(expr: sp.Expr) -> sp.Expr:
    """`expr` with every ratio of sums of exponentials that has a softmax form in it."""
    if expr.is_Atom or not expr.args:
        return expr
    args = tuple(softmax_form(a) for a in expr.args)
    if args != expr.args:
        expr = expr.func(*args)
    if isinstance(expr, sp.Mul):
        rewritten = _ratio(expr)
        if rewritten is not None:
            return rewritten
    return expr


def _exp_terms(total: sp.Expr) -> list[tuple[sp.Expr, sp.Expr]] | None:
    """`[(c_k, a_k)]` with `total = Σ c_k e^{a_k}`, or `None` if it is not of that form."""
    terms = sp.Add.make_args(total)
    if len(terms) < 2:
        return None
    out = []
    for term in terms:
        exps = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.exp)
                and f.args[0].free_symbols]
        # the state-dependent exponential: the one no other factor's symbols cover
        if not exps:
            return None
        exps.sort(key=lambda f: sp.count_ops(f.args[0]), reverse=True)
        e = exps[0]
        out.append((term / e, e.args[0]))
    exponents = [a for _, a in out]
    if len(set(exponents)) != len(exponents):
        return None
    for c, _ in out:
        if any(c.has(sp.exp(a)) for a in exponents) or not (c.is_positive or c == 1):
            return None
    return out


def _ratio(product: sp.Mul) -> sp.Expr | None:
    factors = list(product.args)
    for i, f in enumerate(factors):
        if not (isinstance(f, sp.Pow) and f.exp == -1 and isinstance(f.base, sp.Add)):
            continue
        terms = _exp_terms(f.base)
        if terms is None:
            continue
        exps = {a: k for k, (_, a) in enumerate(terms)}
        for j, g in enumerate(factors):
            if j == i:
                continue
            parts = _split_numerator(g, exps)
            if parts is None:
                continue
            weights = _weights([a for _, a in terms], [c for c, _ in terms])
            combo = sp.Add(*(parts[k] / terms[k][0] * weights[k] for k in parts))
            rest = [h for n, h in enumerate(factors) if n not in (i, j)]
            return sp.Mul(*rest, combo)
    return None


def _split_numerator(numerator: sp.Expr, exps: dict[sp.Expr, int]
                     ) -> dict[int, sp.Expr] | None:
    """`{k: N_k}` with `numerator = Σ_k N_k e^{a_k}`, or `None`."""
    parts: dict[int, list[sp.Expr]] = {}
    for term in sp.Add.make_args(numerator):
        hits = [f for f in sp.Mul.make_args(term)
                if isinstance(f, sp.exp) and f.args[0] in exps]
        if len(hits) != 1:
            return None
        (e,) = hits
        parts.setdefault(exps[e.args[0]], []).append(term / e)
    return {k: sp.Add(*v) for k, v in parts.items()}


def _weights(exponents: list[sp.Expr], coefficients: list[sp.Expr]) -> list[sp.Expr]:
    """The softmax weights of `a_k + log c_k` (the logs dropped when the c_k agree)."""
    same = all(c == coefficients[0] for c in coefficients)
    b = [a if same else a + sp.log(c) for a, c in zip(exponents, coefficients)]
    if len(b) == 2:
        w0 = Sigmoid(_difference(b[0], b[1]))
        return [w0, 1 - w0]
    return [SoftmaxWeight(sp.Integer(k), *b) for k in range(len(b))]


def _difference(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """`a - b` over a common denominator with the numerator expanded (products and
    powers only, exponentials kept whole), so that equal quadratic parts cancel."""
    num, den = sp.fraction(sp.together(a - b))
    num = sp.expand(num, power_exp=False, power_base=False, log=False)
    return sp.factor_terms(num) / den
