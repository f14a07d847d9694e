"""The grid the method of lines works on: one dimension's slicing and assembling
(`Axis`), fields with their Dirichlet ends or faces replaced, and boundary
conditions laid onto their face.

A field stays one array symbol; on a domain of 2 or 3 dimensions it is stored
flat and differenced as a grid-shaped view (`GridView`, `Flatten`).
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...symbolic import (
    AxisConcat,
    AxisShift,
    AxisSlice,
    BoundaryCondition,
    Concat,
    Dimension,
    Element,
    Fill,
    Flatten,
    GridView,
    MeshCoordinate,
    Part,
    Shift,
    shape_of,
)

__all__ = ["Axis", "on_face", "flat", "with_faces", "with_ends", "as_array", "part_of"]


@dataclasses.dataclass(frozen=True)
class Axis:
    """Slicing and assembling along one dimension of the grid.

    On a 1-D grid these are `Part`, `Element`, `Concat` and `Shift` of the field
    array; on a grid of 2 or 3 dimensions the same along `axis` of the grid-shaped
    array (`AxisSlice`, ...), where a "point" is a plane (kept 1 thick, so it
    broadcasts against the other planes).
    """

    dim: Dimension
    axis: int
    shape: tuple[int, ...]

    @property
    def n(self) -> int:
        return self.dim.points

    @property
    def h(self) -> sp.Float:
        return sp.Float(self.dim.spacing)

    def part(self, a: sp.Expr, lo: int, hi: int) -> sp.Expr:
        if len(self.shape) == 1:
            return Part(a, sp.Integer(lo), sp.Integer(hi))
        return AxisSlice(a, sp.Integer(self.axis), sp.Integer(lo), sp.Integer(hi))

    def plane(self, a: sp.Expr, j: int) -> sp.Expr:
        if len(self.shape) == 1:
            return Element(a, sp.Integer(j))
        return AxisSlice(a, sp.Integer(self.axis), sp.Integer(j), sp.Integer(j + 1))

    def concat(self, pieces: list[sp.Expr]) -> sp.Expr:
        if len(self.shape) == 1:
            return Concat(*pieces)
        return AxisConcat(sp.Integer(self.axis), sp.Tuple(*map(sp.Integer, self.shape)),
                          *pieces)

    def shift(self, a: sp.Expr, s: int) -> sp.Expr:
        if len(self.shape) == 1:
            return Shift(a, sp.Integer(s))
        return AxisShift(a, sp.Integer(self.axis), sp.Integer(s))


def on_face(b: BoundaryCondition, axes: dict[str, Axis], constants) -> BoundaryCondition:
    """The condition `b` with constants folded and the coordinates along its face
    (`u = sin(pi*y) at x = 0`) replaced by their values there: the face of the
    grid-shaped coordinate, one point thick along the normal axis (so it lays onto
    the face and broadcasts against a plane of the field)."""
    ax = axes[b.dimension]
    end = 0 if b.side == 0 else ax.n - 1
    along = {}
    for name, other in axes.items():
        symbol = sp.Symbol(name, real=True)
        if other is ax or not (b.value.has(symbol) or b.coefficient.has(symbol)):
            continue
        d = other.dim
        mesh = MeshCoordinate(sp.Integer(other.axis), sp.Float(d.lower), sp.Float(d.upper),
                              sp.Integer(int(d.periodic)),
                              sp.Tuple(*map(sp.Integer, ax.shape)), sp.Integer(0))
        along[symbol] = ax.plane(mesh, end)
    return dataclasses.replace(b, value=b.value.xreplace(constants).xreplace(along),
                               coefficient=b.coefficient.xreplace(constants).xreplace(along))


def flat(expr: sp.Expr, gridded: bool) -> sp.Expr:
    return Flatten(expr) if gridded else expr


def with_faces(array: sp.Expr, shape: tuple[int, ...],
               faces: dict[tuple[int, int], sp.Expr], shapes=None) -> sp.Expr:
    """The field `array` with its Dirichlet faces `(axis, side) -> value` replaced.

    On a 1-D grid, `with_ends`. On a grid of 2 or 3 dimensions, the faces are
    laid on the grid view axis by axis, the last axis first, so that a point on
    two Dirichlet faces (an edge or corner) takes the value of the face of the
    first dimension in the domain's order: corners are decided once, the same
    way for the state, its time derivative and its initial value.
    """
    if len(shape) == 1:
        return with_ends(array, shape[0], {side: g for (_, side), g in faces.items()},
                         shapes)
    if not faces:
        return array
    grid = GridView(array, sp.Tuple(*map(sp.Integer, shape)))
    for axis in reversed(range(len(shape))):
        if not any(a == axis for a, _ in faces):
            continue
        n = shape[axis]
        lo = 1 if (axis, 0) in faces else 0
        hi = n - 1 if (axis, 1) in faces else n
        pieces: list[sp.Expr] = []
        if lo:
            pieces += [sp.Integer(1), faces[axis, 0]]
        pieces += [sp.Integer(hi - lo),
                   AxisSlice(grid, sp.Integer(axis), sp.Integer(lo), sp.Integer(hi))]
        if hi < n:
            pieces += [sp.Integer(1), faces[axis, 1]]
        grid = AxisConcat(sp.Integer(axis), sp.Tuple(*map(sp.Integer, shape)), *pieces)
    return Flatten(grid)


def as_array(expr: sp.Expr, n: int) -> sp.Expr:
    return Fill(expr, sp.Integer(n)) if shape_of(expr, {}) == () and not expr.free_symbols \
        else expr


def with_ends(array: sp.Expr, n: int, ends: dict[int, sp.Expr], shapes=None) -> sp.Expr:
    """`array` with element 0 (side 0) and/or element n-1 (side 1) replaced."""
    if not ends:
        return array
    lo = 1 if 0 in ends else 0
    hi = n - 1 if 1 in ends else n
    pieces: list[sp.Expr] = []
    if 0 in ends:
        pieces += [sp.Integer(1), ends[0]]
    pieces += [sp.Integer(hi - lo), part_of(array, lo, hi, n, shapes or {})]
    if 1 in ends:
        pieces += [sp.Integer(1), ends[1]]
    return Concat(*pieces)


def part_of(expr: sp.Expr, lo: int, hi: int, n: int, shapes) -> sp.Expr:
    """`expr[lo:hi]` for an element-wise expression of length `n`, with the slice
    taken of its array operands (so that the values at the ends, which a
    Dirichlet condition replaces, are never computed) and a `Concat` cut to the
    pieces it needs. `shapes` gives the shapes of the array symbols."""
    if (lo, hi) == (0, n):
        return expr
    if isinstance(expr, Concat):
        kept, offset = [], 0
        for length, piece in expr.pieces():
            a, b = max(lo, offset), min(hi, offset + length)
            if a < b:
                value = piece if shape_of(piece, shapes) == () else part_of(
                    piece, a - offset, b - offset, length, shapes)
                kept += [sp.Integer(b - a), value]
            offset += length
        if len(kept) == 2 and shape_of(kept[1], shapes) != ():
            return kept[1]
        return Concat(*kept)
    if isinstance(expr, Part):
        start = int(expr.args[1])
        return Part(expr.args[0], sp.Integer(start + lo), sp.Integer(start + hi))
    if isinstance(expr, Fill):
        return Fill(expr.args[0], sp.Integer(hi - lo))
    elementwise = isinstance(expr, (sp.Add, sp.Mul, sp.Pow)) or (
        isinstance(expr, sp.Function) and not isinstance(expr, sp.Piecewise)
        and type(expr).__module__.startswith("sympy."))
    if elementwise:
        return expr.func(*(part_of(a, lo, hi, n, shapes) if shape_of(a, shapes) != () else a
                           for a in expr.args))
    return Part(expr, sp.Integer(lo), sp.Integer(hi))
