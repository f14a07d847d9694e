"""Constant folding: replace every constant by its number.

Constants (the `constants` section) are fixed at compile time, unlike
parameters, which stay symbols so that new values never force a recompile. After
this pass no expression mentions a constant; the constants stay listed in
`System.parameters` (with `constant=True`) for display only.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ..symbolic import System

__all__ = ["fold_constants"]


def fold_constants(system: System) -> System:
    """Substitute the values of all constants into the system's expressions."""
    values = {p.symbol: p.number if isinstance(p.value, tuple) else _number(p.value)
              for p in system.parameters if p.constant}  # an array: the Stack of its numbers
    if not values:
        return system

    def fold(expr: sp.Expr | None) -> sp.Expr | None:
        return None if expr is None else expr.xreplace(values)

    return dataclasses.replace(
        system,
        parameters=tuple(
            p if p.constant else dataclasses.replace(p, default=fold(p.default))
            for p in system.parameters
        ),
        variables=tuple(dataclasses.replace(v, initial=fold(v.initial))
                        for v in system.variables),
        equations=tuple(dataclasses.replace(e, rhs=fold(e.rhs),
                                            diffusion=tuple(fold(g) for g in e.diffusion))
                        for e in system.equations),
        observed=tuple(dataclasses.replace(o, expr=fold(o.expr)) for o in system.observed),
        events=tuple(e.map_exprs(lambda x: x.xreplace(values)) for e in system.events),
        reactions=None if system.reactions is None else system.reactions.map_exprs(
            lambda x: x.xreplace(values)),
    )


def _number(value: float) -> sp.Expr:
    return sp.Integer(int(value)) if float(value).is_integer() else sp.Float(value)
