"""The noise of an SDE `System`: its class, and the Milstein term from symbolic derivatives.

`classify_noise` reads the diffusion matrix of a simplified `System` and names
its class, which decides the valid solvers (`symflow.solve`).

Milstein's scheme adds, to an Euler–Maruyama step, the term

    1/2 * sum_{j1, j2} (L^{j1} g_{j2}) * (dW_{j1} dW_{j2} - [Itô] delta_{j1 j2} dt),
    L^{j} g = sum_k g_{k j} * d g / d x_k,

which is exact for commutative noise (`L^{j1} g_{j2} = L^{j2} g_{j1}`; Kloeden &
Platen, *Numerical Solution of SDEs*, 1992, §10.3). Here it is derived with
SymPy from the diffusion columns of a simplified `System`, as whole-array
expressions:

- **componentwise noise** (each state is driven by at most one Brownian motion,
  each Brownian motion drives one state, and the coefficient at each point
  depends on the state at that point only; a Brownian field `W(x)` driving a
  field `u(x)`, or scalar diagonal noise): the term is
  `1/2 * g * dg/du * (dW**2 - dt)` point by point;
- **scalar Brownian motions** with commutative noise: the double sum, with the
  directional derivatives `L^{j1} g_{j2}` taken symbolically (an array state
  enters through its point-by-point derivative).

"Depends on the state at that point only" is checked on the expression: with
the slice of the state that lines up with the points of the coefficient
replaced by a scalar symbol `z`, no other reference to the state may remain,
and `z` may appear only inside element-wise operations. This reads through the
`Concat` that the discretization builds at Dirichlet ends, where the noise is
zero. On a 2-D or 3-D grid the coefficient is `flat(...)` of a grid expression:
the Dirichlet faces are `concat` along an axis of zeros and a slice of the grid
view of the inner expression; the derivative is taken through that structure
when every slice lines up with the place its concat puts it
(`_grid_aligned_derivative`).
"""

from __future__ import annotations

from typing import Literal

import sympy as sp

from .nodes import (
    ArrayFunction,
    AxisConcat,
    AxisSlice,
    ClosureOutput,
    Concat,
    Element,
    Fill,
    Flatten,
    GridView,
    Part,
    shape_of,
)

__all__ = ["NOISE_CLASSES", "NoiseClass", "aligned_derivative", "classify_noise",
           "componentwise_noise", "milstein_correction"]


NoiseClass = Literal["additive", "diagonal", "commutative", "general"]
NOISE_CLASSES: tuple[str, ...] = ("additive", "diagonal", "commutative", "general")


def _length(expr: sp.Expr, shapes) -> int:
    shape = shape_of(expr, shapes)
    return shape[0] if shape else 1


def _contains_array_node_with(expr: sp.Expr, z: sp.Symbol) -> bool:
    """Whether `z` appears inside an array node (not an element-wise operation)."""
    if not expr.has(z):
        return False
    if isinstance(expr, ArrayFunction):
        return True
    return any(_contains_array_node_with(a, z) for a in expr.args)


def _piece_derivative(piece: sp.Expr, u: sp.Symbol, offset: int, length: int,
                      size: int) -> sp.Expr | None:
    """d piece_i / d u_{offset+i} for a piece covering points offset..offset+length-1."""
    if not piece.has(u):
        return sp.Integer(0)
    z = sp.Dummy("z", real=True)
    aligned: dict[sp.Expr, sp.Expr] = {Part(u, sp.Integer(offset),
                                            sp.Integer(offset + length)): z}
    if length == 1:
        aligned[Element(u, sp.Integer(offset))] = z
    if (offset, length) == (0, size):
        aligned[u] = z
    replaced = piece.xreplace(aligned)
    if replaced.has(u) or _contains_array_node_with(replaced, z):
        return None
    back = Part(u, sp.Integer(offset), sp.Integer(offset + length)) \
        if (offset, length) != (0, size) else u
    if length == 1 and (offset, length) != (0, size):
        back = Element(u, sp.Integer(offset))
    return sp.diff(replaced, z).xreplace({z: back})


def aligned_derivative(expr: sp.Expr, u: sp.Symbol, size: int, shapes) -> sp.Expr | None:
    """The point-by-point derivative `d expr_i / d u_i`, or `None` when element `i`
    of `expr` depends on `u` elsewhere than at point `i` (a stencil, a sum, an
    index). `expr` has the length `size` of `u` (or is a scalar free of `u`)."""
    if not expr.has(u):
        return sp.Integer(0)
    if isinstance(expr, Flatten):
        d = _grid_aligned_derivative(expr, None, u, size, shapes)
        if d is not None and _is_scalar(d, shapes):
            d = Fill(d, sp.Integer(size))
        return d
    if isinstance(expr, Concat):
        pieces, offset = [], 0
        for length, piece in expr.pieces():
            d = _piece_derivative(piece, u, offset, length, size)
            if d is None:
                return None
            if length > 1 and shape_of(d, shapes) == ():
                d = Fill(d, sp.Integer(length))
            pieces += [sp.Integer(length), d]
            offset += length
        return Concat(*pieces)
    if _length(expr, shapes) != size:
        return None
    return _piece_derivative(expr, u, 0, size, size)


