"""Divisors of symbolic solves that may pass through zero while the model is solved.

Solving `a * u + b = 0` for `u` divides by `a`. When `a` holds only numbers and
parameters it is fixed for the whole solve; when it holds time or the states
(`sin(w*t)`, `x`) it can vanish at some instant, and then

- in a block of several linear equations, the symbolic elimination may have chosen
  a divisor that vanishes although the block is regular there (a different pivot
  would do): such blocks are written with one denominator, which vanishes only
  where the block is singular (the determinant's formula for a small block, the
  reduced fractions of the LU solution for a larger one), or solved numerically,
  pivoting at run time, when that would take too long;
- in a block of one equation there is no other choice: the model itself is
  singular where `a` vanishes. The divisor is kept as a `Pivot`, so a failed solve
  can name the equation and the time, rather than the symptom.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["COMMON_DENOMINATOR_MAX_OPS", "CRAMER_MAX", "can_vanish", "linear_pivots",
           "solve_by_determinant"]

# The largest linear block solved by the determinant's formula (its adjugate has
# n! terms); a larger block whose pivots may vanish gets its LU solution over
# common denominators, or a numerical solve (`COMMON_DENOMINATOR_MAX_OPS`).
CRAMER_MAX = 3
# A larger loop whose pivots may vanish is put over common denominators when its LU
# solution is at most this large, and solved numerically (pivoting at run time) when
# larger: cancelling the fractions of a large expression takes seconds.
COMMON_DENOMINATOR_MAX_OPS = 2000
# A determinant this small is simplified (a few milliseconds; rare: only loops whose
# pivots may vanish get here).
_SIMPLIFY_OPS = 40


def can_vanish(divisor: sp.Expr, constants: set[sp.Symbol]) -> bool:
    """Whether `divisor` may be zero at some instant of a solve: it holds something
    other than numbers and `constants` (time, states, unknowns of earlier blocks),
    and SymPy cannot show it nonzero (`1 + x**2` and `exp(x)` are, `sin(t)` is not)."""
    if divisor.is_number or not (divisor.free_symbols - constants):
        return False
    return divisor.is_nonzero is not True


def linear_pivots(jacobian: sp.Matrix) -> list[sp.Expr]:
    """The pivots a symbolic LU factorization of `jacobian` divides by."""
    _, upper, _ = jacobian.LUdecomposition()
    return [upper[k, k] for k in range(upper.rows)]


def solve_by_determinant(jacobian: sp.Matrix, rhs: sp.Matrix
                         ) -> tuple[list[sp.Expr], sp.Expr]:
    """The solution of `jacobian * u = rhs` as adjugate times `rhs` over the
    determinant (Cramer's rule), and the determinant: the only divisor, zero only
    where the block is singular."""
    det = sp.factor_terms(jacobian.det(method="berkowitz"))
    if det.count_ops() <= _SIMPLIFY_OPS:  # sin(t)**2 + cos(t)**2 is 1: no divisor at all
        det = sp.simplify(det)
    adjugate = jacobian.adjugate(method="berkowitz")
    return [sp.cancel((adjugate.row(i) * rhs)[0] / det) for i in range(jacobian.rows)], det

