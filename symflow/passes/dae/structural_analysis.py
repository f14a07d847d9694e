"""Structural analysis: is the implicit system structurally regular?

An equation and an unknown are joined when the unknown appears in the
equation (the incidence graph, `graph.py`). A system is structurally regular
when a perfect matching exists (`matching.py`): each equation can be assigned
its own unknown to solve for. When none exists, `check_structure` names the
equations that are left over (too many equations for their unknowns) and the
unknowns that no equation determines, with their source lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ...errors import SymflowError
from ...symbolic import Equation, System
from .graph import incidence_graph
from .matching import maximum_matching

__all__ = ["check_structure", "describe_singularity"]


def describe_singularity(system: System, equations: Sequence[Equation],
                         unknowns: Sequence[sp.Symbol], match_var: dict[int, int],
                         graph: Sequence[Sequence[int]]) -> SymflowError:
    """The error for a structurally singular system: the unknowns no equation
    determines and the equations left over by the maximum matching `match_var`,
    with their source lines."""
    matched_eqs = set(match_var.values())
    loose_eqs = [i for i in range(len(equations)) if i not in matched_eqs]
    loose_vars = [unknowns[j] for j in range(len(unknowns)) if j not in match_var]
    parts = []
    if loose_vars:
        parts.append("no equation determines " + ", ".join(s.name for s in loose_vars))
    if loose_eqs:
        parts.append(f"{len(loose_eqs)} equation(s) have no unknown left to solve for")
    notes = tuple((equations[i].spans[0], "this equation is left over"
                   + (f" ({equations[i].target})" if equations[i].target else ""))
                  for i in loose_eqs[:8])
    span = notes[0][0] if notes else next(
        (v.span for v in system.variables if v.symbol.name in {s.name for s in loose_vars}
         or f"der({v.name})" in {s.name for s in loose_vars}), None)
    flows = [e for e in equations if e.target.startswith("unconnected flow")]
    help_ = (f"the system has {len(equations)} equations for {len(unknowns)} unknowns; "
             "add the missing equations or remove redundant ones")
    if flows:
        help_ += ("; ports left unconnected have their flows set to zero: "
                  + ", ".join(e.target[len('unconnected flow '):] for e in flows[:5]))
    return SymflowError("the system is structurally singular: " + "; ".join(parts), span,
                        notes=notes, help=help_)


def check_structure(system: System) -> System:
    """Raise a `SymflowError` naming the unmatched equations and unknowns when the
    implicit equations of `system` are structurally singular; else return it.

    Here a variable and its derivatives count as one unknown: a perfect matching
    of that graph is what Pantelides' algorithm needs to terminate (it then
    finds which equations to differentiate so that the highest derivatives are
    matched too).
    """
    if not any(e.kind == "implicit" for e in system.equations):
        return system
    incidence = incidence_graph(system)
    equations = incidence.equations
    unknowns = list(incidence.variables)
    graph = incidence.rows(unknowns, through_base=True)
    match_var = maximum_matching(graph)
    if len(match_var) != len(equations) or len(equations) != len(unknowns):
        raise describe_singularity(system, equations, unknowns, match_var, graph)
    return system  # unchanged: its incidence graph goes on to index reduction
