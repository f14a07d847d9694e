"""PDE fields on grids: the array nodes of space.

A field `u(x)` (on the grid of a `symflow.symbolic.Dimension`) is one array-valued
symbol of length `points` (never one symbol per grid point). Three nodes describe space:

- `Coordinate(lower, upper, points, periodic)`: the grid of a dimension, an
  array (`jnp.linspace`, or `points` cells without the right end if periodic);
- `Diff(u, x, k)`: the `k`-th derivative of the field `u` along the dimension
  named `x`, left by the build stage for the discretization pass to replace;
- `Shift(a, s)`: the array `a` read `s` places to the right, cyclically
  (`jnp.roll(a, -s)`): a periodic stencil is a sum of shifts.

Non-periodic stencils are sums of `Part` slices and `Concat` pieces (see
`symflow/passes/discretization/`), so the code printed for a grid of a
million points is as long as for ten.
"""

from __future__ import annotations

import sympy as sp

from .arrays import ArrayFunction, shape_of

__all__ = ["Coordinate", "Diff", "Shift", "GridView",
           "Flatten", "AxisSlice", "AxisConcat", "AxisShift", "MeshCoordinate"]


class Coordinate(ArrayFunction):
    """`Coordinate(lower, upper, points, periodic)`: the grid points of a dimension."""

    nargs = 4

    def _symflow_shape(self, shapes):
        return (int(self.args[2]),)

    def _sympystr(self, printer):
        lo, hi, n, periodic = self.args
        return f"grid({float(lo):g}, {float(hi):g}, {int(n)}{', periodic' if periodic else ''})"


class Diff(ArrayFunction):
    """`Diff(u, x, k)`: the `k`-th derivative of field `u` along the dimension `x`
    (a Symbol named after it). Only the discretization pass gives it a value."""

    nargs = 3

    def _symflow_shape(self, shapes):
        return shape_of(self.args[0], shapes)

    def _sympystr(self, printer):
        u, x, k = self.args
        order = "" if int(k) == 1 else f", {int(k)}"
        return f"diff({printer._print(u)}, {printer._print(x)}{order})"

    def _latex(self, printer):
        u, x, k = self.args
        power = "" if int(k) == 1 else f"^{{{int(k)}}}"
        numerator = rf"\partial{power} {printer._print(u)}"
        return rf"\frac{{{numerator}}}{{\partial {printer._print(x)}{power}}}"


class Shift(ArrayFunction):
    """`Shift(a, s)`: element `i` is `a[(i + s) mod n]` (a periodic neighbour)."""

    nargs = 2

    def _symflow_shape(self, shapes):
        return shape_of(self.args[0], shapes)

    def _sympystr(self, printer):
        return f"shift({printer._print(self.args[0])}, {int(self.args[1])})"


# ---------------------------------------------------------------- grids of 2 and 3 dimensions
#
# A field on a grid of shape (n0, n1[, n2]) is stored flat, as one array symbol of
# n0*n1*n2 values (x-major, like `jnp.ravel`), so that every stage after the build
# (the state vector, codegen, solvers) sees the 1-D arrays it knows. The
# discretization pass views it as a grid (`GridView`), differences it with slices
# along one axis (`AxisSlice`, `AxisConcat`, `AxisShift`) and flattens the result
# (`Flatten`). Each node prints itself as one `jnp` expression (`_jaxcode`, the
# print method of SymPy's JAX printer), so the code is as long for 512x512 points
# as for 8x8.


def _shape_args(shape) -> sp.Tuple:
    return sp.Tuple(*(sp.Integer(n) for n in shape))


def _index(axis: int, ndim: int, text: str) -> str:
    return "[" + ", ".join([":"] * axis + [text] + [":"] * (ndim - axis - 1)) + "]"


class GridView(ArrayFunction):
    """`GridView(a, (n0, n1, ...))`: the flat array `a` (or a scalar, broadcast) as a grid."""

    nargs = 2

    @classmethod
    def eval(cls, array, shape):
        if isinstance(array, Flatten):  # the pass never flattens one shape to view another
            return array.args[0]
        return None

    def _symflow_shape(self, shapes):
        return tuple(int(n) for n in self.args[1])

    def _jaxcode(self, printer):
        shape = tuple(int(n) for n in self.args[1])
        code = printer._print(self.args[0])
        if shape_of(self.args[0], getattr(printer, "shapes", {})) == ():
            return f"jnp.broadcast_to({code}, {shape!r})"
        return f"jnp.reshape({code}, {shape!r})"

    def _sympystr(self, printer):
        return f"grid({printer._print(self.args[0])})"


