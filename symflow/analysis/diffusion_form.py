"""Diffusion form: read a probability-flow ODE's noise schedule off its equations.

Built on the semilinear split (`semilinear.py`): a model of diffusion form is
`der(x) = f(t)*x + N(x, t)` with the same state-free coefficient `f(t)` for
every state (a scalar times the identity). For a variance-preserving (VP) model
this analysis derives, symbolically:

- `log α(t) = ∫₀ᵗ f dτ` (so α(0) = 1; SymPy's antiderivative minus its value
  at 0, or Gauss–Legendre quadrature of `f` when SymPy finds no closed form);
- `σ(t) = sqrt(1 - α²)`, written `sqrt(-expm1(2 log α))` (no cancellation near
  t = 0), and `log σ`;
- `g² = dσ²/dt - 2 f σ²` (= -2f for VP) and `λ = log α - log σ`;
- the inverse `t(λ)` where SymPy solves `log α(t) = -log(1 + e^{-2λ})/2` (the
  linear schedule's quadratic, rewritten without cancellation); otherwise the
  samplers invert λ numerically;
- the noise prediction `ε̂ = 2 σ N / g²` of every state (for VP, `-σ·score` with
  `score = N/f`), simplified, and the gradient of a log-sum-exp (a mixture's
  score) rewritten in softmax form (`log_sum_exp.py`: stable far from the modes).

`find_diffusion_form` raises a `SymflowError` that says which of α, σ could not
be identified, and why, for a model that is not of this form.
"""

from __future__ import annotations

import dataclasses

import sympy as sp
from sympy.codegen.cfunctions import expm1
from sympy.codegen.numpy_nodes import logaddexp

from ..errors import Span, SymflowError
from ..symbolic import System
from .log_sum_exp import softmax_form
from .semilinear import SemilinearSplit, split_semilinear

__all__ = ["DiffusionForm", "find_diffusion_form", "LAMBDA", "SIGMA"]


LAMBDA = sp.Symbol("lambda", real=True)  # the argument of t(λ)
SIGMA = sp.Symbol("sigma", positive=True)  # σ(t) in `DiffusionForm.noise`


@dataclasses.dataclass(frozen=True)
class DiffusionForm:
    """The schedule and noise prediction of a VP probability-flow ODE.

    Expressions are in the system's time symbol and parameters; `t_of_lambda`
    is in `LAMBDA` (or `None`: invert numerically); `log_alpha` is `None` when
    `∫ f dt` has no closed form (then `f` is integrated by quadrature).
    `score` maps each state to its score `N/f` (in the states); the noise
    prediction is `ε̂ = -σ(t)·score` (`noise`).
    """

    f: sp.Expr
    log_alpha: sp.Expr | None
    log_sigma: sp.Expr | None
    g2: sp.Expr | None
    lam: sp.Expr | None
    t_of_lambda: sp.Expr | None
    score: tuple[tuple[str, sp.Expr], ...]
    split: SemilinearSplit

    def __str__(self) -> str:
        def shown(value: sp.Expr | None, fallback: str) -> object:
            return value if value is not None else fallback

        rows = [
            "diffusion form (variance preserving)",
            f"  f(t) = d log(alpha)/dt = {self.f}",
            f"  log alpha(t) = {shown(self.log_alpha, 'by quadrature of f')}",
            f"  log sigma(t) = {shown(self.log_sigma, '(1/2) log(1 - alpha^2)')}",
            f"  g^2(t) = {shown(self.g2, '-2 f')}",
            "  lambda(t) = log alpha - log sigma",
            f"  t(lambda) = {shown(self.t_of_lambda, 'numeric inversion')}",
        ]
        rows += [f"  eps_hat[{name}] = -sigma(t)*({expr})" for name, expr in self.score]
        return "\n".join(rows)

    @property
    def noise(self) -> tuple[tuple[str, sp.Expr], ...]:
        """ε̂ of each state, with σ(t) as the symbol `SIGMA`."""
        return tuple((name, -SIGMA * expr) for name, expr in self.score)


