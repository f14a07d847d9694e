"""Semilinear structure: each right-hand side as a linear part plus a remainder.

An exponential integrator solves `der(x) = L(t) x + N(x, t)` by integrating the
linear part exactly and spending evaluations only on `N`. This analysis finds the
split symbolically, on the final (discretized) `System`:

- the **linear part** of a right-hand side is the sum of its terms that are
  linear and homogeneous in the states: `c*x`, `c*shift(u, 1)`, `c*u[2:]`, a
  spectral derivative of a field, ... where `c` is free of states. Terms are
  found by walking sums, products with exactly one state-dependent factor, and
  the array nodes that are linear in their array argument (slices, shifts,
  concatenation, elements, spectral derivatives and filters). Everything else
  (state-free terms included, such as the time derivative of a Dirichlet value)
  is the **remainder** `N`;
- the remainder is factored as `N = g(t)·h(x, t)` where a factor free of the
  states comes out (`g` may hold `t` and parameters; `g = 1` when none does):
  the DEIS-type samplers extrapolate `h` rather than `N`.

The linear operator is classified, which decides how the solvers apply its
exponential:

- `scalar`: every state has the same state-free coefficient `a(t)` (the linear
  part is `a(t)·x`, a scalar times the identity: every φ-function is a scalar);
- `diagonal`: each state (element-wise for an array) has its own `a_i(t)`;
- `fourier`: fields on one periodic dimension under `scheme = spectral`, whose
  linear parts are constant-coefficient spectral derivatives of the field
  itself: diagonal in Fourier space, with multiplier `λ(k)`;
- `banded`: one field with finite differences (constant coefficients): a
  banded matrix, taken from the linear part by forward-mode differentiation;
- `dense`: anything else that is linear and constant in time, for a small
  number of unknowns.

For the `scalar` and `diagonal` kinds the coefficient may depend on `t`. Its
antiderivative `A(t) = ∫ a dt` is computed by SymPy when it can
(`integral`); otherwise `integral` is `None` and the solvers integrate `a` by
Gauss–Legendre quadrature. The other kinds need a constant operator.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import sympy as sp

from ..symbolic import Concat, Element, Fill, Part, Shift, System, shape_of
from ..symbolic.nodes import LINEAR_SPECTRAL_NODES, ArrayFunction, SpectralDiff, SpectralFilter

__all__ = ["SemilinearTerm", "SemilinearSplit", "split_semilinear", "split_linear",
           "format_split", "fourier_multiplier", "LINEAR_NODES"]


Kind = Literal["none", "scalar", "diagonal", "fourier", "banded", "dense"]


@dataclasses.dataclass(frozen=True)
class SemilinearTerm:
    """The split of one equation `der(target) = linear + remainder`.

    - `linear`: the part linear and homogeneous in the states;
    - `coefficient`: `a(t)` when `linear == a(t)*target` (the diagonal kinds),
      else `None`; `a` may be an array (element-wise) expression;
    - `integral`: an antiderivative `∫ a dt` when SymPy finds one, else `None`;
    - `remainder`: `N`, everything else; `remainder == factor * reduced`, with
      `factor` the state-free multiplier `g(t)` (1 if none).
    """

    target: str
    linear: sp.Expr
    coefficient: sp.Expr | None
    integral: sp.Expr | None
    remainder: sp.Expr
    factor: sp.Expr
    reduced: sp.Expr


@dataclasses.dataclass(frozen=True)
class SemilinearSplit:
    """The semilinear structure of a whole system (see the module docstring).

    `kind` is `"none"` when no equation has a linear part. `time_varying` says
    whether the linear part depends on `t`. `multipliers` (kind `fourier`) maps
    each field to its Fourier multiplier `λ(k)` as an expression of the wave
    number symbol `k`. `reason` says, for `none`, what was found instead.
    """

    kind: Kind
    terms: tuple[SemilinearTerm, ...]
    time: sp.Symbol
    time_varying: bool
    multipliers: tuple[tuple[str, sp.Expr], ...] = ()
    reason: str = ""

    def term(self, target: str) -> SemilinearTerm:
        return next(s for s in self.terms if s.target == target)

    @property
    def scalar_coefficient(self) -> sp.Expr | None:
        """`a(t)` of the `scalar` kind (the same for every state), else `None`."""
        return self.terms[0].coefficient if self.kind == "scalar" else None

    def __str__(self) -> str:
        return format_split(self)


# Nodes that are linear in their first (array) argument, the others being
# integers or constants.
LINEAR_NODES: tuple[type[sp.Basic], ...] = (Shift, Part, Element, *LINEAR_SPECTRAL_NODES)
# The nodes that give an expression array structure (`expand` must not cross them).
_ARRAY_NODES: tuple[type[sp.Basic], ...] = (Concat, *LINEAR_NODES)

K = sp.Symbol("k", real=True)  # the wave number in Fourier multipliers


def split_linear(expr: sp.Expr, states: frozenset[sp.Symbol],
                 shapes=None) -> tuple[sp.Expr, sp.Expr]:
    """`(linear, remainder)` with `expr == linear + remainder` and `linear` linear
    and homogeneous in `states` (see the module docstring for what is recognized)."""
    zero = sp.Integer(0)
    if not (expr.free_symbols & states):
        return zero, expr
    if expr in states:
        return expr, zero
    if isinstance(expr, sp.Add):
        parts = [split_linear(a, states, shapes) for a in expr.args]
        return sp.Add(*(p[0] for p in parts)), sp.Add(*(p[1] for p in parts))
    if isinstance(expr, sp.Mul):
        dependent = [f for f in expr.args if f.free_symbols & states]
        if len(dependent) != 1:
            return zero, expr
        (inner,) = dependent
        constant = sp.Mul(*(f for f in expr.args if f is not inner))
        linear, rest = split_linear(inner, states, shapes)
        return constant * linear, constant * rest
    if isinstance(expr, LINEAR_NODES):
        first, *others = expr.args
        linear, rest = split_linear(first, states, shapes)
        def rebuild(a: sp.Expr) -> sp.Expr:
            return zero if a == 0 else expr.func(a, *others)

        if rest != 0 and shape_of(rest, shapes or {}) == () and not isinstance(expr, Element):
            return zero, expr  # a scalar under an array node: keep it whole
        return rebuild(linear), rebuild(rest)
    if isinstance(expr, Concat):
        linear_args: list[sp.Expr] = []
        rest_args: list[sp.Expr] = []
        for length, piece in expr.pieces():
            linear, rest = split_linear(piece, states, shapes)
            for out, value in ((linear_args, linear), (rest_args, rest)):
                if value == 0 and length > 1:
                    value = Fill(zero, sp.Integer(length))
                out += [sp.Integer(length), value]
        linear = zero if all(_is_zero(v) for v in linear_args[1::2]) else Concat(*linear_args)
        rest = zero if all(_is_zero(v) for v in rest_args[1::2]) else Concat(*rest_args)
        return linear, rest
    return zero, expr


def _is_zero(expr: sp.Expr) -> bool:
    return expr == 0 or (isinstance(expr, Fill) and expr.args[0] == 0)


def factor_time(remainder: sp.Expr, states: frozenset[sp.Symbol]) -> tuple[sp.Expr, sp.Expr]:
    """`(g, h)` with `remainder == g*h` and `g` free of the states (1 if no factor is)."""
    if remainder == 0:
        return sp.Integer(1), remainder
    factored = sp.factor_terms(remainder)
    if not isinstance(factored, sp.Mul):
        return sp.Integer(1), remainder
    free = [f for f in factored.args if not (f.free_symbols & states)]
    if not free:
        return sp.Integer(1), remainder
    return sp.Mul(*free), sp.Mul(*(f for f in factored.args if f.free_symbols & states))


def antiderivative(a: sp.Expr, t: sp.Symbol) -> sp.Expr | None:
    """`∫ a dt` by SymPy, or `None` when it leaves an unevaluated integral (the
    solvers then use quadrature). Array nodes are kept out of `integrate`."""
    if not a.has(t):
        return a * t
    if any(isinstance(n, sp.Function) and type(n).__module__.startswith("symflow")
           for n in sp.preorder_traversal(a)):
        return None
    try:
        result = sp.integrate(a, t)
    except Exception:  # noqa: BLE001 - SymPy raises many kinds; quadrature then
        return None
    if result.has(sp.Integral):
        return None
    return result


def split_semilinear(system: System) -> SemilinearSplit:
    """The semilinear split of every ODE right-hand side of a final `System`."""
    states = {v.name: v for v in system.states}
    symbols = frozenset(v.symbol for v in states.values())
    shapes = system.shapes()
    t = system.time
    raw = []
    for e in system.equations:
        if e.kind != "ode" or e.target not in states:
            continue
        linear, rest = split_linear(e.rhs, symbols, shapes)
        raw.append((e.target, sp.expand(linear) if _plain(linear) else linear, rest))
    if not raw or all(linear == 0 for _, linear, _ in raw):
        found = "; ".join(f"der({name}) = {rest}" for name, _, rest in raw) or "no equations"
        terms = tuple(_term(name, sp.Integer(0), None, rest, symbols, t)
                      for name, _, rest in raw)
        return SemilinearSplit("none", terms, t, False,
                               reason="no term is linear in the states: " + found)

    # Diagonal: each linear part is a state-free coefficient times its own state.
    coefficients: dict[str, sp.Expr] = {}
    for name, linear, _ in raw:
        x = states[name].symbol
        if linear == 0:
            coefficients[name] = sp.Integer(0)
        elif (linear.free_symbols & symbols) == {x} and not _structured(linear, x):
            coefficients[name] = linear.xreplace({x: sp.Integer(1)})
        else:
            break
    else:
        varying = any(a.has(t) for a in coefficients.values())
        same = len({a for a in coefficients.values()}) == 1 and all(
            shape_of(a, shapes) == () for a in coefficients.values())
        terms = tuple(_term(name, linear, coefficients[name], rest, symbols, t)
                      for name, linear, rest in raw)
        return SemilinearSplit("scalar" if same else "diagonal", terms, t, varying)

    terms = tuple(_term(name, linear, None, rest, symbols, t) for name, linear, rest in raw)
    varying = any(s.linear.has(t) for s in terms)
    multipliers = _fourier_multipliers(system, raw)
    if multipliers is not None:
        return SemilinearSplit("fourier", terms, t, varying, multipliers=multipliers)
    if len(system.fields) == 1 and len(states) == 1 and system.domain:
        return SemilinearSplit("banded", terms, t, varying)
    return SemilinearSplit("dense", terms, t, varying)


def _plain(expr: sp.Expr) -> bool:
    """No array structure: safe to `expand`."""
    return not any(isinstance(n, _ARRAY_NODES) for n in sp.preorder_traversal(expr))


def _structured(expr: sp.Expr, x: sp.Symbol) -> bool:
    """Whether `x` appears inside an array node (a slice, shift, stencil...)."""
    return any(isinstance(n, _ARRAY_NODES) and n.has(x)
               for n in sp.preorder_traversal(expr))


def _term(name, linear, coefficient, rest, symbols, t) -> SemilinearTerm:
    integral = None if coefficient is None else antiderivative(coefficient, t)
    factor, reduced = factor_time(rest, symbols)
    return SemilinearTerm(name, linear, coefficient, integral, rest, factor, reduced)


def _fourier_multipliers(system: System, raw) -> tuple[tuple[str, sp.Expr], ...] | None:
    """Each field's Fourier multiplier `λ(k)`, when every linear part is a
    constant-coefficient combination of spectral derivatives of its own field."""
    if system.settings.scheme != "spectral" or not system.fields:
        return None
    states = {v.name: v for v in system.states}
    if set(states) != {name for name, _ in system.fields}:
        return None
    out = []
    for name, linear, _ in raw:
        multiplier = fourier_multiplier(linear, states[name].symbol, system.time,
                                        frozenset(v.symbol for v in states.values()))
        if multiplier is None:
            return None
        out.append((name, multiplier))
    return tuple(out)


def fourier_multiplier(linear: sp.Expr, u: sp.Symbol, t: sp.Symbol,
                       states: frozenset[sp.Symbol]) -> sp.Expr | None:
    """The symbol `λ(k)` of a linear part made of constant-coefficient spectral
    derivatives of the field `u` (and `c*u`): `linear` applied to `e^{ikx}` is
    `λ(k) e^{ikx}`. `None` when `linear` is not of that form (other fields,
    coefficients varying in time or space, slices, ...). Filters are left out
    of `λ` (they zero the modes above the cut)."""
    if linear == u:
        return sp.Integer(1)
    if isinstance(linear, SpectralFilter):
        return fourier_multiplier(linear.args[0], u, t, states)
    if isinstance(linear, SpectralDiff):
        inner = fourier_multiplier(linear.args[0], u, t, states)
        return None if inner is None else (sp.I * K) ** int(linear.args[2]) * inner
    if isinstance(linear, sp.Add):
        parts = [fourier_multiplier(a, u, t, states) for a in linear.args]
        return None if any(p is None for p in parts) else sp.expand(sp.Add(*parts))
    if isinstance(linear, sp.Mul):
        dependent = [f for f in linear.args if f.free_symbols & states]
        if len(dependent) != 1:
            return None
        constant = sp.Mul(*(f for f in linear.args if f is not dependent[0]))
        if constant.has(t) or any(isinstance(n, ArrayFunction)
                                  for n in sp.preorder_traversal(constant)):
            return None
        inner = fourier_multiplier(dependent[0], u, t, states)
        return None if inner is None else constant * inner
    return None


def format_split(split: SemilinearSplit) -> str:
    """The split as text, as `symflow show --stage semilinear` prints it."""
    t = split.time
    lines = [f"semilinear split: {split.kind}"
             + (" (time-varying)" if split.time_varying else "")]
    if split.kind == "none":
        lines.append(f"  {split.reason}")
    multipliers = dict(split.multipliers)
    for s in split.terms:
        lines.append(f"  der({s.target}) = L {s.target} + N")
        if s.coefficient is not None:
            lines.append(f"    a({t}) = {s.coefficient}")
            lines.append(f"    integral of a d{t} = "
                         + (str(s.integral) if s.integral is not None
                            else "(no closed form: Gauss-Legendre quadrature)"))
        elif s.target in multipliers:
            lines.append(f"    L = Fourier multiplier lambda(k) = {multipliers[s.target]}")
        else:
            lines.append(f"    L {s.target} = {s.linear}")
        lines.append(f"    N = {s.remainder}")
        if s.factor != 1:
            lines.append(f"    N = g({t})*h with g = {s.factor}, h = {s.reduced}")
    return "\n".join(lines)
