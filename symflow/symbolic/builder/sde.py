"""Stochastic differential equations: Brownian motions, and splitting `d(x) = a*dt + b*dW`.

An equation in differential form is built with `dt` and one increment symbol
`dW` per declared Brownian motion in scope. `split_differential` checks that
its right side is a polynomial of degree at most one in those symbols (no
`dt*dW`, no `dW**2`, no `sin(dW)`, no term without an increment) and returns
the drift (the coefficient of `dt`) and one diffusion coefficient per Brownian
motion. (`symflow.symbolic.classify_noise` later reads the diffusion matrix of a
simplified `System` and names its class.)
"""

from __future__ import annotations

import difflib
import math

import sympy as sp

from ...errors import Span, SymflowError
from ...lang import ast
from ..system import Brownian
from .expressions import build_expression
from .scope import Scope

__all__ = ["DT", "brownians", "check_field_noise", "differential_rhs", "scale_field_noise",
           "split_differential"]


DT = sp.Dummy("dt", real=True)  # the `dt` of equations in differential form


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


def brownian_field(scope: Scope, node: ast.Brownian) -> Brownian:
    """The Brownian field `W(x)` of a `brownian` declaration, on the grid of the domain."""
    coordinates = node.coordinates
    assert coordinates is not None  # the caller passes the declarations of fields
    dims = {d.name: d for d in scope.dimensions}
    if not dims:
        raise SymflowError(
            f"the Brownian field '{node.name}({', '.join(coordinates)})' needs a "
            "domain", node.span, help="declare its coordinates under `domain`: "
                                      "x in [0, 1], points = 101")
    unknown = [c for c in coordinates if c not in dims]
    if unknown:
        raise SymflowError(f"'{unknown[0]}' is not a coordinate of the domain", node.span,
                           help="the domain declares: " + ", ".join(dims))
    if tuple(coordinates) != tuple(dims):
        raise SymflowError(
            f"the Brownian field '{node.name}' must depend on every coordinate of the "
            f"domain, in order: {node.name}({', '.join(dims)})", node.span)
    used = [dims[c] for c in coordinates]
    scope.declare(node.name, "brownian", node.span)
    return Brownian(node.name, sp.Dummy("d" + node.name, real=True), node.span,
                    coordinates=tuple(coordinates),
                    size=math.prod(d.points for d in used),
                    spacing=math.prod(d.spacing for d in used))  # the cell volume


def brownians(scope: Scope, nodes) -> list[Brownian]:
    """The `brownian` section: Brownian motions and Brownian fields, declared."""
    out = []
    for b in nodes:
        if b.coordinates is not None:
            out.append(brownian_field(scope, b))
            continue
        scope.declare(b.name, "brownian", b.span)
        out.append(Brownian(b.name, sp.Dummy("d" + b.name, real=True), b.span))
    return out


def differential_rhs(scope: Scope, eq: ast.Equation
                     ) -> tuple[sp.Expr, tuple[sp.Expr, ...], tuple[int, ...]]:
    """The drift, the diffusion coefficients and the shape of `d(x) = ...`."""
    increments = {"d" + b.name: b for b in scope.brownians}
    for node in ast.walk(eq.rhs):
        if not isinstance(node, ast.Name):
            continue
        name = node.id
        if (name.startswith("d") and len(name) > 1 and name != "dt"
                and name not in increments and name not in scope.names
                and name not in scope.declared):
            close = difflib.get_close_matches(name, list(increments), n=1)
            raise SymflowError(
                f"'{name}' is the increment of '{name[1:]}', which is not a declared "
                "Brownian motion", node.span,
                help=(f"did you mean '{close[0]}'? " if close else "")
                + f"declare it under `brownian` (`brownian {name[1:]}`); declared: "
                + ", ".join(b.name for b in scope.brownians))
    local: dict[str, tuple[sp.Expr, tuple[int, ...]]] = {"dt": (DT, ())}
    local.update({n: (b.increment, (b.size,) if b.coordinates else ())
                  for n, b in increments.items()})
    for n in local:
        if n in scope.names:
            raise SymflowError(
                f"'{n}' is declared as a {scope.names[n].kind}, but in d(...) equations "
                f"it is {'the time step' if n == 'dt' else 'a Brownian increment'}",
                scope.names[n].span, help=f"rename the {scope.names[n].kind}")
    rhs, shape = build_expression(
        scope, eq.rhs, allowed=("constant", "parameter", "variable", "function", "closure"),
        context="an equation", local=local)
    drift, noise = split_differential(
        rhs, DT, tuple(b.increment for b in scope.brownians), eq.rhs.span)
    return drift, scale_field_noise(noise, scope.brownians), shape


def check_field_noise(scope: Scope, name: str, noise: tuple[sp.Expr, ...],
                      eq: ast.Equation) -> None:
    """A Brownian field `W(x, ...)` drives only a field on the same coordinates: its
    increment has one value per grid point, which only a field's points match."""
    for b, g in zip(scope.brownians, noise):
        if not b.coordinates or g == 0:
            continue
        coordinates = scope.field_coordinates.get(name)
        if coordinates == tuple(b.coordinates):
            continue
        what = (f"the field '{name}({', '.join(coordinates)})'" if coordinates
                else f"'{name}', which is not a field")
        raise SymflowError(
            f"d{b.name} is the increment of the Brownian field "
            f"'{b.name}({', '.join(b.coordinates)})' ({b.size} grid points) and cannot "
            f"drive {what}", eq.rhs.span,
            help=f"a Brownian field drives a field on the same coordinates, "
                 f"u({', '.join(b.coordinates)}); for a scalar or an array, declare a "
                 "Brownian motion without coordinates (`brownian B`)")
