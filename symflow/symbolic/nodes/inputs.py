"""The node of an input read from a table (`inputs` section) in equations.

An input `F = table("forcing.csv", ...)` is `TableInput(Str("F"), Str(kind),
Str(extrapolation), Integer(0), t)` wherever the model uses `F`: a function of
time whose table (the knots and the values) lives in the `System` (`Input`) and,
after codegen, in the generated module and the parameter dict. It differentiates
in time symbolically (`Integer(1)`, `Integer(2)`, ...: the derivative of the
interpolant, which index reduction of a DAE and a time-dependent Dirichlet
boundary need); codegen prints it as a call of `symflow.runtime.interpolate`.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["TableInput", "table_inputs_in"]


class TableInput(sp.Function):
    """`TableInput(Str(name), Str(kind), Str(extrapolation), Integer(order), time)`: the
    `order`-th time derivative of input `name` at `time`, interpolated `kind`."""

    nargs = 5
    is_commutative = True
    is_number = False
    is_real = True

    @property
    def name(self) -> str:
        return str(self.args[0])

    @property
    def kind(self) -> str:
        return str(self.args[1])

    @property
    def extrapolation(self) -> str:
        return str(self.args[2])

    @property
    def order(self) -> int:
        return int(self.args[3])

    @property
    def time(self) -> sp.Expr:
        return self.args[4]

    def fdiff(self, argindex=5):
        if argindex != 5:
            raise TypeError("an input is differentiated only in time")
        name, kind, extrapolation, order, _ = self.args
        return TableInput(name, kind, extrapolation, sp.Integer(int(order) + 1), self.time)

    def _eval_derivative(self, s):
        # the chain rule through the time argument only (the others are labels)
        inner = self.time.diff(s)
        return sp.Integer(0) if inner == 0 else inner * self.fdiff(5)

    def _symflow_shape(self, shapes):
        return ()

    def _sympystr(self, printer):
        return f"{self.name}{chr(39) * self.order}({printer._print(self.time)})"

    def _latex(self, printer):
        primes = "'" * self.order
        return rf"\mathrm{{{self.name}}}{primes}\left({printer._print(self.time)}\right)"


def table_inputs_in(expr: sp.Basic) -> set[TableInput]:
    """Every input node in `expr`."""
    return set(expr.atoms(TableInput))
