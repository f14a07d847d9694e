"""The model's own `functions` as library candidates.

A function `f(a, b) = a/(k + b)` of the model may be what a closure learned. Its SymPy value
at the library's input symbols is built from the syntax tree by the build stage's own
expression builder (the same inlining `der(x) = f(x, y)` goes through), with the
parameters and constants it uses replaced by their numbers. A function whose body uses a
state or the time cannot be evaluated from the closure's inputs alone and is left out.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from ...errors import SymflowError
from ...lang import ast
from ._library import FunctionCandidate

__all__ = ["model_functions"]


def model_functions(program: ast.Program, model: ast.Model,
                    params: Mapping[str, float] | None = None) -> tuple[FunctionCandidate, ...]:
    """The functions declared by `model` as library candidates.

    `params` overrides parameter values (by name); the others keep their defaults.
    """
    from ...symbolic import build_expression, function_scope

    fdefs = [f for f in model.items("functions") if isinstance(f, ast.FunctionDef)]
    if not fdefs:
        return ()
    builder = function_scope(program, model)
    values = {symbol: sp.Float(value) for symbol, value in builder.values.items()}
    for name, value in (params or {}).items():
        entry = builder.names.get(name)
        if entry is not None and entry.kind == "parameter":
            values[entry.symbol] = sp.Float(float(value))

    def candidate(fdef: ast.FunctionDef) -> FunctionCandidate:
        def body(*args: sp.Expr) -> sp.Expr | None:
            scope = {p: (a, ()) for p, a in zip(fdef.params, args)}
            try:
                expr, shape = build_expression(
                    builder, fdef.body, allowed=("constant", "parameter", "function"),
                    context=f"function '{fdef.name}'", local=scope)
            except SymflowError:
                return None  # uses a state, the time, or something else not at hand
            if shape:
                return None
            return expr.xreplace(values)

        return FunctionCandidate(fdef.name, len(fdef.params), body)

    return tuple(candidate(f) for f in fdefs)
