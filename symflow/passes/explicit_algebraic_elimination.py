"""Elimination of explicit algebraic variables.

An equation `z = expr` (no derivative, `z` alone on the left) defines `z`
outright. This pass substitutes every such `z` into the ODE right-hand sides
and the observed outputs, in dependency order, and keeps `z` as an observed
output so that it is still saved with the solution. What remains is a pure ODE
system `der(x) = f(t, x, p)`.

Algebraic variables that depend on one another in a cycle form an algebraic
loop, which needs a nonlinear solve; that is reported as an error here.
"""

from __future__ import annotations

import dataclasses
import graphlib

import sympy as sp

from ..errors import SymflowError
from ..symbolic import Observed, System

__all__ = ["eliminate_explicit_algebraics"]


def eliminate_explicit_algebraics(system: System) -> System:
    """Substitute explicit algebraic variables away; keep them as observed outputs."""
    algebraic = {e.target: e for e in system.equations if e.kind == "algebraic"}
    if not algebraic:
        return system
    symbol_of = {v.name: v.symbol for v in system.variables}
    names_of = {v.symbol: v.name for v in system.variables if v.name in algebraic}

    graph = {
        name: {names_of[s] for s in eq.rhs.free_symbols if s in names_of}
        for name, eq in algebraic.items()
    }
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        cycle = e.args[1]
        first = algebraic[cycle[0]]
        raise SymflowError(
            "algebraic loop: " + " -> ".join(cycle), first.spans[0],
            notes=tuple((algebraic[n].spans[0], f"'{n}' is defined here")
                        for n in cycle[1:-1]),
            help="these variables are defined in terms of each other; "
                 "solving such loops (tearing) is not supported yet",
        ) from None

    solved: dict[sp.Symbol, sp.Expr] = {}
    for name in order:
        solved[symbol_of[name]] = algebraic[name].rhs.xreplace(solved)

    variables = {v.name: v for v in system.variables}
    eliminated = tuple(
        Observed(name, symbol_of[name], solved[symbol_of[name]], variables[name].shape,
                 variables[name].doc, variables[name].span)
        for name in order
    )
    return dataclasses.replace(
        system,
        variables=tuple(v for v in system.variables if v.name not in algebraic),
        equations=tuple(dataclasses.replace(
            e, rhs=e.rhs.xreplace(solved),
            diffusion=tuple(g.xreplace(solved) for g in e.diffusion))
                        for e in system.equations if e.kind == "ode"),
        observed=eliminated + tuple(dataclasses.replace(o, expr=o.expr.xreplace(solved))
                                    for o in system.observed),
        events=tuple(e.map_exprs(lambda x: x.xreplace(solved)) for e in system.events),
        reactions=None if system.reactions is None else system.reactions.map_exprs(
            lambda x: x.xreplace(solved)),
    )
