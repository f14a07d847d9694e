"""PDE fields on grids: the domain, boundary conditions, and the array nodes of space.

A field `u(x)` is one array-valued symbol of length `points` (never one symbol
per grid point). Three nodes describe space:

- `Coordinate(lower, upper, points, periodic)`: the grid of a dimension, an
  array (`jnp.linspace`, or `points` cells without the right end if periodic);
- `Diff(u, x, k)`: the `k`-th derivative of the field `u` along the dimension
  named `x`, left by the build stage for the discretization pass to replace;
- `Shift(a, s)`: the array `a` read `s` places to the right, cyclically
  (`jnp.roll(a, -s)`): a periodic stencil is a sum of shifts.

Non-periodic stencils are sums of `Part` slices and `Concat` pieces (see
`symflow/passes/discretization.py`), so the code printed for a grid of a
million points is as long as for ten.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import sympy as sp

from ..errors import Span
from ._arrays import _ArrayFunction


__all__ = ["Dimension", "BoundaryCondition", "Coordinate", "Diff", "Shift"]


@dataclasses.dataclass(frozen=True)
class Dimension:
    """A space dimension: `name in [lower, upper], points = n[, periodic]`.

    A non-periodic grid holds both ends (spacing `(upper - lower)/(points - 1)`);
    a periodic one holds `points` cells of a period `upper - lower` and omits the
    right end, which is the left end again.
    """

    name: str
    lower: float
    upper: float
    points: int
    periodic: bool
    span: Span

    @property
    def spacing(self) -> float:
        cells = self.points if self.periodic else self.points - 1
        return (self.upper - self.lower) / cells

    @property
    def coordinate(self) -> "Coordinate":
        return Coordinate(sp.Float(self.lower), sp.Float(self.upper), sp.Integer(self.points),
                          sp.Integer(int(self.periodic)))

    def grid(self):
        """The grid points as a NumPy array."""
        import numpy as np

        if self.periodic:
            return self.lower + self.spacing * np.arange(self.points)
        return np.linspace(self.lower, self.upper, self.points)


@dataclasses.dataclass(frozen=True)
class BoundaryCondition:
    """A condition on one side of one field.

    `kind == "dirichlet"`: u = value; `"neumann"`: du/dx = value; `"robin"`:
    du/dx + coefficient*u = value. The derivative is along the coordinate (not
    the outward normal). `value` and `coefficient` are expressions of `t` and
    parameters. `side` is 0 for the lower end of the dimension, 1 for the upper.
    """

    field: str
    dimension: str
    side: Literal[0, 1]
    kind: Literal["dirichlet", "neumann", "robin"]
    value: sp.Expr
    coefficient: sp.Expr
    span: Span


class Coordinate(_ArrayFunction):
    """`Coordinate(lower, upper, points, periodic)`: the grid points of a dimension."""

    nargs = 4

    def _symflow_shape(self, shapes):
        return (int(self.args[2]),)

    def _sympystr(self, printer):
        lo, hi, n, periodic = self.args
        return f"grid({float(lo):g}, {float(hi):g}, {int(n)}{', periodic' if periodic else ''})"


class Diff(_ArrayFunction):
    """`Diff(u, x, k)`: the `k`-th derivative of field `u` along the dimension `x`
    (a Symbol named after it). Only the discretization pass gives it a value."""

    nargs = 3

    def _symflow_shape(self, shapes):
        from ._arrays import shape_of

        return shape_of(self.args[0], shapes)

    def _sympystr(self, printer):
        u, x, k = self.args
        order = "" if int(k) == 1 else f", {int(k)}"
        return f"diff({printer._print(u)}, {printer._print(x)}{order})"

    def _latex(self, printer):
        u, x, k = self.args
        power = "" if int(k) == 1 else f"^{{{int(k)}}}"
        return rf"\frac{{\partial{power} {printer._print(u)}}}{{\partial {printer._print(x)}{power}}}"


class Shift(_ArrayFunction):
    """`Shift(a, s)`: element `i` is `a[(i + s) mod n]` (a periodic neighbour)."""

    nargs = 2

    def _symflow_shape(self, shapes):
        from ._arrays import shape_of

        return shape_of(self.args[0], shapes)

    def _sympystr(self, printer):
        return f"shift({printer._print(self.args[0])}, {int(self.args[1])})"
