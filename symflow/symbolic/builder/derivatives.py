"""Space derivatives in expressions: `diff(u, x)`, `diff(u, x, k)`, `laplacian(u)`.

Nothing here discretizes: a derivative becomes a `Diff` node, which the
discretization pass replaces. In a boundary condition (`eb.boundary` set), the
derivative of the field along the boundary's coordinate is the slope symbol of
the condition (see `fields.build_boundary`).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ...errors import SymflowError
from ...lang import ast
from ..nodes import Diff

__all__ = ["build_diff"]


def build_diff(eb: Any, node: ast.Call) -> tuple[sp.Expr, tuple[int, ...]]:
    """`diff(u, x)`, `diff(u, x, k)` and `laplacian(u)` as `Diff` nodes."""
    scope = eb.scope
    name = node.func
    boundary = eb.boundary
    if name == "laplacian":
        if len(node.args) != 1:
            raise SymflowError(f"laplacian takes 1 argument, got {len(node.args)}",
                               node.span)
    elif not 2 <= len(node.args) <= 3:
        raise SymflowError(f"diff takes 2 or 3 arguments: diff(u, x) or diff(u, x, 2); "
                           f"got {len(node.args)}", node.span)
    target = node.args[0]
    fields = scope.field_coordinates
    if not (isinstance(target, ast.Name) and target.id in fields):
        if isinstance(target, ast.Name) and target.id not in scope.names:
            scope.resolve(target)  # undeclared: say so
        if isinstance(target, ast.Name) or boundary is not None or name == "laplacian":
            raise SymflowError(
                f"{name} differentiates a field: the first argument must name one" if
                isinstance(target, ast.Name) or boundary is not None else
                "laplacian takes a field; write the divergence of a flux as "
                "diff(D*diff(u, x), x) + diff(D*diff(u, y), y)",
                target.span, help="fields are declared as u(x) = ... under variables")
        return _build_expression_diff(eb, node)
    coords = fields[target.id]
    if name == "laplacian":
        wrts, order = list(coords), 2
    else:
        wrt = node.args[1]
        if not isinstance(wrt, ast.Name):
            raise SymflowError("the second argument of diff must name a coordinate",
                               wrt.span)
        if wrt.id == "t":
            raise SymflowError("diff is for space derivatives; the time derivative is "
                               "der(u), on the left side of an equation", wrt.span)
        dims = {d.name for d in scope.dimensions}
        if wrt.id not in dims:
            raise SymflowError(
                f"'{wrt.id}' is not a coordinate of the domain", wrt.span,
                help=("the domain declares: " + ", ".join(sorted(dims))) if dims
                else "declare it under `domain`")
        if wrt.id not in coords:
            raise SymflowError(
                f"field '{target.id}' depends on ({', '.join(coords)}), not on '{wrt.id}'",
                wrt.span)
        order = 1
        if len(node.args) == 3:
            order = eb.constant_integer(node.args[2], "the order of a derivative")
            if order not in (1, 2, 3, 4):
                raise SymflowError("diff takes derivatives of order 1 to 4 (3 and 4 with "
                                   "scheme = spectral)", node.args[2].span)
            if order > 2:  # finite differences stop at 2: checked with the scheme
                scope.high_derivatives.append(node.args[2].span)
        wrts = [wrt.id]
    if boundary is not None:
        if name != "diff" or order != 1 or target.id != boundary["field"] \
                or wrts[0] != boundary["coordinate"]:
            raise SymflowError(
                "a boundary condition may use the field and its first derivative along "
                f"the boundary's coordinate, diff({boundary['field']}, "
                f"{boundary['coordinate']})", node.span)
        return boundary["slope"], ()
    if "variable" not in eb.allowed:
        raise SymflowError(f"{eb.context} cannot use {name}", node.span)
    symbol = scope.names[target.id].symbol
    shape = scope.names[target.id].shape
    terms = [Diff(symbol, sp.Symbol(w, real=True), sp.Integer(order)) for w in wrts]
    return sp.Add(*terms), shape


def _build_expression_diff(eb: Any, node: ast.Call) -> tuple[sp.Expr, tuple[int, ...]]:
    """`diff(F, x)` of an expression `F` of fields: a flux in conservative form,
    `diff(D(u)*diff(u, x), x)`, or a mixed derivative `diff(diff(u, x), y)`. The
    discretization pass differences `F` between grid points."""
    scope = eb.scope
    if "variable" not in eb.allowed:
        raise SymflowError(f"{eb.context} cannot use diff", node.span)
    if len(node.args) == 3:
        order = eb.constant_integer(node.args[2], "the order of a derivative")
        if order != 1:
            raise SymflowError(
                "the derivative of an expression is of first order",
                node.args[2].span, help="write diff(diff(F, x), x), or diff(u, x, 2) of a field")
    wrt = node.args[1]
    if not isinstance(wrt, ast.Name):
        raise SymflowError("the second argument of diff must name a coordinate", wrt.span)
    if wrt.id == "t":
        raise SymflowError("diff is for space derivatives; the time derivative is "
                           "der(u), on the left side of an equation", wrt.span)
    dims = [d.name for d in scope.dimensions]
    if wrt.id not in dims:
        raise SymflowError(
            f"'{wrt.id}' is not a coordinate of the domain", wrt.span,
            help=("the domain declares: " + ", ".join(dims)) if dims
            else "declare it under `domain`")
    expr, shape = eb.build(node.args[0])
    field_symbols = {scope.names[f].symbol for f in scope.field_coordinates}
    if not (expr.free_symbols & field_symbols) and not expr.has(Diff):
        raise SymflowError("diff differentiates an expression of fields; this one "
                           "names none", node.args[0].span,
                           help="the derivative of a coefficient alone is known: "
                                "write it out")
    return Diff(expr, sp.Symbol(wrt.id, real=True), sp.Integer(1)), shape
