"""Algebraic loops: the blocks of several equations that `dae_to_ode` solves together.

A loop linear in its unknowns is solved symbolically (`solve_linear`, without a
divisor that vanishes where the loop is regular: `pivots.py`); any other is torn
(`torn_newton`):
Newton iterates only on the tearing variables and the loop's other unknowns are
explicit expressions of them. A Newton solve is a `NewtonSolve` node per unknown
(`newton_nodes`), which codegen prints as an optimistix Newton solve inside the
right-hand side (differentiable by the implicit function theorem; its linear
solves pivot at run time); consistent initialization uses it too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ...errors import SymflowError
from ...symbolic import Equation, NewtonSolve
from .graph import state_name
from .pivots import (
    COMMON_DENOMINATOR_MAX_OPS,
    CRAMER_MAX,
    can_vanish,
    linear_pivots,
    solve_by_determinant,
)

__all__ = ["newton_nodes", "torn_newton", "solve_linear", "has_newton_solve"]


def has_newton_solve(expr: sp.Expr) -> bool:
    """Whether `expr` holds a Newton solve (an unknown of an earlier loop)."""
    return expr.has(NewtonSolve)


def newton_nodes(residuals: Sequence[sp.Expr], syms: Sequence[sp.Symbol],
                 guesses: Sequence[sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
    """Each unknown of a nonlinear loop as a `NewtonSolve` node."""
    bound = [sp.Dummy(state_name(s).replace(".", "_")) for s in syms]
    loop = sp.Tuple(*(r.xreplace(dict(zip(syms, bound))) for r in residuals))
    guess = sp.Tuple(*guesses)
    return {s: NewtonSolve(sp.Integer(k), sp.Tuple(*bound), loop, guess)
            for k, s in enumerate(syms)}


def torn_newton(residuals: Sequence[sp.Expr], syms: Sequence[sp.Symbol],
                guesses: Sequence[sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
    """A nonlinear loop, torn: Newton iterates only on the tearing variables.

    Greedy tearing (as in Elmqvist & Otter 1994): repeatedly take an equation in
    which exactly one unknown is neither solved nor torn, and solve it for that
    unknown when it appears linearly with a coefficient free of the loop's
    unknowns; when no equation qualifies, make the unknown that appears in the
    most remaining equations a tearing variable. The equations not used to
    solve are the residuals of a Newton solve in the tearing variables alone;
    the solved unknowns are explicit expressions of them. Falls back to Newton
    on every unknown when the counts do not match (a singular tearing)."""
    unknowns = set(syms)
    remaining = list(range(len(residuals)))
    solved: dict[sp.Symbol, sp.Expr] = {}
    torn: list[sp.Symbol] = []
    while remaining:
        progress = False
        for i in remaining:
            r = residuals[i]
            free = [u for u in r.free_symbols & unknowns if u not in solved and u not in torn]
            if len(free) != 1:
                continue
            u = free[0]
            b, rest = r.as_independent(u, as_Add=True)
            a, factor = rest.as_independent(u, as_Add=False)
            if factor != u or a == 0 or a.free_symbols & unknowns:
                continue
            solved[u] = -b / a
            remaining.remove(i)
            progress = True
            break
        if not progress:
            open_ = [u for u in syms if u not in solved and u not in torn]
            if not open_:
                break
            count = {u: sum(1 for i in remaining if u in residuals[i].free_symbols)
                     for u in open_}
            torn.append(max(open_, key=lambda u: (count[u], -syms.index(u))))
    if len(torn) != len(remaining) or not torn or len(torn) == len(syms):
        return newton_nodes(residuals, syms, guesses)
    order = list(solved)  # each solved value uses tearing variables and earlier ones
    explicit: dict[sp.Symbol, sp.Expr] = {}
    for u in order:
        explicit[u] = solved[u].xreplace(explicit)
    loop = [residuals[i].xreplace(explicit) for i in remaining]
    guess_of = dict(zip(syms, guesses))
    values = newton_nodes(loop, torn, [guess_of[u] for u in torn])
    values.update({u: e.xreplace(values) for u, e in explicit.items()})
    return values


def solve_linear(residuals: Sequence[sp.Expr], syms: Sequence[sp.Symbol],
                 eqs: Sequence[Equation], *, constants: set[sp.Symbol]
                 ) -> tuple[dict[sp.Symbol, sp.Expr], sp.Expr | None] | None:
    """The unknowns `syms` of a loop linear in them, and a divisor that may vanish
    during the solve (where the loop is singular) or None; `None` for a loop left to
    a Newton solve in the right-hand side: a nonlinear one, or one too large to put
    over a common denominator (its linear solves pivot at run time).

    The symbolic LU solve divides by its pivots; when they hold only numbers and
    `constants` (parameters) they are fixed for the whole solve. Otherwise a pivot
    may vanish where the loop is regular (`sin(w*t)` at t = 0 with another row to
    pivot on): the solution is then written with one denominator, which vanishes
    only where the loop is singular (the determinant's formula for a small loop,
    the LU solution's reduced fractions for a larger one)."""
    jac = sp.Matrix([[sp.diff(r, s) for s in syms] for r in residuals])
    if any(entry.has(*syms) for entry in jac):
        return None  # nonlinear: a Newton solve in the right-hand side
    rest = sp.Matrix([r.xreplace({s: 0 for s in syms}) for r in residuals])
    varying = any(can_vanish(entry, constants) for entry in jac if entry != 0) and any(
        can_vanish(p, constants) for p in linear_pivots(jac))
    if varying and len(syms) <= CRAMER_MAX:
        values, det = solve_by_determinant(jac, -rest)
        if det == 0:
            raise SymflowError("this algebraic loop is singular", eqs[0].spans[0])
        return dict(zip(syms, values)), det if can_vanish(det, constants) else None
    try:
        solved = jac.LUsolve(-rest)
    except ValueError:
        raise SymflowError("this algebraic loop is singular", eqs[0].spans[0]) from None
    if not varying:
        return {s: sp.cancel(x) if x.count_ops() < 60 else x
                for s, x in zip(syms, solved)}, None
    if any(x.count_ops() > COMMON_DENOMINATOR_MAX_OPS for x in solved):
        return None
    values = [sp.cancel(x) for x in solved]
    divisors = [sp.denom(x) for x in values if can_vanish(sp.denom(x), constants)]
    return dict(zip(syms, values)), divisors[0] if divisors else None
