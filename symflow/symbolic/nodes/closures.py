"""The node of a neural closure's output in equations (see `symbolic/builder/closures.py`).

Each output of a closure `(U1, U2) = mlp(x, y)` is `ClosureOutput("U1", x, y)` in
the equations: the inputs stay inside, so every pass rewrites them like any other
subexpression, and codegen finds each network call in the final equations.
"""

from __future__ import annotations

import sympy as sp

from .arrays import broadcast_shapes, shape_of

__all__ = ["ClosureOutput", "closure_outputs_in"]


class ClosureOutput(sp.Function):
    """`ClosureOutput(Str(name), *inputs)`: output `name` of a closure at `inputs`.

    Its shape is that of the inputs broadcast together (a scalar, or a field's
    grid: the network is applied point-wise).
    """

    is_commutative = True
    is_number = False
    is_real = True

    @property
    def output(self) -> str:
        return str(self.args[0])

    @property
    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(self.args[1:])

    def fdiff(self, argindex=1):
        raise TypeError("a closure output has no symbolic derivative")

    def _symflow_shape(self, shapes):
        return broadcast_shapes([shape_of(a, shapes) for a in self.args[1:]])

    def _sympystr(self, printer):
        return f"{self.output}(" + ", ".join(printer._print(a) for a in self.inputs) + ")"

    def _latex(self, printer):
        args = ", ".join(printer._print(a) for a in self.inputs)
        return rf"\mathrm{{{self.output}}}\left({args}\right)"


def closure_outputs_in(expr: sp.Basic) -> set[ClosureOutput]:
    """Every closure output node in `expr` (nested ones included)."""
    return set(expr.atoms(ClosureOutput))