def _grid_aligned_derivative(expr: sp.Expr, box: tuple[tuple[int, int], ...] | None,
                             u: sp.Symbol, size: int, shapes) -> sp.Expr | None:
    """The point-by-point derivative `d expr_p / d u_p` of an expression on the grid of
    the field `u` (flat, `size` points), or `None` when a point `p` of `expr` depends
    on `u` elsewhere than at `p`.

    `box` is the block of grid points (a `(start, stop)` per axis) that the
    grid-shaped `expr` covers, or `None` for a flat expression of the whole field.
    Reads the structure the discretization builds on Dirichlet faces: `AxisConcat`
    (each piece covers the next layers of the box), `AxisSlice` (the slice covers
    the box, so the sliced expression covers the box shifted back by the start),
    `GridView`/`Flatten` of the whole field, and element-wise operations between
    them (the chain and product rules). The derivative has the same structure (the
    Dirichlet faces, where the coefficient is constant, get 0); a scalar
    derivative stays a scalar (concat and arithmetic broadcast it).
    """
    if not expr.has(u):
        return sp.Integer(0)
    if expr == u:
        return sp.Integer(1) if box is None else None
    if isinstance(expr, Flatten):
        if box is not None:
            return None
        grid = shape_of(expr.args[0], shapes)
        d = _grid_aligned_derivative(expr.args[0], tuple((0, n) for n in grid), u, size,
                                     shapes)
        return None if d is None else (d if _is_scalar(d, shapes) else Flatten(d))
    if isinstance(expr, GridView):
        grid = tuple(int(n) for n in expr.args[1])
        if box != tuple((0, n) for n in grid) or shape_of(expr.args[0], shapes) != (size,):
            return None  # not the whole field, point for point
        d = _grid_aligned_derivative(expr.args[0], None, u, size, shapes)
        return None if d is None else (d if _is_scalar(d, shapes) else GridView(d, expr.args[1]))
    if isinstance(expr, AxisConcat):
        if box is None:
            return None
        axis = int(expr.args[0])
        start = box[axis][0]
        args, offset = [], start
        for length, piece in expr.pieces():
            sub = box[:axis] + ((offset, offset + length),) + box[axis + 1:]
            d = _grid_aligned_derivative(piece, sub, u, size, shapes)
            if d is None:
                return None
            args += [sp.Integer(length), d]
            offset += length
        return AxisConcat(*expr.args[:2], *args)
    if isinstance(expr, AxisSlice):
        if box is None:
            return None
        inner, axis, first, last = expr.args
        axis = int(axis)
        extent = shape_of(inner, shapes)[axis]
        start = box[axis][0] - int(first)
        sub = box[:axis] + ((start, start + extent),) + box[axis + 1:]
        d = _grid_aligned_derivative(inner, sub, u, size, shapes)
        if d is None or _is_scalar(d, shapes):
            return d  # a scalar: its slice is itself
        return AxisSlice(d, *expr.args[1:])
    if isinstance(expr, ArrayFunction) or not isinstance(expr, (sp.Add, sp.Mul, sp.Pow,
                                                                 sp.Function)):
        return None  # a stencil, a sum, an index...: not point by point
    # An element-wise operation: the chain rule through each argument.
    total = sp.Integer(0)
    dummies = [sp.Dummy("a", real=True) for _ in expr.args]
    outer = expr.func(*dummies)
    back = dict(zip(dummies, expr.args))
    for a, z in zip(expr.args, dummies):
        if not a.has(u):
            continue
        inner = _grid_aligned_derivative(a, box, u, size, shapes)
        if inner is None:
            return None
        total += sp.diff(outer, z).xreplace(back) * inner
    return total


def _is_scalar(expr: sp.Expr, shapes) -> bool:
    return shape_of(expr, shapes) == ()


def _columns(system) -> list[list[sp.Expr]]:
    """`columns[k][i]`: the coefficient of Brownian motion k in the equation of state i."""
    m = len(system.brownians)
    rows = [system.equation_for(v.name).diffusion or (sp.Integer(0),) * m
            for v in system.states]
    return [[rows[i][k] for i in range(len(rows))] for k in range(m)]


def componentwise_noise(system) -> dict[int, int] | None:
    """`{state index: Brownian index}` when the noise is componentwise (see the module
    docstring), else `None`. States without noise are absent from the map."""
    states = system.states
    symbols = {v.symbol for v in states}
    shapes = system.shapes()
    columns = _columns(system)
    driven: dict[int, int] = {}
    for k, column in enumerate(columns):
        users = [i for i, g in enumerate(column) if g != 0]
        if len(users) != 1:
            return None
        (i,) = users
        if i in driven:
            return None
        v, b, g = states[i], system.brownians[k], column[i]
        if v.size != b.size or (v.shape == ()) != (not b.coordinates):
            return None
        if (g.free_symbols & symbols) - {v.symbol}:
            return None
        if v.shape and aligned_derivative(g, v.symbol, v.size, shapes) is None:
            return None
        driven[i] = k
    return driven


