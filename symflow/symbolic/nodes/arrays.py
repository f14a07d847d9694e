"""Array-valued SymPy nodes: a whole array variable is one symbol.

An array variable `x[n]` is a single `sympy.Symbol`; arithmetic on it is
element-wise (SymPy's scalar algebra is exactly right for that). The nodes here
add what scalar algebra lacks: indexing, slicing, reductions, literals and
assembly from pieces. Codegen prints each as one `jnp` expression, so code size
never grows with the array length.

`shape_of` gives the shape of any expression built from these nodes.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

__all__ = ["ArrayFunction", "Element", "Part", "ArraySum", "ArrayExtreme", "Dot", "Stack",
           "Fill", "Concat", "broadcast_shapes", "shape_of"]


class ArrayFunction(sp.Function):
    """Base of every array-valued node (here, in `fields.py`, and the spectral nodes of
    the discretization): never evaluated away, never differentiated blindly.

    A subclass that is not shaped like its first argument gives its shape with
    `_symflow_shape(self, shapes) -> tuple[int, ...]` (`shapes`: the shape of each
    array symbol), which `shape_of` calls. Passes recognize array nodes by
    `isinstance(expr, ArrayFunction)`: element-wise rewriting must not reach into
    them.
    """

    is_commutative = True
    is_number = False  # an array node is never a plain number (SymPy would compare it)

    def fdiff(self, argindex=1):  # pragma: no cover - reached only by misuse
        raise TypeError(f"{type(self).__name__} cannot be differentiated symbolically")


class Element(ArrayFunction):
    """`Element(x, i)` is `x[i]` (0-based, `i` a non-negative integer)."""

    nargs = 2

    @classmethod
    def eval(cls, array, index):
        if isinstance(array, Stack) and index.is_Integer:
            return array.args[int(index)]
        if isinstance(array, Fill):
            return array.args[0]
        if isinstance(array, Concat) and index.is_Integer:
            return _concat_pick(array, int(index))
        return None

    def _sympystr(self, printer):
        return f"{printer._print(self.args[0])}[{printer._print(self.args[1])}]"

    def _latex(self, printer):
        return f"{printer._print(self.args[0])}_{{{printer._print(self.args[1])}}}"


class Part(ArrayFunction):
    """`Part(x, start, stop)` is the slice `x[start:stop]` (integers, stop exclusive)."""

    nargs = 3

    def _sympystr(self, printer):
        a, start, stop = self.args
        return f"{printer._print(a)}[{start}:{stop}]"

    def _latex(self, printer):
        a, start, stop = self.args
        return f"{printer._print(a)}_{{{start}:{stop}}}"


class ArraySum(ArrayFunction):
    """The sum of all elements of an array expression."""

    nargs = 1

    def _sympystr(self, printer):
        return f"sum({printer._print(self.args[0])})"

    def _latex(self, printer):
        return rf"\sum {printer._print(self.args[0])}"


class ArrayExtreme(ArrayFunction):
    """The largest (`max(x)`, `largest = 1`) or smallest (`min(x)`, `largest = 0`)
    element of an array expression: a field's maximum in an event's condition."""

    nargs = 2

    def _sympystr(self, printer):
        return f"{'max' if self.args[1] else 'min'}({printer._print(self.args[0])})"

    def _latex(self, printer):
        return rf"\{'max' if self.args[1] else 'min'} {printer._print(self.args[0])}"


class Dot(ArrayFunction):
    """The dot product of two arrays of equal length."""

    nargs = 2

    def _sympystr(self, printer):
        return f"dot({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _latex(self, printer):
        return rf"{printer._print(self.args[0])} \cdot {printer._print(self.args[1])}"


class Stack(ArrayFunction):
    """An array literal `[a, b, c]` of scalar expressions."""

    def _sympystr(self, printer):
        return "[" + ", ".join(printer._print(a) for a in self.args) + "]"

    def _latex(self, printer):
        return r"\left[" + ", ".join(printer._print(a) for a in self.args) + r"\right]"


class Fill(ArrayFunction):
    """`Fill(e, n)`: the scalar `e` repeated `n` times."""

    nargs = 2

    def _sympystr(self, printer):
        return f"fill({printer._print(self.args[0])}, {self.args[1]})"


class Concat(ArrayFunction):
    """Pieces laid end to end: how an array defined by several equations is assembled.

    The arguments alternate lengths and pieces, `Concat(n0, e0, n1, e1, ...)`;
    a piece of length 1 may be a scalar expression.
    """

    def pieces(self) -> list[tuple[int, sp.Expr]]:
        return [(int(n), e) for n, e in zip(self.args[::2], self.args[1::2])]

    def _sympystr(self, printer):
        return "concat(" + ", ".join(printer._print(e) for _, e in self.pieces()) + ")"


def shape_of(expr: sp.Basic, shapes: Mapping[sp.Symbol, tuple[int, ...]]) -> tuple[int, ...]:
    """The shape of `expr`, given the shapes of its array symbols (others are scalars).

    Raises `ValueError` when element-wise operands have different lengths.
    """
    if isinstance(expr, sp.Symbol):
        return shapes.get(expr, ())
    if hasattr(expr, "_symflow_shape"):  # the field nodes of fields.py, and others
        return expr._symflow_shape(shapes)
    if isinstance(expr, (Element, ArraySum, ArrayExtreme, Dot)):
        return ()
    if isinstance(expr, Part):
        return (int(expr.args[2]) - int(expr.args[1]),)
    if isinstance(expr, Stack):
        return (len(expr.args),)
    if isinstance(expr, Fill):
        return (int(expr.args[1]),)
    if isinstance(expr, Concat):
        return (sum(n for n, _ in expr.pieces()),)
    if isinstance(expr, sp.Piecewise):
        parts = [shape_of(e, shapes) for e, c in expr.args]
        parts += [shape_of(c, shapes) for e, c in expr.args if c is not sp.true]
        return broadcast_shapes(parts)
    if not expr.args:
        return ()
    return broadcast_shapes([shape_of(a, shapes) for a in expr.args])


def broadcast_shapes(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    """Element-wise operands: all arrays must have one length; scalars broadcast."""
    found: tuple[int, ...] = ()
    for shape in shapes:
        if shape == ():
            continue
        if found and shape != found:
            raise ValueError(f"arrays of different lengths: {found[0]} and {shape[0]}")
        found = shape
    return found


def _concat_pick(concat: Concat, index: int) -> sp.Expr:
    """`Element(Concat(...), i)` simplified to element `i` of the piece holding it."""
    offset = 0
    for length, piece in concat.pieces():
        if index < offset + length:
            if length == 1 and not isinstance(piece, (Part, Fill, Stack)):
                return piece  # a scalar piece
            return Element(piece, sp.Integer(index - offset))
        offset += length
    raise IndexError(index)