def find_diffusion_form(system: System, *, span: Span | None = None) -> DiffusionForm:
    """The diffusion form of a final `System`; errors point at `span` (the solver)."""
    split = split_semilinear(system)
    if system.domain or system.brownians:
        raise SymflowError("a diffusion sampler needs an ODE in the states alone "
                           "(no fields, no Brownian motions)", span)
    if split.kind == "none":
        raise SymflowError(
            "the model is not of diffusion form: alpha could not be identified, since "
            f"no term is linear in the states ({split.reason})", span,
            help="a VP probability-flow ODE reads der(x) = f(t)*x + g(t)*score; "
                 "alpha(t) = exp(integral of f)")
    if split.kind != "scalar":
        coefficients = "; ".join(
            f"der({s.target}): {s.coefficient if s.coefficient is not None else s.linear}"
            for s in split.terms)
        raise SymflowError(
            "the model is not of diffusion form: alpha could not be identified, since the "
            f"linear part is not one coefficient f(t) times every state ({coefficients})",
            span, help="every state needs the same linear coefficient f(t) = d log(alpha)/dt")
    t = system.time
    f = split.scalar_coefficient
    assert f is not None  # the "scalar" kind has its one coefficient
    if f == 0:
        raise SymflowError("the model is not of diffusion form: alpha could not be "
                           "identified (the linear coefficient f(t) is 0)", span)
    defaults = {p.symbol: float(p.value) for p in system.parameters
                if not isinstance(p.value, tuple) and _is_number(p.value)}
    integral = split.terms[0].integral
    log_alpha = None
    if integral is not None:
        log_alpha = sp.expand(integral - integral.subs(t, 0))
        if log_alpha.has(sp.nan, sp.zoo, sp.oo):
            log_alpha = None
    _check_decreasing(f, t, defaults, system.settings.tspan, span)

    log_sigma = lam = t_of_lambda = g2 = None
    if log_alpha is not None:
        variance = -expm1(2 * log_alpha)
        log_sigma = sp.log(variance) / 2
        lam = log_alpha - log_sigma
        g2 = -2 * f  # VP: dσ²/dt - 2fσ² = -2α²f - 2f(1 - α²)
        t_of_lambda = _invert(log_alpha, t, defaults, system.settings.tspan)
    # VP: g² = -2f exactly (d(1-α²)/dt = -2α² f), so ε̂ = 2σN/g² = -σ N/f: the
    # score is N/f, from the remainder's time-only factor (N = g(t)·h, score = (g/f)·h).
    # The score of a mixture (grad of a log-sum-exp) in softmax form: stable far from
    # the modes, one exponential fewer (`log_sum_exp.py`).
    score = tuple((term.target,
                   softmax_form(sp.cancel(sp.together(term.factor / f)) * term.reduced))
                  for term in split.terms)
    return DiffusionForm(f=f, log_alpha=log_alpha, log_sigma=log_sigma, g2=g2, lam=lam,
                         t_of_lambda=t_of_lambda, score=score, split=split)


def _is_number(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def _check_decreasing(f, t, defaults, tspan, span) -> None:
    """VP needs α < 1 after 0, i.e. f < 0 on the span (checked at the defaults)."""
    import numpy as np  # (lazily: `symflow check` loads no NumPy)

    lo, hi = sorted(float(x) for x in tspan)
    fn = sp.lambdify(t, f.xreplace(defaults), modules="math")
    for x in np.linspace(max(lo, 0.0), hi, 7):
        try:
            value = float(fn(float(x)))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return  # parameters without defaults: nothing to check here
        if not value < 0:
            raise SymflowError(
                "the model is not of diffusion form: sigma could not be identified, since "
                f"f(t) = {f} is not negative at t = {x:g} (alpha = exp(integral of f) must "
                "decrease for 1 - alpha^2 to be a variance)", None if span is None else span)


def _invert(log_alpha, t, defaults, tspan) -> sp.Expr | None:
    """`t(λ)` in closed form: solve `log α(t) = -ℓ/2`, ℓ = log(1 + e^{-2λ}), pick the
    root that inverts λ at the default parameters, rewrite `(-b + √D)/c` as
    `(D - b²)/(c(√D + b))`, and check it numerically; `None` if any step fails."""
    ell = sp.Symbol("ell", positive=True)
    try:
        roots = sp.solve(sp.Eq(log_alpha, -ell / 2), t)
    except Exception:  # noqa: BLE001 - SymPy raises many kinds; numeric inversion then
        return None
    import numpy as np

    lo, hi = sorted(float(x) for x in tspan)
    lo = max(lo, 1e-6)
    samples = np.geomspace(lo, hi, 9)
    la_fn = sp.lambdify(t, log_alpha.xreplace(defaults), modules="mpmath")
    for root in roots:
        root = _rationalize(root)
        try:
            fn = sp.lambdify(ell, root.xreplace(defaults), modules="mpmath")
            import mpmath

            ok = True
            for x in samples:
                ell_x = -2 * la_fn(mpmath.mpf(x))
                back = complex(fn(ell_x))
                if abs(back.imag) > 1e-12 or abs(back.real - x) > 1e-10 * x:
                    ok = False
                    break
        except (TypeError, ValueError, ZeroDivisionError):
            ok = False
        if ok:
            return root.xreplace({ell: logaddexp(-2 * LAMBDA, 0)})
    return None


def _rationalize(root: sp.Expr) -> sp.Expr:
    """`(a + √D)/c` with a < 0 rewritten as `(D - a²)/(c(√D - a))` (no cancellation
    when √D ≈ -a); other shapes are returned as they are."""
    num, den = sp.fraction(sp.together(root))
    if not isinstance(num, sp.Add):
        return root
    roots = [a for a in num.args if isinstance(a, sp.Pow) and a.exp == sp.Rational(1, 2)]
    if len(roots) != 1:
        return root
    (sq,) = roots
    rest = num - sq
    if rest.has(sp.Pow) and any(isinstance(a, sp.Pow) and a.exp == sp.Rational(1, 2)
                                for a in sp.preorder_traversal(rest)):
        return root
    return sp.factor(sp.expand(sq.base - rest**2)) / (den * (sq - rest))