class Flatten(ArrayFunction):
    """`Flatten(e)`: the grid-shaped `e` as a flat array (`jnp.ravel`)."""

    nargs = 1

    def _symflow_shape(self, shapes):
        import math

        return (math.prod(shape_of(self.args[0], shapes)),)

    def _jaxcode(self, printer):
        return f"jnp.ravel({printer._print(self.args[0])})"

    def _sympystr(self, printer):
        return f"flat({printer._print(self.args[0])})"


class AxisSlice(ArrayFunction):
    """`AxisSlice(a, axis, start, stop)`: `a[start:stop]` along `axis` (others whole)."""

    nargs = 4

    def _symflow_shape(self, shapes):
        shape = list(shape_of(self.args[0], shapes))
        shape[int(self.args[1])] = int(self.args[3]) - int(self.args[2])
        return tuple(shape)

    def _jaxcode(self, printer):
        a, axis, start, stop = self.args
        ndim = len(shape_of(a, getattr(printer, "shapes", {})))
        code = printer._print(a)
        code = code if isinstance(a, sp.Symbol) else f"({code})"
        return code + _index(int(axis), ndim, f"{int(start)}:{int(stop)}")

    def _sympystr(self, printer):
        a, axis, start, stop = self.args
        return f"{printer._print(a)}[{int(start)}:{int(stop)} along {int(axis)}]"


class AxisConcat(ArrayFunction):
    """`AxisConcat(axis, (n0, n1, ...), k0, e0, k1, e1, ...)`: pieces of `k_i` layers laid
    end to end along `axis` into an array of the given shape; a scalar piece is
    broadcast to its layers."""

    def pieces(self) -> list[tuple[int, sp.Expr]]:
        rest = self.args[2:]
        return [(int(n), e) for n, e in zip(rest[::2], rest[1::2])]

    def _symflow_shape(self, shapes):
        return tuple(int(n) for n in self.args[1])

    def _jaxcode(self, printer):
        axis = int(self.args[0])
        shape = [int(n) for n in self.args[1]]
        parts = []
        for length, piece in self.pieces():
            code = printer._print(piece)
            if shape_of(piece, getattr(printer, "shapes", {})) != tuple(
                    length if i == axis else n for i, n in enumerate(shape)):
                target = tuple(length if i == axis else n for i, n in enumerate(shape))
                code = f"jnp.broadcast_to({code}, {target!r})"
            parts.append(code)
        return f"jnp.concatenate([{', '.join(parts)}], axis={axis})"

    def _sympystr(self, printer):
        return (f"concat_{int(self.args[0])}("
                + ", ".join(printer._print(e) for _, e in self.pieces()) + ")")


class AxisShift(ArrayFunction):
    """`AxisShift(a, axis, s)`: element `i` along `axis` is `a[(i + s) mod n]`."""

    nargs = 3

    def _symflow_shape(self, shapes):
        return shape_of(self.args[0], shapes)

    def _jaxcode(self, printer):
        a, axis, s = self.args
        return f"jnp.roll({printer._print(a)}, {-int(s)}, axis={int(axis)})"

    def _sympystr(self, printer):
        a, axis, s = self.args
        return f"shift({printer._print(a)}, {int(s)} along {int(axis)})"


class MeshCoordinate(ArrayFunction):
    """`MeshCoordinate(axis, lower, upper, periodic, (n0, n1, ...), flat)`: the values of
    the coordinate of `axis` at every grid point, as a grid (`flat = 0`) or raveled
    (`flat = 1`, how equations see a coordinate of a 2-D or 3-D domain)."""

    nargs = 6

    def _symflow_shape(self, shapes):
        import math

        shape = tuple(int(n) for n in self.args[4])
        return (math.prod(shape),) if self.args[5] else shape

    def grid_form(self) -> "MeshCoordinate":
        return MeshCoordinate(*self.args[:5], sp.Integer(0))

    def _jaxcode(self, printer):
        axis, lo, hi, periodic, shape, flat = self.args
        axis, lo, hi = int(axis), float(lo), float(hi)
        shape = tuple(int(n) for n in shape)
        n = shape[axis]
        line = (f"({lo!r} + {(hi - lo) / n!r}*jnp.arange({n}, dtype=float))" if periodic
                else f"jnp.linspace({lo!r}, {hi!r}, {n})")
        view = tuple(n if i == axis else 1 for i in range(len(shape)))
        code = f"jnp.broadcast_to(jnp.reshape({line}, {view!r}), {shape!r})"
        return f"jnp.ravel({code})" if flat else code

    def _sympystr(self, printer):
        return f"mesh{int(self.args[0])}({float(self.args[1]):g}, {float(self.args[2]):g})"
