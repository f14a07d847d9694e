"""Conserved moieties eliminated (`conserved = eliminate`): one species a law computed.

Each law `sum_i c_i * amount_i = T` of `analysis.conservation_laws` makes its
pivot species an explicit algebraic variable, `amount_p = (T - sum_{i != p}
c_i * amount_i) / c_p`, which `eliminate_explicit_algebraics` then turns into an
output: the ODE loses one state a law and its Jacobian is no longer singular
(steady states, Newton solves). The total `T` is a new parameter named
`total_<pivot>`, whose default is the law's value at the initial state; setting
the initial value of a species of the law does NOT change it (set the total).
A law is kept, not used, when an event resets one of its species (the total
jumps) or a species' compartment varies.

A model of plain equations (no reactions section) gets the same treatment from
`analysis.linear_invariants`: the laws `c · y = constant` whose right-hand sides
cancel term by term (Robertson's `y1 + y2 + y3`), the pivot state computed from
the others (`eliminate_invariants`).
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...analysis import ConservationLaw, conservation_laws, linear_invariants
from ...symbolic import Equation, NetworkSpecies, Parameter, System

__all__ = ["eliminate_conserved", "eliminate_invariants"]


def _amount(s: NetworkSpecies) -> sp.Expr:
    """The species' amount, in terms of its state."""
    return s.state if (s.state != s.symbol or s.amount) else s.volume * s.symbol


def eliminate_conserved(system: System) -> System:
    """One species of each conservation law made algebraic (a no-op unless the model
    says `conserved = eliminate`)."""
    network = system.reactions
    if (system.settings.conserved != "eliminate"
            or any(e.kind == "implicit" for e in system.equations)):
        return system
    if network is None:
        return eliminate_invariants(system)
    reset = {a.target for e in system.events for a in e.affects}
    variables = {v.name: v for v in system.variables}
    values = {p.symbol: p.number for p in system.parameters}
    replaced: dict[str, Equation] = {}
    totals: list[Parameter] = []
    for law in conservation_laws(network):
        species = [network.species_named(name) for name, _ in law.coefficients]
        if any(s.name in reset or s.state.name in reset or s.state != s.symbol
               for s in species):
            continue
        pivot = network.species_named(law.pivot)
        initial = {s.symbol: variables[s.name].initial for s in species}
        amount = sum((c * _amount(network.species_named(name))
                      for name, c in law.coefficients), sp.Integer(0))
        name = f"total_{pivot.name}"
        symbol = sp.Symbol(name, real=True)
        default = amount.xreplace(initial)
        value = float(default.xreplace(values))
        totals.append(Parameter(name, symbol, default, value, None,
                                f"the conserved total of {law.describe()}", pivot.span))
        coefficient = dict(law.coefficients)[pivot.name]
        rest = amount - coefficient * _amount(pivot)
        pivot_amount = (symbol - rest) / coefficient
        per_volume = sp.Integer(1) if pivot.amount else pivot.volume
        replaced[pivot.name] = Equation("algebraic", pivot.name, pivot_amount / per_volume,
                                        (pivot.span,))
    if not replaced:
        return system
    equations = tuple(replaced.get(e.target, e) if e.kind == "ode" else e
                      for e in system.equations)
    return dataclasses.replace(system, parameters=system.parameters + tuple(totals),
                               equations=equations)


def eliminate_invariants(system: System) -> System:
    """One state of each linear invariant of plain equations (`linear_invariants`) made
    algebraic, `x_p = (total_<p> - sum_{i != p} c_i x_i) / c_p`, with `total_<p>` a new
    parameter defaulting to the law's value at the initial state. Laws that an event
    resets a state of are kept."""
    reset = {a.target for e in system.events for a in e.affects}
    variables = {v.name: v for v in system.variables}
    values = {p.symbol: p.number for p in system.parameters}
    replaced: dict[str, Equation] = {}
    totals: list[Parameter] = []
    law: ConservationLaw
    for law in linear_invariants(system):
        if any(name in reset for name, _ in law.coefficients):
            continue
        symbols = {name: variables[name].symbol for name, _ in law.coefficients}
        amount = sum((c * symbols[name] for name, c in law.coefficients), sp.Integer(0))
        default = amount.xreplace({symbols[n]: variables[n].initial for n in symbols})
        name = f"total_{law.pivot}"
        symbol = sp.Symbol(name, real=True)
        pivot = variables[law.pivot]
        totals.append(Parameter(name, symbol, default, float(default.xreplace(values)), None,
                                f"the conserved total of {law.describe()}", pivot.span))
        coefficient = dict(law.coefficients)[law.pivot]
        rest = amount - coefficient * symbols[law.pivot]
        replaced[law.pivot] = Equation("algebraic", law.pivot, (symbol - rest) / coefficient,
                                       (pivot.span,))
    if not replaced:
        return system
    equations = tuple(replaced.get(e.target, e) for e in system.equations)
    return dataclasses.replace(system, parameters=system.parameters + tuple(totals),
                               equations=equations)