def milstein_correction(system, *, stratonovich: bool, dt: sp.Symbol
                        ) -> list[sp.Expr] | None:
    """The Milstein term of every state (one expression per state, in the increments
    `b.increment` of the Brownian motions and the step `dt`), or `None` when it
    cannot be derived symbolically (see the module docstring). Valid for
    commutative noise; the caller checks the noise class."""
    states = system.states
    shapes = dict(system.shapes())
    shapes.update({b.increment: (b.size,) for b in system.brownians if b.coordinates})
    columns = _columns(system)
    if any(g.has(ClosureOutput) for column in columns for g in column):
        return None  # a network has no symbolic derivative: the solver differentiates it
    h = sp.Integer(0) if stratonovich else dt
    driven = componentwise_noise(system)
    if driven is not None:
        out = []
        for i, v in enumerate(states):
            if i not in driven:
                out.append(sp.Integer(0))
                continue
            k = driven[i]
            g, dw = columns[k][i], system.brownians[k].increment
            dg = (sp.diff(g, v.symbol) if v.shape == ()
                  else aligned_derivative(g, v.symbol, v.size, shapes))
            out.append(sp.Rational(1, 2) * g * dg * (dw**2 - h))
        return out
    if any(b.coordinates for b in system.brownians):
        return None
    m = len(system.brownians)

    def directional(j1: int, j2: int, i: int) -> sp.Expr | None:
        """Row i of L^{j1} g_{j2} = sum_k g_{k j1} d g_{i j2} / d x_k."""
        total = sp.Integer(0)
        target = columns[j2][i]
        for k, v in enumerate(states):
            if not target.has(v.symbol):
                continue
            if v.shape == ():
                total += sp.diff(target, v.symbol) * columns[j1][k]
                continue
            if states[i].size != v.size or states[i].shape == ():
                return None
            d = aligned_derivative(target, v.symbol, v.size, shapes)
            if d is None:
                return None
            total += d * columns[j1][k]
        return total

    out = []
    for i in range(len(states)):
        term = sp.Integer(0)
        for j1 in range(m):
            for j2 in range(j1, m):
                lg = directional(j1, j2, i)
                other = directional(j2, j1, i)
                if lg is None or other is None:
                    return None
                w1, w2 = system.brownians[j1].increment, system.brownians[j2].increment
                if j1 == j2:
                    term += sp.Rational(1, 2) * lg * (w1**2 - h)
                else:  # the pairs (j1, j2) and (j2, j1) of the double sum
                    term += sp.Rational(1, 2) * (lg + other) * w1 * w2
        out.append(term)
    return out


def _depends_on(expr: sp.Expr, symbols: set) -> bool:
    return bool(expr.free_symbols & symbols)


def classify_noise(system) -> NoiseClass:
    """The noise class of a `System` with Brownian motions.

    - `additive`: no diffusion coefficient depends on a state;
    - `diagonal`: one Brownian motion per state (a Brownian field per field), state
      `i` driven by motion `i` alone, and each point's coefficient depends on that
      point of the state only (`componentwise_noise`);
    - also componentwise but with states that have no noise: `commutative`;
    - `commutative`: the Lie brackets of the diffusion columns vanish,
      `sum_l g_lj d g_ik / d x_l = sum_l g_lk d g_ij / d x_l` (always true for one
      Brownian motion; checked symbolically for scalar states);
    - `general`: anything else.
    """
    states = system.states
    symbols = {v.symbol for v in states}
    columns = len(system.brownians)
    rows = [system.equation_for(v.name).diffusion or (sp.Integer(0),) * columns
            for v in states]
    if not any(_depends_on(g, symbols) for row in rows for g in row):
        return "additive"
    driven = componentwise_noise(system)
    if driven is not None:
        return "diagonal" if len(driven) == len(states) else "commutative"
    if any(b.coordinates for b in system.brownians):
        return "general"  # a Brownian field whose points are coupled
    if columns == 1:
        return "commutative"
    if any(v.shape for v in states):
        return "general"  # the bracket test below differentiates scalar states only
    xs = [v.symbol for v in states]
    try:
        for j in range(columns):
            for k in range(j + 1, columns):
                for i in range(len(xs)):
                    left = sum(rows[m][j] * sp.diff(rows[i][k], xs[m]) for m in range(len(xs)))
                    right = sum(rows[m][k] * sp.diff(rows[i][j], xs[m]) for m in range(len(xs)))
                    if sp.simplify(left - right) != 0:
                        return "general"
    except (TypeError, ValueError):
        return "general"
    return "commutative"
