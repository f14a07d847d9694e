"""Calls in expressions: built-in functions, `sum`, `dot`, `grad`, and user functions.

User functions are inlined: `f(a, b)` is the body of `f` built with `a` and `b`
bound to its parameters (so they cannot be recursive). The space derivatives
`diff` and `laplacian` are built in `derivatives.py`.
"""

from __future__ import annotations

import difflib
from typing import Any

import sympy as sp

from ...errors import SymflowError
from ...lang import ast
from ..nodes import ArrayExtreme, ArraySum, Dot
from .derivatives import build_diff
from .scope import BUILTINS

__all__ = ["build_call"]


def build_call(eb: Any, node: ast.Call) -> tuple[sp.Expr, tuple[int, ...]]:
    """A call in an expression: a user function (inlined), a built-in, `sum`, `dot`,
    `grad`, or a space derivative `diff`/`laplacian` (`derivatives.py`).

    `eb` is the `expressions.ExprBuilder` of the expression around the call."""
    name = node.func
    if node.keywords:
        raise SymflowError(f"'{name}' takes no keyword arguments", node.keywords[0].span)
    if name in eb.scope.names and eb.scope.names[name].kind == "function":
        return _inline(eb, node, eb.scope.names[name].node)
    if name in ("min", "max") and len(node.args) == 1:
        a, shape = eb.value(node.args[0])
        if not shape:
            raise SymflowError(f"{name} of one argument takes an array (its largest or "
                               "smallest element)", node.span,
                               help=f"{name}(a, b, ...) compares two or more values")
        return ArrayExtreme(a, sp.Integer(int(name == "max"))), ()
    if name in BUILTINS:
        arity, ctor = BUILTINS[name]
        if arity is None and len(node.args) < 2 or arity and len(node.args) != arity:
            expected = "at least 2 arguments" if arity is None else (
                f"{arity} argument{'s' if arity > 1 else ''}")
            raise SymflowError(
                f"{name} takes {expected}, got {len(node.args)}", node.span)
        built = [eb.value(a) for a in node.args]
        shape = eb.broadcast((s for _, s in built), node.span)
        value = ctor(*(e for e, _ in built))
        return eb.checked(value, node), shape
    if name == "sum":
        _arity(node, 1)
        a, shape = eb.value(node.args[0])
        return (ArraySum(a) if shape else a), ()
    if name == "dot":
        _arity(node, 2)
        (a, sa), (b, sb) = eb.value(node.args[0]), eb.value(node.args[1])
        if not sa or sa != sb:
            raise SymflowError("dot needs two arrays of the same length", node.span)
        return Dot(a, b), ()
    if name == "grad":
        _arity(node, 2)
        expr = eb.scalar(node.args[0], "the expression of grad")
        wrt = node.args[1]
        if not isinstance(wrt, ast.Name):
            raise SymflowError("grad(expr, x) differentiates with respect to a name",
                               wrt.span)
        symbol, shape = eb.build(wrt)
        if shape or not isinstance(symbol, sp.Symbol):
            raise SymflowError("grad differentiates with respect to a scalar variable",
                               wrt.span)
        try:
            derivative = sp.diff(expr, symbol)
        except TypeError:  # sum(...) or dot(...) of an array depending on `symbol`
            derivative = None
        if derivative is None or derivative.has(sp.Derivative, sp.DiracDelta):
            raise SymflowError(
                f"grad cannot differentiate this expression with respect to "
                f"'{wrt.id}'", node.args[0].span,
                help="sum(...) and dot(...) of arrays that depend on it, and "
                     "sign(...), have no symbolic derivative here")
        return derivative, ()
    if name == "der":
        raise SymflowError("der(...) may only stand on the left side of an equation",
                           node.span)
    if name == "pre":
        raise SymflowError("pre(x) may only appear in the value an event sets",
                           node.span, help="e.g. `when h < 0 then v = -e*pre(v)`")
    if name in ("diff", "laplacian"):
        return build_diff(eb, node)
    if eb.scope.declared.get(name, ("",))[0] == "function":
        raise SymflowError(f"{eb.context} cannot call the function '{name}'",
                           node.func_span, help=eb.allowed_help())
    if name in eb.scope.field_coordinates:
        coords = ", ".join(eb.scope.field_coordinates[name])
        raise SymflowError(
            f"field '{name}' is declared as {name}({coords}) and used by its name alone",
            node.func_span,
            help=f"write {name} (its values on the grid); {name}(...) with other "
                 "coordinates or at a point is not supported")
    known = sorted([*BUILTINS, "sum", "dot", "grad"]
                   + [n for n, e in eb.scope.names.items() if e.kind == "function"])
    close = difflib.get_close_matches(name, known, n=1)
    raise SymflowError(
        f"unknown function '{name}'", node.func_span,
        help=(f"did you mean '{close[0]}'? " if close else "")
        + "declare it under functions, or use one of: " + ", ".join(known))

def _arity(node: ast.Call, n: int) -> None:
    if len(node.args) != n:
        raise SymflowError(f"{node.func} takes {n} argument{'s' if n > 1 else ''}, "
                           f"got {len(node.args)}", node.span)

def _inline(eb: Any, node: ast.Call, fdef: ast.FunctionDef):
    """A call of a user function: its body built with the arguments bound to its
    parameters."""
    if len(node.args) != len(fdef.params):
        raise SymflowError(
            f"{fdef.name} takes {len(fdef.params)} argument"
            f"{'s' if len(fdef.params) != 1 else ''}, got {len(node.args)}", node.span,
            notes=((fdef.span, f"{fdef.name} is defined here"),))
    if fdef.name in eb.scope.inlining:
        raise SymflowError(f"function '{fdef.name}' calls itself", node.span,
                           help="functions are inlined, so they cannot be recursive")
    local = {p: eb.build(a) for p, a in zip(fdef.params, node.args)}
    eb.scope.inlining.append(fdef.name)
    try:
        inner = eb.inner(f"{eb.context} (through function '{fdef.name}')", local)
        return inner.build(fdef.body)
    except SymflowError as e:
        # a mistake in the body shows where the call that reached it is, too
        if e.span is not None and e.span != node.span and len(eb.scope.inlining) == 1:
            e.notes += ((node.span, f"'{fdef.name}' is called here"),)
        raise
    finally:
        eb.scope.inlining.pop()
