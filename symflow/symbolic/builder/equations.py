"""Explicit equations: `der(x) = ...`, `x = ...`, `d(x) = ...*dt + ...*dW`, and pieces of arrays.

Each equation defines a variable, or a slice or element of an array variable
(`der(x[0:3]) = ...`); the pieces of one variable must cover it exactly once and
are assembled into one right side (a `Concat` of the pieces). An SDE equation
`d(x) = ...` gives a drift and one diffusion coefficient per Brownian motion
(`sde.py`). Models with implicit equations are built by `dae.py` instead.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import sympy as sp

from ...errors import Span, SymflowError
from ...lang import ast
from ..nodes import Concat, Fill, shape_of
from ..system import Equation, Variable
from .events import discrete_equations
from .expressions import build_expression, index_range
from .scope import RESERVED, Scope
from .sde import check_field_noise, differential_rhs

__all__ = ["ExplicitEquations", "equation_target"]


@dataclasses.dataclass
class _Piece:
    """The right side of elements `start:stop` of a variable, from one equation."""

    start: int
    stop: int
    rhs: sp.Expr
    span: Span


# How a variable's equations are written: der(x) = ..., d(x) = ... (an SDE), or x = ...
_Written = Literal["ode", "sde", "algebraic"]


@dataclasses.dataclass
class _Collected:
    """The pieces found so far, by variable."""

    pieces: dict[str, list[_Piece]]
    kinds: dict[str, _Written] = dataclasses.field(default_factory=dict)
    first_span: dict[str, Span] = dataclasses.field(default_factory=dict)
    diffusions: dict[tuple[str, int], list[_Piece]] = dataclasses.field(default_factory=dict)


class ExplicitEquations:
    """The equations strategy of ODE, SDE and PDE models: each equation's left side is
    `der(x)`, `d(x)` or `x` (or a part of an array `x`)."""

    implicit = False

    def check_variables(self, variables: list[Variable]) -> None:
        """Every kind of variable (scalar, array, field) is allowed."""

    def hold(self, discrete: list[Variable]) -> list[Equation]:
        """der(x) = 0 for each discrete state."""
        return discrete_equations(discrete)

    def build(self, scope: Scope, nodes, variables: list[Variable]) -> list[Equation]:
        """One `Equation` per variable, in the order of `variables`."""
        found = _Collected({v.name: [] for v in variables})
        for eq in nodes:
            _collect(scope, eq, found)
        return [_assemble(scope, v, found) for v in variables]


def _collect(scope: Scope, eq: ast.Equation, found: _Collected) -> None:
    """Build one equation into the pieces of the variable it defines."""
    lhs = eq.lhs
    differential = False
    if isinstance(lhs, ast.Call) and lhs.func == "d":
        differential = True
        if len(lhs.args) != 1 or lhs.keywords:
            raise SymflowError("d takes one argument: d(x)", lhs.span)
        if not scope.brownians:
            raise SymflowError(
                "d(...) equations need Brownian motions", lhs.span,
                help="declare them in a `brownian` section (`brownian W`), "
                     "or write an ODE as der(x) = ...")
        lhs = ast.Call("der", lhs.args, (), lhs.span, lhs.func_span)
    kind, name, start, stop = equation_target(scope, lhs)
    if name in scope.discrete:
        raise SymflowError(
            f"'{name}' is discrete: it changes only where an event sets it", eq.span,
            help="set it in an affect under events, or declare it under variables")
    var = scope.names[name]
    written: _Written = "sde" if differential else kind
    if name in found.kinds and found.kinds[name] != written:
        both = {found.kinds[name], written}
        raise SymflowError(
            f"'{name}' is defined by two equations" if both != {"ode", "sde"} else
            f"'{name}' has both a der(...) and a d(...) equation", eq.span,
            notes=((found.first_span[name], "the other equation"),),
            help="a variable has either a der(...) equation or an algebraic one"
            if both != {"ode", "sde"} else
            "write all of its equations as d(...) = ...*dt + ...*dW (an SDE) "
            "or all as der(...) = ... (an ODE)",
        )
    if differential:
        rhs, noise, shape = differential_rhs(scope, eq)
        check_field_noise(scope, name, noise, eq)
    else:
        rhs, shape = build_expression(
            scope, eq.rhs, allowed=("constant", "parameter", "variable", "function",
                                    "coordinate", "closure"),
            context="an equation")
        noise = ()
    length = stop - start
    target_shape = () if var.shape == () or (stop - start == 1 and
                                             _is_element(eq.lhs)) else (length,)
    if shape and shape != target_shape:
        raise SymflowError(
            f"the right side has {shape[0]} elements but the left side has "
            f"{'one' if not target_shape else target_shape[0]}", eq.rhs.span)
    for p in found.pieces[name]:
        if p.start < stop and start < p.stop:
            raise SymflowError(
                f"'{name}' is defined by two equations"
                + (f" (element {max(p.start, start)})" if var.shape else ""),
                eq.span, notes=((p.span, "the other equation"),),
            )
    if target_shape and not shape:
        rhs = Fill(rhs, sp.Integer(length))
    for k, g in enumerate(noise):
        if target_shape and shape_of(g, scope.shapes()) == ():
            g = Fill(g, sp.Integer(length))
        found.diffusions.setdefault((name, k), []).append(_Piece(start, stop, g, eq.span))
    found.pieces[name].append(_Piece(start, stop, rhs, eq.span))
    found.kinds[name] = written
    found.first_span.setdefault(name, eq.span)


def _joined(pieces: list[_Piece]) -> sp.Expr:
    """The pieces (sorted, covering the variable) as one right side."""
    if len(pieces) == 1:
        return pieces[0].rhs
    return Concat(*(x for p in pieces for x in (sp.Integer(p.stop - p.start), p.rhs)))


def _assemble(scope: Scope, v: Variable, found: _Collected) -> Equation:
    """The equation of `v` from its pieces, which must cover it."""
    pieces = sorted(found.pieces[v.name], key=lambda p: p.start)
    if not pieces:
        raise SymflowError(
            f"variable '{v.name}' has no equation", v.span,
            help=f"add `der({v.name}) = ...` or `{v.name} = ...` under equations")
    covered = 0
    for p in pieces:
        if p.start > covered:
            break
        covered = p.stop
    if covered < v.size:
        raise SymflowError(
            f"element {covered} of '{v.name}' has no equation", v.span,
            help=f"every element of {v.name}[0:{v.size}] needs exactly one equation")
    written = found.kinds[v.name]
    if written == "ode" and v.initial is None:
        raise SymflowError(
            f"state '{v.name}' needs an initial value", v.span,
            help=f"write `{v.name} = <value>` under variables")
    kind: Literal["ode", "algebraic"] = "ode" if written == "sde" else written
    diffusion: tuple[sp.Expr, ...] = ()
    if written == "sde":
        diffusion = tuple(
            _joined(sorted(found.diffusions[(v.name, k)], key=lambda p: p.start))
            for k in range(len(scope.brownians)))
    return Equation(kind, v.name, _joined(pieces), tuple(p.span for p in pieces), diffusion)


def _is_element(lhs: ast.Expr) -> bool:
    if isinstance(lhs, ast.Call) and lhs.args:
        lhs = lhs.args[0]
    return isinstance(lhs, ast.Subscript) and not isinstance(lhs.index, ast.Slice)


def equation_target(scope: Scope, lhs: ast.Expr
                    ) -> tuple[Literal["ode", "algebraic"], str, int, int]:
    """What an equation's left side defines: (kind, variable, start, stop)."""
    kind: Literal["ode", "algebraic"] = "algebraic"
    target = lhs
    if isinstance(lhs, ast.Call) and lhs.func == "der":
        if len(lhs.args) != 1 or lhs.keywords:
            raise SymflowError("der takes one argument: der(x)", lhs.span)
        kind, target = "ode", lhs.args[0]
    name_node = target.target if isinstance(target, ast.Subscript) else target
    if not isinstance(name_node, ast.Name):
        if isinstance(lhs, ast.Call) and lhs.func == "d":
            raise SymflowError("SDEs in differential form are not supported yet", lhs.span)
        what = "der(...) of a variable" if kind == "ode" else "variable"
        raise SymflowError(
            "implicit equations are not supported yet: the left side must be "
            "der(x) or a variable", lhs.span,
            help=f"write the equation as `{'der(x)' if kind == 'ode' else 'x'} = ...`; "
                 f"found no {what} on the left")
    if name_node.id in RESERVED and name_node.id not in scope.names:
        what = "the time" if name_node.id == "t" else "a built-in name"
        raise SymflowError(
            f"'{name_node.id}' is {what} and cannot be defined by an equation",
            name_node.span, help="the left side must be der(x) or a variable x")
    entry = scope.resolve(name_node)
    if entry.kind != "variable":
        raise SymflowError(
            f"'{name_node.id}' is a {entry.kind}; only variables are defined by equations",
            name_node.span)
    size = 1 if entry.shape == () else entry.shape[0]
    if isinstance(target, ast.Subscript):
        if entry.shape == ():
            raise SymflowError(f"'{name_node.id}' is a scalar and cannot be indexed",
                               target.span)
        start, stop = index_range(scope, target, size)
    else:
        start, stop = 0, size
    return kind, name_node.id, start, stop
