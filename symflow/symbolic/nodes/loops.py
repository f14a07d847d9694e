"""Algebraic loops that stay implicit: solved by Newton inside the right-hand side.

`NewtonSolve(k, unknowns, residuals, guesses)` (three `Tuple`s) is the `k`-th
unknown of the solution of `residuals(unknowns) = 0`; the residuals may use
states, parameters and `t`, and the loop's own unknowns, which are `Dummy`
symbols local to the loop (codegen's CSE is told to leave them alone, so no
subexpression holding one is moved out of the loop). Codegen prints it as a
call of `symflow.solve.newton_solve`, an optimistix Newton root find that is
differentiable by the implicit function theorem.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["NewtonSolve", "loop_symbols"]


class NewtonSolve(sp.Function):
    """The `k`-th unknown of a nonlinear algebraic loop (see the module doc)."""

    nargs = 4
    is_real = True

    @property
    def unknowns(self) -> tuple[sp.Dummy, ...]:
        return tuple(self.args[1])

    @property
    def residuals(self) -> tuple[sp.Expr, ...]:
        return tuple(self.args[2])

    def _eval_evalf(self, prec):  # a number only once solved numerically
        return self

    def _eval_derivative(self, s):  # not needed by the passes; refuse clearly
        raise NotImplementedError("NewtonSolve has no symbolic derivative")


def loop_symbols(expr: sp.Basic) -> set[sp.Symbol]:
    """The bound unknowns of every loop in `expr` (for CSE to leave alone)."""
    out: set[sp.Symbol] = set()
    for node in expr.atoms(NewtonSolve):
        out |= set(node.unknowns)
    return out
