"""Index reduction by Pantelides' algorithm (Pantelides 1988).

A DAE `F(x', x, y, t) = 0` has (differentiation) index above one when some
equations constrain only variables that the integrator already knows (the
pendulum's `0 = x^2 + y^2 - L^2` holds positions, whose derivatives are
integrated). Pantelides' algorithm finds, from the structure alone, which
equations must be differentiated, and how often, so that every equation can be
matched with a highest derivative or an algebraic variable:

for each equation k in turn, look for an augmenting path that uses only the
highest derivatives (unknowns not differentiated further); if none exists, the
equations and unknowns visited by the failed search form a structurally
singular subset: differentiate every visited equation once (adding the new
equation), introduce the derivative of every visited unknown, re-assign each
visited unknown's derivative to the visited equations' derivatives, and retry
from the derivative of equation k.

Differentiation is symbolic: `d/dt r(x, der(x), t) = sum_s dr/ds der(s) + dr/dt`.
The differentiated-away (lower-order) equations stay in the system with their
`order` smaller than the highest: they are the invariants that consistent
initialization must satisfy (see `dae_to_ode`).
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...errors import SymflowError
from ...symbolic import System
from .graph import IncidenceGraph, base_variable, der_symbol, hand_on, incidence_graph
from .matching import augment

__all__ = ["reduce_index", "time_derivative", "CONSTRAINT"]

MAX_DIFFERENTIATIONS = 50


def time_derivative(expr: sp.Expr, time: sp.Symbol, variables: set[sp.Symbol]) -> sp.Expr:
    """The total time derivative of `expr`; `variables` are the symbols (variables
    and their derivatives) that depend on time; parameters do not."""
    out = sp.diff(expr, time)
    for s in expr.free_symbols:
        if s in variables:
            out += sp.diff(expr, s) * der_symbol(s)
    return out


def reduce_index(system: System) -> System:
    """Differentiate the equations Pantelides' algorithm selects (none for index ≤ 1).

    The algorithm starts from the system's `IncidenceGraph`, grows it (symbols,
    incidence rows, derivative links, matching) as it differentiates, and hands
    the grown graph on with the system it returns.
    """
    equations = list(system.equations)
    if not any(e.kind == "implicit" for e in equations):
        return system
    incidence = incidence_graph(system)
    bases = set(incidence.variables)

    # Unknown symbols (variables and derivatives present), with A: s -> der(s) index.
    symbols: list[sp.Symbol] = []
    position: dict[sp.Symbol, int] = {}

    def add_symbol(s: sp.Symbol) -> int:
        if s not in position:
            position[s] = len(symbols)
            symbols.append(s)
        return position[s]

    for s in incidence.variables:
        add_symbol(s)
    eqs = list(incidence.equations)
    for row in incidence.incidence:
        for s in sorted(row, key=str):
            add_symbol(s)
    # Every derivative chain x, der(x), der(der(x)) ... must be complete.
    for s in list(symbols):
        b = base_variable(s)
        while b != s:
            add_symbol(b)
            b = der_symbol(b)

    def derivative_index(j: int) -> int | None:
        return position.get(der_symbol(symbols[j]))

    graph: list[list[int]] = incidence.rows(symbols)
    differentiated: list[int | None] = [None] * len(eqs)  # B
    match_var: dict[int, int] = {}
    variables = set(symbols)

    n_original = len(eqs)
    for k0 in range(n_original):
        k = k0
        for _ in range(MAX_DIFFERENTIATIONS):
            coloured_eqs: set[int] = set()
            coloured_vars: set[int] = set()
            if augment(k, graph, match_var, allowed=lambda v: derivative_index(v) is None,
                       coloured_eqs=coloured_eqs, coloured_vars=coloured_vars):
                break
            for j in sorted(coloured_vars):
                d = add_symbol(der_symbol(symbols[j]))
                variables.add(symbols[d])
            for i in sorted(coloured_eqs):
                e = eqs[i]
                rhs = time_derivative(e.rhs, system.time, variables)
                rhs = sp.expand(rhs) if rhs.is_polynomial() else rhs
                for s in rhs.free_symbols:
                    if s not in position and base_variable(s) in bases:
                        add_symbol(s)
                        variables.add(s)
                eqs.append(dataclasses.replace(e, rhs=rhs, order=e.order + 1))
                graph.append(sorted(position[s] for s in rhs.free_symbols if s in position))
                differentiated.append(None)
                differentiated[i] = len(eqs) - 1
            # Every coloured unknown got its derivative and every coloured equation
            # (`k` among them) its differentiated copy just above.
            for j in coloured_vars:
                if j in match_var:
                    d_var, d_eq = derivative_index(j), differentiated[match_var[j]]
                    assert d_var is not None and d_eq is not None
                    match_var[d_var] = d_eq
            next_k = differentiated[k]
            assert next_k is not None
            k = next_k
        else:
            raise SymflowError(
                f"index reduction differentiated an equation {MAX_DIFFERENTIATIONS} times "
                "without success: the system is singular", eqs[k0].spans[0])

    marked = [dataclasses.replace(e, target=_mark(e.target, differentiated[i] is not None))
              for i, e in enumerate(eqs)]
    others = [e for e in equations if e.kind != "implicit"]
    out = dataclasses.replace(system, equations=tuple(others + marked))
    grown = IncidenceGraph.of(marked, incidence.variables,
                              [frozenset(symbols[j] for j in row) for row in graph])
    return hand_on(out, grown)


CONSTRAINT = "constraint"


def _mark(target: str, is_constraint: bool) -> str:
    """Equations differentiated further are invariants ("constraint" targets)."""
    if not is_constraint:
        return target
    return CONSTRAINT + (":" + target if target else "")
