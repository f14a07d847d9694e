"""Discretization: a PDE system on fields becomes an ODE system on the grid.

The method of lines. Every field stays one array symbol; every `Diff(u, x, k)`
becomes one stencil expression on the whole array:

- inside, the central difference of order `p` (`settings.order`, 2 or 4) as a
  sum of shifted slices, `(u[2:] - 2*u[1:-1] + u[:-2])/dx**2`;
- at the `p/2` points nearest each end of a non-periodic dimension, one-sided
  differences of the same order (so the order of the interior is kept up to
  the boundary). At a Neumann or Robin end the prescribed derivative
  `du/dx = g - h*u` enters these closures as data (Hermite-type differences),
  which is how the condition acts on the solution (for order 2 this is the
  classical ghost point);
- on a periodic dimension, a sum of cyclic shifts.

A Dirichlet end is not an unknown: the field inside every right-hand side is
the state with its end values replaced by `g(t)`, and the state's value there
follows `d/dt g(t)` (exact, by SymPy), starting from `g(t0)`; so the saved
field holds the boundary values too.

The weights of every difference are computed exactly (SymPy rationals) by
asking the formula to be exact on polynomials of the highest degree its
points allow (Fornberg, *Generation of finite difference formulas on
arbitrarily spaced grids*, Math. Comp. 1988, solves the same conditions by
recursion).
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

from ..symbolic import (ArraySum, Concat, Diff, Dimension, Dot, Element, Fill,
                        Part, Shift, Stack, System, shape_of)


__all__ = ["discretize", "difference_weights", "stencil_bandwidth"]


@functools.lru_cache(maxsize=None)
def difference_weights(offsets: tuple[int, ...], derivative: int,
                       slope_at: int | None = None) -> tuple[tuple[sp.Rational, ...],
                                                             sp.Rational]:
    """Weights `w` (and `w_s`) with `f^(k)(0) ≈ Σ w_m f(m) + w_s f'(s)` at unit spacing.

    `offsets` are the points whose values are used; `slope_at` is where the
    first derivative is known, if anywhere. The formula is exact on every
    polynomial of degree below the number of data, which fixes it uniquely.
    """
    n = len(offsets) + (slope_at is not None)
    rows = []
    for degree in range(n):
        row = [sp.Integer(m) ** degree for m in offsets]
        if slope_at is not None:
            row.append(degree * sp.Integer(slope_at) ** (degree - 1) if degree else 0)
        rows.append(row)
    target = [sp.factorial(derivative) if degree == derivative else 0 for degree in range(n)]
    solution = sp.Matrix(rows).LUsolve(sp.Matrix(target))
    weights = tuple(sp.nsimplify(x) for x in solution[:len(offsets)])
    slope = sp.nsimplify(solution[len(offsets)]) if slope_at is not None else sp.Integer(0)
    return weights, slope


def discretize(system: System) -> System:
    """Replace every space derivative by its stencil; impose the boundary conditions."""
    if not system.fields:
        return system
    if system.settings.scheme == "spectral":
        from .spectral_discretization import discretize_spectral

        return discretize_spectral(system)
    constants = {p.symbol: sp.Float(p.value) for p in system.parameters if p.constant}
    upwind = system.settings.scheme == "upwind"
    # Upwinding takes `order` (1 or 2) for the advection terms; every other
    # derivative stays central, of order 2 at least.
    order = max(system.settings.order, 2)
    biased_order = system.settings.order
    biased: dict[sp.Expr, tuple[sp.Expr, sp.Expr]] = {}
    dims = {d.name: d for d in system.domain}
    variables = {v.name: v for v in system.variables}
    t0 = sp.Float(system.settings.tspan[0])

    replace_diff: dict[sp.Expr, sp.Expr] = {}
    to_placeholder: dict[sp.Symbol, sp.Symbol] = {}
    from_placeholder: dict[sp.Symbol, sp.Expr] = {}
    dirichlet: dict[str, dict[int, sp.Expr]] = {}
    for name, coords in system.fields:
        (x,) = coords
        dim = dims[x]
        v = variables[name]
        n = dim.points
        conditions = {b.side: b for b in system.boundary if b.field == name}
        placeholder = sp.Symbol(f"_field_{name}", real=True)
        to_placeholder[v.symbol] = placeholder
        ends = {side: b.value.xreplace(constants) for side, b in conditions.items()
                if b.kind == "dirichlet"}
        dirichlet[name] = ends
        from_placeholder[placeholder] = _with_ends(v.symbol, n, ends)
        slopes = {side: (b.value - b.coefficient * Element(placeholder,
                                                           sp.Integer(0 if side == 0 else n - 1))
                         ).xreplace(constants)
                  for side, b in conditions.items() if b.kind != "dirichlet"}
        for k in (1, 2):
            key = Diff(v.symbol, sp.Symbol(x, real=True), sp.Integer(k))
            replace_diff[key] = _stencil(placeholder, dim, k, order, slopes)
            if k == 1 and upwind:
                biased[key] = (_biased(placeholder, dim, +1, biased_order, slopes),
                               _biased(placeholder, dim, -1, biased_order, slopes))

    def transform(expr: sp.Expr) -> sp.Expr:
        if biased:
            expr = _upwind(expr, biased)
        expr = expr.xreplace(replace_diff).xreplace(to_placeholder)
        expr = expr.xreplace(from_placeholder)
        if expr.has(Diff):
            raise ValueError("discretization left a derivative it cannot discretize: "
                             f"{next(iter(expr.atoms(Diff)))}")
        return expr

    equations = []
    for e in system.equations:
        rhs = transform(e.rhs)
        if e.target in dirichlet and dirichlet[e.target]:
            n = variables[e.target].size
            ends = {side: sp.diff(g, system.time) for side, g in dirichlet[e.target].items()}
            rhs = _with_ends(_as_array(rhs, n), n, ends, system.shapes())
        equations.append(dataclasses.replace(e, rhs=rhs))
    new_variables = []
    for v in system.variables:
        if v.name in dirichlet and dirichlet[v.name] and v.initial is not None:
            ends = {side: g.xreplace({system.time: t0}) for side, g in dirichlet[v.name].items()}
            v = dataclasses.replace(v, initial=_with_ends(_as_array(v.initial, v.size), v.size,
                                                          ends))
        new_variables.append(v)
    observed = tuple(dataclasses.replace(o, expr=transform(o.expr)) for o in system.observed)
    return dataclasses.replace(system, equations=tuple(equations),
                               variables=tuple(new_variables), observed=observed)


def _as_array(expr: sp.Expr, n: int) -> sp.Expr:
    return Fill(expr, sp.Integer(n)) if shape_of(expr, {}) == () and not expr.free_symbols \
        else expr


def _with_ends(array: sp.Expr, n: int, ends: dict[int, sp.Expr], shapes=None) -> sp.Expr:
    """`array` with element 0 (side 0) and/or element n-1 (side 1) replaced."""
    if not ends:
        return array
    lo = 1 if 0 in ends else 0
    hi = n - 1 if 1 in ends else n
    pieces: list[sp.Expr] = []
    if 0 in ends:
        pieces += [sp.Integer(1), ends[0]]
    pieces += [sp.Integer(hi - lo), _part(array, lo, hi, n, shapes or {})]
    if 1 in ends:
        pieces += [sp.Integer(1), ends[1]]
    return Concat(*pieces)


def _part(expr: sp.Expr, lo: int, hi: int, n: int, shapes) -> sp.Expr:
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
                value = piece if shape_of(piece, shapes) == () else _part(
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
        return expr.func(*(_part(a, lo, hi, n, shapes) if shape_of(a, shapes) != () else a
                           for a in expr.args))
    return Part(expr, sp.Integer(lo), sp.Integer(hi))


def _upwind(expr: sp.Expr, biased) -> sp.Expr:
    """Advection terms `c*diff(u, x)` of a sum (at its top level) with one-sided
    differences taken from where the information comes: forward where c > 0
    (in u_t = c u_x the solution moves left), backward where c < 0."""
    terms = expr.args if isinstance(expr, sp.Add) else (expr,)
    out = []
    for term in terms:
        found = [d for d in term.atoms(Diff) if d in biased]
        if len(found) == 1:
            (d,) = found
            c, rest = term.as_independent(d, as_Add=False)
            if rest == d:
                forward, backward = biased[d]
                term = sp.Piecewise((c * forward, c > 0), (c * backward, True))
        out.append(term)
    return sp.Add(*out) if isinstance(expr, sp.Add) else out[0]


def _biased(u: sp.Symbol, dim: Dimension, direction: int, order: int,
            slopes: dict[int, sp.Expr]) -> sp.Expr:
    """The first derivative of `u` by a one-sided difference of `order` (1 or 2),
    reading `direction` (+1 forward, -1 backward); next to an end, the window of
    the same size that fits, or the prescribed derivative at a Neumann/Robin end."""
    n, h = dim.points, sp.Float(dim.spacing)
    offsets = tuple(sorted(direction * m for m in range(order + 1)))
    weights, _ = difference_weights(offsets, 1)
    if dim.periodic:
        return sp.Add(*(w * (u if m == 0 else Shift(u, sp.Integer(m)))
                        for m, w in zip(offsets, weights) if w != 0)) / h
    lo, hi = -offsets[0], n - offsets[-1]
    interior = sp.Add(*(w * Part(u, sp.Integer(lo + m), sp.Integer(hi + m))
                        for m, w in zip(offsets, weights) if w != 0)) / h

    def closure(node):
        side = 0 if node < lo else 1
        if node == (0 if side == 0 else n - 1) and side in slopes:
            return slopes[side]
        start = min(max(node + offsets[0], 0), n - 1 - order)
        window = tuple(start + m - node for m in range(order + 1))
        w, _ = difference_weights(window, 1)
        return sp.Add(*(wi * Element(u, sp.Integer(node + m)) for m, wi in zip(window, w))) / h

    pieces: list[sp.Expr] = []
    for node in range(lo):
        pieces += [sp.Integer(1), closure(node)]
    pieces += [sp.Integer(hi - lo), interior]
    for node in range(hi, n):
        pieces += [sp.Integer(1), closure(node)]
    return Concat(*pieces) if len(pieces) > 2 else interior


def _stencil(u: sp.Symbol, dim: Dimension, k: int, order: int,
             slopes: dict[int, sp.Expr]) -> sp.Expr:
    """The `k`-th derivative of the array `u` on the grid of `dim`, as one expression."""
    n, h = dim.points, sp.Float(dim.spacing)
    r = order // 2
    offsets = tuple(range(-r, r + 1))
    weights, _ = difference_weights(offsets, k)
    scale = 1 / h ** k
    if dim.periodic:
        return scale * sp.Add(*(w * (u if m == 0 else Shift(u, sp.Integer(m)))
                                for m, w in zip(offsets, weights) if w != 0))
    interior = scale * sp.Add(*(w * Part(u, sp.Integer(r + m), sp.Integer(n - r + m))
                                for m, w in zip(offsets, weights) if w != 0))
    pieces: list[sp.Expr] = []
    for i in range(r):
        pieces += [sp.Integer(1), _closure(u, n, h, k, order, i, 0, slopes.get(0))]
    pieces += [sp.Integer(n - 2 * r), interior]
    for i in reversed(range(r)):
        pieces += [sp.Integer(1), _closure(u, n, h, k, order, i, 1, slopes.get(1))]
    return Concat(*pieces)


def _closure(u, n, h, k, order, i, side, slope) -> sp.Expr:
    """The derivative at the point `i` places from the end `side`, one-sided."""
    node = i if side == 0 else n - 1 - i
    sign = 1 if side == 0 else -1
    if slope is not None and k == 1 and i == 0:
        return slope  # the condition gives the derivative at the end itself
    # With the slope known, order 2 takes the classical ghost point (the
    # condition as a central difference: locally first order, globally second),
    # which keeps the Jacobian tridiagonal; order 4 takes a locally fourth-order
    # closure (measured: the ghost-point analogue converges visibly slower).
    window = order + k - (0 if slope is None else 1 + (order == 2))
    offsets = tuple(sign * (m - i) for m in range(window))
    weights, w_slope = difference_weights(offsets, k, None if slope is None else -sign * i)
    total = sp.Add(*(w * Element(u, sp.Integer(node + m)) for m, w in zip(offsets, weights)))
    if slope is not None:
        total += w_slope * h * slope
    return total / h ** k



def stencil_bandwidth(system: System) -> int | None:
    """A bound on the half-bandwidth of the Jacobian of the discretized system, read
    from the stencils of the built (not yet discretized) system, or `None` when
    there is none to prove.

    There is one when the only state is one field on a non-periodic dimension and
    its equation uses the field only point by point and through derivatives:
    then row `i` depends on the points the stencils at `i` read, at most
    `order + 1` places away (the widest closure), otherwise `order/2`.
    Indexing, slices, sums and dot products of arrays may reach anywhere.
    """
    if len(system.fields) != 1 or len(system.states) != 1:
        return None
    (name, (x,)), = system.fields
    if system.states[0].name != name:
        return None
    dim = next(d for d in system.domain if d.name == x)
    if dim.periodic:
        return None  # the wrap-around couples the two ends
    rhs = system.equation_for(name).rhs
    if rhs.has(Element, Part, Concat, ArraySum, Dot, Stack, Shift):
        return None
    return max(system.settings.order, 2) + 1
