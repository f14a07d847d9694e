"""From an index-1 implicit system to explicit ODEs: matching, BLT and solving.

After index reduction, every equation that was not differentiated further
(the "active" equations) can be matched to its own unknown: the highest
derivative of each differentiated variable, or an algebraic variable. This
pass

1. matches the active equations to the unknowns (a perfect matching, or a
   structural-singularity error naming what is left over);
2. orders them into blocks (Tarjan's strongly connected components of the
   "equation needs the unknown of that equation" graph: block lower triangular
   form), so that each block needs only unknowns of earlier blocks;
3. solves each block symbolically: a block of one equation linear in its
   unknown directly, otherwise with `sympy.solve` on that one symbol when it has
   a unique solution; a block of several equations that is linear in its
   unknowns by a symbolic linear solve (an algebraic loop, torn exactly).
   Any other block (a nonlinear loop, or one equation with several or no
   symbolic solutions) stays implicit: each of its unknowns becomes a
   `NewtonSolve` node, which codegen prints as an optimistix Newton solve inside
   the right-hand side (differentiable by the implicit function theorem). The
   guess is the variable's initial value (or 0). A nonlinear loop is torn first
   (`tearing.py`): Newton iterates only on the tearing variables, and the
   loop's other unknowns are explicit expressions of them;
4. writes the states: a variable `x` whose highest derivative is `x''` gives the
   states `x` and `der(x)` with `der(x) = der_x` and `der(der_x) = <solved x''>`.
   Solved algebraic unknowns become explicit algebraic equations, which
   `eliminate_explicit_algebraics` turns into observed outputs.

The lower-order equations that index reduction differentiated ("constraints")
are used for consistent initialization: an initial value that is not given is
solved for from them; given values that violate one are reported.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...errors import SymflowError
from ...symbolic import Equation, Pivot, System, Variable
from .consistent_initialization import initialize
from .graph import base_variable, der_symbol, derivative_order, incidence_graph, is_der, state_name
from .matching import maximum_matching, strong_components
from .pantelides import CONSTRAINT
from .pivots import can_vanish
from .structural_analysis import describe_singularity
from .tearing import has_newton_solve, newton_nodes, solve_linear, torn_newton

__all__ = ["dae_to_ode"]


def dae_to_ode(system: System) -> System:
    """The explicit ODE system of an index-reduced implicit one (module docstring:
    matching, block ordering, solving each block, states), with consistent
    initial values."""
    if not any(e.kind == "implicit" for e in system.equations):
        return system
    incidence = incidence_graph(system)
    implicit = incidence.equations
    rows = [i for i, e in enumerate(implicit) if not e.target.startswith(CONSTRAINT)]
    active = [implicit[i] for i in rows]
    constraints = [e for e in implicit if e.target.startswith(CONSTRAINT)]
    variables = {v.symbol: v for v in system.variables}

    # Unknowns: highest derivatives and algebraic variables.
    unknowns = list(incidence.highest_derivatives)
    highest = {v.symbol: derivative_order(s) for v, s in zip(system.variables, unknowns)}
    position = {s: j for j, s in enumerate(unknowns)}
    graph = incidence.rows(unknowns, equations=rows)
    match_var = maximum_matching(graph)
    if len(match_var) != len(active) or len(active) != len(unknowns):
        raise describe_singularity(system, active, unknowns, match_var, graph)
    match_eq = {e: v for v, e in match_var.items()}

    # Block lower triangular order.
    depends = [[match_var[j] for j in graph[i] if j != match_eq[i]] for i in range(len(active))]
    blocks = strong_components(depends)

    solved: dict[sp.Symbol, sp.Expr] = {}
    order: list[sp.Symbol] = []
    constants = {p.symbol for p in system.parameters}
    pivots: list[Pivot] = []  # divisors that may vanish during a solve (pivots.py)
    for block in blocks:
        syms = [unknowns[match_eq[i]] for i in block]
        guesses = [variables[s].initial if s in variables and
                   variables[s].initial is not None else sp.Integer(0) for s in syms]
        eqs = [active[i] for i in block]
        values, divisor = _solve_block(eqs, syms, guesses, solved, constants)
        solved.update(values)
        if divisor is not None and can_vanish(divisor, constants):
            pivots.append(Pivot(divisor, tuple(state_name(s) for s in syms),
                                eqs[0].spans[0] if eqs[0].spans else None))
        order += syms

    # The final variables: states (with derivative states) and algebraics.
    rename: dict[sp.Symbol, sp.Symbol] = {}
    new_vars: list[Variable] = []
    equations: list[Equation] = []
    for v in system.variables:
        s = v.symbol
        for k in range(1, highest[v.symbol]):
            s = der_symbol(s)
            rename[s] = sp.Symbol(state_name(s), real=True)
    for v in system.variables:
        n = highest[v.symbol]
        s = v.symbol
        if n == 0:
            continue
        chain = [s]
        for _ in range(n):
            chain.append(der_symbol(chain[-1]))
        for k in range(n):
            here, nxt = chain[k], chain[k + 1]
            var = v if k == 0 else Variable(state_name(here), rename[here], (), None,
                                            f"derivative of {v.name}", v.span)
            new_vars.append(var)
            rhs = rename.get(nxt, nxt) if k < n - 1 else solved[nxt]
            equations.append(Equation("ode", var.name, rhs, v_spans(system, v)))
    for s in order:
        if s in position and highest.get(s, -1) == 0:
            v = variables[s]
            new_vars.append(v)
            equations.append(Equation("algebraic", v.name, solved[s], v_spans(system, v)))
        elif is_der(s):
            var = Variable(state_name(s), sp.Symbol(state_name(s), real=True), (), None,
                           f"derivative of {base_variable(s).name}",
                           variables[base_variable(s)].span)
            rename[s] = var.symbol
            new_vars.append(var)
            equations.append(Equation("algebraic", var.name, solved[s],
                                      v_spans(system, variables[base_variable(s)])))
    equations = [dataclasses.replace(e, rhs=e.rhs.xreplace(rename)) for e in equations]
    out = dataclasses.replace(
        system, variables=tuple(new_vars), equations=tuple(
            [e for e in system.equations if e.kind != "implicit"] + equations))
    out = dataclasses.replace(
        out, invariants=_invariants(out, constraints, solved, rename),
        pivots=tuple(dataclasses.replace(p, expr=p.expr.xreplace(rename)) for p in pivots))
    return initialize(out, constraints=constraints, solved=solved, rename=rename)


def _invariants(system: System, constraints, solved, rename) -> tuple[sp.Expr, ...]:
    """The constraints as functions of the states, parameters and time: each must
    stay zero along the solution, which the integrator alone does not ensure (the
    reduced ODE only holds their highest derivative). Those that vanish identically
    once the solved unknowns are put in (a dummy derivative made them active) or
    that hold no state are left out."""
    states = {v.symbol for v in system.states}
    out = []
    for c in constraints:
        g = c.rhs.xreplace(solved).xreplace(rename)
        if g.is_polynomial():
            g = sp.expand(g)
        if g == 0 or not (g.free_symbols & states):
            continue
        out.append(g)
    return tuple(out)


def v_spans(system: System, v: Variable):
    return (v.span,)


def _solve_block(eqs: list[Equation], syms: list[sp.Symbol], guesses: list[sp.Expr],
                 solved: dict[sp.Symbol, sp.Expr], constants: set[sp.Symbol]
                 ) -> tuple[dict[sp.Symbol, sp.Expr], sp.Expr | None]:
    """The unknowns `syms` of one block from its equations, the earlier blocks'
    `solved` values put in, and the divisor of a symbolic solve (or None): one
    equation solved for its unknown, a linear loop symbolically, anything else by a
    Newton solve in the right-hand side (a nonlinear loop torn first)."""
    if len(eqs) == 1:
        value, divisor = _solve_one(eqs[0].rhs, syms[0], eqs[0], solved)
        if value is None:
            value = newton_nodes([eqs[0].rhs.xreplace(solved)], syms, guesses)[syms[0]]
        return {syms[0]: value}, divisor
    residuals = [e.rhs.xreplace(solved) for e in eqs]
    linear = solve_linear(residuals, syms, eqs, constants=constants)
    if linear is None:
        return torn_newton(residuals, syms, guesses), None
    return linear


def _solve_one(original: sp.Expr, unknown: sp.Symbol, eq: Equation,
               solved: dict[sp.Symbol, sp.Expr]) -> tuple[sp.Expr | None, sp.Expr | None]:
    """`unknown` from `0 = original` with the earlier blocks' `solved` values put in
    (None: not explicitly solvable), and the coefficient divided by when it was
    solved as a linear equation.

    Linearity is read from the equation as written (small), before the solved
    values (which never contain `unknown`: they come from earlier blocks) go in;
    differentiating the substituted residual costs far more on large models."""
    b, rest = original.as_independent(unknown, as_Add=True)
    a, factor = rest.as_independent(unknown, as_Add=False)
    if factor == unknown and a != 0:  # the common case, without `diff` (slow)
        a = a.xreplace(solved)
        return -b.xreplace(solved) / a, a
    a = sp.diff(original, unknown)
    residual = original.xreplace(solved)
    if not a.has(unknown):
        a = a.xreplace(solved)
        if a == 0:
            raise SymflowError(f"this equation does not determine '{state_name(unknown)}'",
                               eq.spans[0])
        b = original.xreplace({unknown: 0}).xreplace(solved)
        # No sp.simplify: it costs ~0.2 s an equation (minutes on a large model).
        return -b / a, a
    if has_newton_solve(residual):
        return None, None
    try:
        solutions = sp.solve(residual, unknown, dict=False)
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        solutions = []
    if len(solutions) == 1:
        return solutions[0], None
    return None, None  # not explicitly solvable: a Newton solve in the right-hand side
