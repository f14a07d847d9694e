"""Stochastic differential equations: splitting `d(x) = a*dt + b*dW` and classifying noise.

An equation in differential form is built with `dt` and one increment symbol
`dW` per declared Brownian motion in scope. `split_differential` checks that
its right side is a polynomial of degree at most one in those symbols (no
`dt*dW`, no `dW**2`, no `sin(dW)`, no term without an increment) and returns
the drift (the coefficient of `dt`) and one diffusion coefficient per Brownian
motion. `classify_noise` reads the diffusion matrix of a simplified `System`
and names its class, which decides the valid solvers (`symflow.solve`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import sympy as sp

from ..errors import Span, SymflowError
from ._sde_derivatives import componentwise_noise


__all__ = ["Brownian", "NoiseClass", "NOISE_CLASSES", "classify_noise", "scale_field_noise",
           "split_differential"]


NoiseClass = Literal["additive", "diagonal", "commutative", "general"]
NOISE_CLASSES: tuple[str, ...] = ("additive", "diagonal", "commutative", "general")


@dataclasses.dataclass(frozen=True)
class Brownian:
    """A declared Wiener process `W`; `increment` is the symbol of `dW` in equations.

    A Brownian field `W(x)` has `coordinates == ("x",)` and one independent
    standard Brownian motion per grid point (`size` of them); its increment is
    an array symbol of that length.
    """

    name: str
    increment: sp.Symbol
    span: Span
    coordinates: tuple[str, ...] = ()
    size: int = 1
    spacing: float = 1.0  # the grid spacing of a Brownian field


def split_differential(expr: sp.Expr, dt: sp.Symbol, increments: tuple[sp.Symbol, ...],
                       span: Span) -> tuple[sp.Expr, tuple[sp.Expr, ...]]:
    """The drift and the diffusion coefficients of `expr = drift*dt + sum_k g_k*dW_k`.

    Raises `SymflowError` at `span` when `expr` is not of that form.
    """
    gens = (dt, *increments)
    used = [g for g in gens if expr.has(g)]
    names = {dt: "dt", **{w: w.name for w in increments}}
    if not used:
        raise SymflowError(
            "the right side of d(...) has no dt or dW term", span,
            help="write it as `drift*dt + diffusion*dW`")
    try:
        poly = sp.Poly(expr, *used)
    except sp.PolynomialError:
        inside = ", ".join(names[g] for g in used if not _polynomial_in(expr, g)) \
            or ", ".join(names[g] for g in used)
        raise SymflowError(
            f"the right side of d(...) is not linear in {inside}", span,
            help="dt and each dW may only appear as `coefficient*dt` and "
                 "`coefficient*dW`, not inside a function, a power or a denominator") from None
    for monomial, coeff in poly.terms():
        degree = sum(monomial)
        if degree > 1:
            term = "*".join(f"{names[g]}**{k}" if k > 1 else names[g]
                            for g, k in zip(used, monomial) if k)
            raise SymflowError(
                f"the right side of d(...) is not linear in dt and dW: it has a term in "
                f"{term}", span,
                help="each term must hold exactly one of dt, dW (Itô calculus takes "
                     "dW**2 = dt, but write that as a dt term)")
        if degree == 0 and coeff != 0:
            raise SymflowError(
                "the right side of d(...) has a term without dt or dW", span,
                help="multiply every term by dt or by one dW")
    # Linear in every generator: each coefficient is a derivative, taken on the
    # expression as written (Poly's coefficients are expanded).
    drift = sp.diff(expr, dt) if dt in used else sp.Integer(0)
    diffusion = tuple(sp.diff(expr, w) if w in used else sp.Integer(0) for w in increments)
    return drift, diffusion


def _polynomial_in(expr: sp.Expr, symbol: sp.Symbol) -> bool:
    try:
        sp.Poly(expr, symbol)
    except sp.PolynomialError:
        return False
    return True


def _depends_on(expr: sp.Expr, symbols: set) -> bool:
    return bool(expr.free_symbols & symbols)


def classify_noise(system) -> NoiseClass:
    """The noise class of a `System` with Brownian motions.

    - `additive`: no diffusion coefficient depends on a state;
    - `diagonal`: one Brownian motion per state (a Brownian field per field), state
      `i` driven by motion `i` alone, and each point's coefficient depends on that
      point of the state only (`_sde_derivatives.componentwise_noise`);
    - also componentwise but with states that have no noise: `commutative`;
    - `commutative`: the Lie brackets of the diffusion columns vanish,
      `sum_l g_lj d g_ik / d x_l = sum_l g_lk d g_ij / d x_l` (always true for one
      Brownian motion; checked symbolically for scalar states);
    - `general`: anything else.
    """
    states = system.states
    symbols = {v.symbol for v in states}
    columns = len(system.brownians)
    rows = [system.equation_for(v.name).diffusion or (sp.Integer(0),) * columns
            for v in states]
    if not any(_depends_on(g, symbols) for row in rows for g in row):
        return "additive"
    driven = componentwise_noise(system)
    if driven is not None:
        return "diagonal" if len(driven) == len(states) else "commutative"
    if any(b.coordinates for b in system.brownians):
        return "general"  # a Brownian field whose points are coupled
    if columns == 1:
        return "commutative"
    if any(v.shape for v in states):
        return "general"  # the bracket test below differentiates scalar states only
    xs = [v.symbol for v in states]
    try:
        for j in range(columns):
            for k in range(j + 1, columns):
                for i in range(len(xs)):
                    left = sum(rows[l][j] * sp.diff(rows[i][k], xs[l]) for l in range(len(xs)))
                    right = sum(rows[l][k] * sp.diff(rows[i][j], xs[l]) for l in range(len(xs)))
                    if sp.simplify(left - right) != 0:
                        return "general"
    except (TypeError, ValueError):
        return "general"
    return "commutative"


# Names of SDE solvers in the language (which noise classes each accepts is
# decided in `symflow.solve._sde_solvers`).
SDE_SOLVERS: tuple[str, ...] = (
    "auto", "euler", "milstein", "heun", "eulerheun", "sra1", "shark", "spark",
)


def scale_field_noise(noise: tuple[sp.Expr, ...], brownians) -> tuple[sp.Expr, ...]:
    """The coefficients of Brownian fields divided by `sqrt(h)`, `h` the grid spacing.

    `dW` of a Brownian field `W(x)` is space-time white noise: on a grid of
    spacing `h`, its value at point `i` over a step is the average over the
    point's cell, `(1/h) * integral of W(dx, dt)` over the cell, a Gaussian of
    variance `dt/h`; so `c*dW` at point `i` is `c/sqrt(h) * dB_i` with independent
    standard Brownian motions `B_i` (the usual finite-difference convention; the
    end points of a non-periodic grid use the same `h`).
    """
    return tuple(g / sp.sqrt(sp.Float(b.spacing)) if b.coordinates and g != 0 else g
                 for g, b in zip(noise, brownians))


def brownian_field(builder, node) -> Brownian:
    """The Brownian field `W(x)` of a `brownian` declaration, on the grid of the domain."""
    dims = {d.name: d for d in builder.dimensions}
    if not dims:
        raise SymflowError(
            f"the Brownian field '{node.name}({', '.join(node.coordinates)})' needs a "
            "domain", node.span, help="declare its coordinates under `domain`: "
                                      "x in [0, 1], points = 101")
    unknown = [c for c in node.coordinates if c not in dims]
    if unknown:
        raise SymflowError(f"'{unknown[0]}' is not a coordinate of the domain", node.span,
                           help="the domain declares: " + ", ".join(dims))
    if tuple(node.coordinates) != tuple(dims):
        raise SymflowError(
            f"the Brownian field '{node.name}' must depend on every coordinate of the "
            f"domain, in order: {node.name}({', '.join(dims)})", node.span)
    used = [dims[c] for c in node.coordinates]
    builder.declare(node.name, "brownian", node.span)
    return Brownian(node.name, sp.Dummy("d" + node.name, real=True), node.span,
                    coordinates=tuple(node.coordinates),
                    size=math.prod(d.points for d in used),
                    spacing=math.prod(d.spacing for d in used))  # the cell volume
