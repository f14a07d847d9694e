"""Consistent initial values for a DAE reduced to ODEs.

After index reduction the states must satisfy the lower-order equations (the
"constraints": the pendulum's `x^2 + y^2 = L^2` and `x*vx + y*vy = 0`). A
state whose initial value the model gives keeps it; a state with no initial
value (a derivative state such as `der_x`) is solved for from the constraints:
symbolically when they are polynomial in the unknowns and SymPy finds one
solution (so it stays an expression of the parameters), numerically otherwise
(a Newton solve inside the generated `initial_values(p)`, from the guess 0, run
for each simulation's parameters and differentiable by the implicit function
theorem). Algebraic unknowns in a constraint are replaced by their solved
expressions.

Errors: a state that no constraint determines and that has no initial value is
"missing"; a polynomial constraint with several solutions is "ambiguous"; a
constraint whose states are all given and that does not hold at the default
parameters names the conflicting values.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...errors import SymflowError
from ...symbolic import Equation, System
from .matching import maximum_matching, strong_components
from .tearing import newton_nodes

__all__ = ["initialize"]

TOLERANCE = 1e-8


def initialize(system: System, *, constraints: list[Equation],
               solved: dict[sp.Symbol, sp.Expr], rename: dict[sp.Symbol, sp.Symbol]
               ) -> System:
    states = system.states
    given = {v.symbol: v.initial for v in states if v.initial is not None}
    missing = [v for v in states if v.initial is None]
    values = {p.symbol: p.number for p in system.parameters}
    residuals = []
    for c in constraints:
        r = c.rhs.xreplace(solved).xreplace(rename).xreplace({system.time: sp.Float(
            system.settings.tspan[0])})
        residuals.append((c, r))

    # Match constraints to missing initial values; solve each block.
    unknowns = [v.symbol for v in missing]
    position = {s: j for j, s in enumerate(unknowns)}
    graph = [sorted(position[s] for s in r.free_symbols if s in position) for _, r in residuals]
    match_var = maximum_matching(graph)
    if len(match_var) < len(unknowns):
        lost = [missing[j] for j in range(len(unknowns)) if j not in match_var]
        raise SymflowError(
            "initialization is underdetermined: no initial value for "
            + ", ".join(v.name for v in lost), lost[0].span,
            help="give these variables initial values under variables")
    match_eq = {e: v for v, e in match_var.items()}
    depends = [[match_var[j] for j in graph[i] if j != match_eq.get(i)]
               for i in range(len(residuals))]
    initial: dict[sp.Symbol, sp.Expr] = dict(given)
    for block in strong_components(depends):
        to_solve = [i for i in block if i in match_eq]
        for i in block:
            if i not in match_eq:
                continue
        if to_solve:
            syms = [unknowns[match_eq[i]] for i in to_solve]
            eqs = [residuals[i][1].xreplace(initial) for i in to_solve]
            sol = None  # no closed form: solved numerically
            if all(e.is_polynomial(*syms) for e in eqs):
                # (SymPy spends seconds on a transcendental equation before giving up)
                try:
                    sol = sp.solve(eqs, syms, dict=True)
                except NotImplementedError:
                    pass
            if sol is not None and len(sol) > 1:
                raise SymflowError(
                    "the initial value of " + ", ".join(str(s) for s in syms)
                    + f" is ambiguous: these equations have {len(sol)} solutions",
                    residuals[to_solve[0]][0].spans[0],
                    help="give it an initial value under variables")
            if sol and set(sol[0]) == set(syms):
                initial.update(sol[0])
            else:
                initial.update(_numerical(eqs, syms))
        for i in block:
            if i in match_eq:
                continue
            c, r = residuals[i]
            value = r.xreplace(initial).xreplace(values)
            try:
                number = float(value)
            except TypeError:
                continue
            scale = 1.0 + max((abs(float(x.xreplace(values))) for x in given.values()),
                              default=0.0)
            if abs(number) > TOLERANCE * scale:
                involved = [v.name for v in states if v.symbol in r.free_symbols]
                raise SymflowError(
                    f"the initial values of {', '.join(involved)} are inconsistent: "
                    f"this equation is off by {number:.3g} at the start",
                    c.spans[0],
                    help="change the initial values so that this equation (or its time "
                         "derivative, which index reduction added) holds, or leave one "
                         "of them out to have it solved for")
    variables = tuple(dataclasses.replace(v, initial=initial[v.symbol])
                      if v.symbol in initial and v.initial is None else v
                      for v in system.variables)
    return dataclasses.replace(system, variables=variables)


def _numerical(eqs: list[sp.Expr], syms: list[sp.Symbol]) -> dict[sp.Symbol, sp.Expr]:
    """Initial values that SymPy finds no closed form for: `NewtonSolve` nodes,
    which codegen prints as an optimistix Newton solve inside `initial_values(p)`.
    The parameters stay symbols, so the solve happens at run time for the
    parameter values of each simulation, and gradients flow through it by the
    implicit function theorem. The guess is 0 (the language has no guess values)."""
    return newton_nodes(eqs, syms, [sp.Integer(0)] * len(syms))
