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

from ..symbolic import (AxisConcat, AxisShift, AxisSlice, BoundaryCondition, Concat,
                        Coordinate, Diff, Dimension, Element, Fill, Flatten, GridView,
                        MeshCoordinate, Part, Shift, System, shape_of)


__all__ = ["discretize", "difference_weights"]


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


@dataclasses.dataclass(frozen=True)
class _Axis:
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
    shape = tuple(d.points for d in system.domain)
    gridded = len(shape) > 1  # fields stored flat, differenced as grids
    axes = {d.name: _Axis(d, i, shape) for i, d in enumerate(system.domain)}
    variables = {v.name: v for v in system.variables}
    t0 = sp.Float(system.settings.tspan[0])

    replace_diff: dict[sp.Expr, sp.Expr] = {}
    grid_values: dict[sp.Expr, sp.Expr] = {}  # field / derivative -> its grid-shaped value
    to_placeholder: dict[sp.Symbol, sp.Symbol] = {}
    from_placeholder: dict[sp.Symbol, sp.Expr] = {}
    dirichlet: dict[str, dict[tuple[int, int], sp.Expr]] = {}
    for name, coords in system.fields:
        v = variables[name]
        placeholder = sp.Symbol(f"_field_{name}", real=True)
        to_placeholder[v.symbol] = placeholder
        grid = GridView(placeholder, sp.Tuple(*map(sp.Integer, shape))) if gridded \
            else placeholder
        grid_values[v.symbol] = grid
        conditions = [_on_face(b, axes, constants) for b in system.boundary
                      if b.field == name]
        ends = {(axes[b.dimension].axis, b.side): b.value
                for b in conditions if b.kind == "dirichlet"}
        dirichlet[name] = ends
        from_placeholder[placeholder] = _with_faces(v.symbol, shape, ends)
        for x in coords:
            ax = axes[x]
            slopes = {b.side: b.value - b.coefficient * ax.plane(
                          grid, 0 if b.side == 0 else ax.n - 1)
                      for b in conditions if b.kind != "dirichlet" and b.dimension == x}
            for k in (1, 2):
                key = Diff(v.symbol, sp.Symbol(x, real=True), sp.Integer(k))
                grid_values[key] = _stencil(grid, ax, k, order, slopes)
                replace_diff[key] = _flat(grid_values[key], gridded)
                if k == 1 and upwind:
                    biased[key] = tuple(_flat(_biased(grid, ax, sign, biased_order, slopes),
                                              gridded) for sign in (+1, -1))

    def transform(expr: sp.Expr) -> sp.Expr:
        if biased:
            expr = _upwind(expr, biased)
        expr = _replace_divergences(expr, axes, grid_values, system.shapes(), gridded,
                                     order=order)
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
            ends = {face: sp.diff(g, system.time) for face, g in dirichlet[e.target].items()}
            rhs = _with_faces(_as_array(rhs, n), shape, ends, system.shapes())
        if e.diffusion:  # an SDE: no noise at a Dirichlet end (the end follows g(t))
            zero = {face: sp.Integer(0) for face in dirichlet.get(e.target, {})}
            n = variables[e.target].size
            e = dataclasses.replace(e, diffusion=tuple(
                _with_faces(transform(g), shape, zero, system.shapes()) if zero and g != 0
                else transform(g) for g in e.diffusion))
        equations.append(dataclasses.replace(e, rhs=rhs))
    new_variables = []
    for v in system.variables:
        if v.name in dirichlet and dirichlet[v.name] and v.initial is not None:
            ends = {face: g.xreplace({system.time: t0})
                    for face, g in dirichlet[v.name].items()}
            v = dataclasses.replace(v, initial=_with_faces(_as_array(v.initial, v.size),
                                                           shape, ends))
        new_variables.append(v)
    observed = tuple(dataclasses.replace(o, expr=transform(o.expr)) for o in system.observed)
    return dataclasses.replace(system, equations=tuple(equations),
                               variables=tuple(new_variables), observed=observed)


def _on_face(b: BoundaryCondition, axes: dict[str, _Axis], constants) -> BoundaryCondition:
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


def _flat(expr: sp.Expr, gridded: bool) -> sp.Expr:
    return Flatten(expr) if gridded else expr


def _with_faces(array: sp.Expr, shape: tuple[int, ...], faces: dict[tuple[int, int], sp.Expr],
                shapes=None) -> sp.Expr:
    """The field `array` with its Dirichlet faces `(axis, side) -> value` replaced.

    On a 1-D grid, `_with_ends`. On a grid of 2 or 3 dimensions, the faces are
    laid on the grid view axis by axis, the last axis first, so that a point on
    two Dirichlet faces (an edge or corner) takes the value of the face of the
    first dimension in the domain's order: corners are decided once, the same
    way for the state, its time derivative and its initial value.
    """
    if len(shape) == 1:
        return _with_ends(array, shape[0], {side: g for (_, side), g in faces.items()},
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


def _replace_divergences(expr: sp.Expr, axes: dict[str, _Axis], grid_values, shapes,
                         gridded: bool, *, order: int) -> sp.Expr:
    """Every derivative of an expression, `Diff(F, x, 1)` with `F` not a field, by
    its difference between grid points (`_divergence`)."""
    rule = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Diff) and not isinstance(node.args[0], sp.Symbol):
            rule[node] = _flat(_divergence(node, axes, grid_values, shapes, order=order),
                               gridded)
        else:
            stack.extend(node.args)
    return expr.xreplace(rule) if rule else expr


def _grid_atoms(expr: sp.Expr, shapes) -> set[sp.Expr]:
    """The array-valued leaves of `expr`: fields, derivatives, coordinates, arrays."""
    out, stack = set(), [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (Diff, Coordinate, MeshCoordinate)) or (
                isinstance(node, sp.Symbol) and shapes.get(node, ()) != ()):
            out.add(node)
        else:
            stack.extend(node.args)
    return out


def _divergence(node: Diff, axes: dict[str, _Axis], grid_values, shapes, *,
                order: int = 2) -> sp.Expr:
    """`Diff(F, x, 1)` for an expression `F`, in conservative (flux) form, order 2
    (`order = 4`: `_divergence_4`).

    `F` is evaluated halfway between neighbouring points along `x`: there a field
    is the mean of its two neighbours, its derivative along `x` their difference
    over h, and every other array (a derivative along another axis, a coordinate)
    the mean of its values. The derivative at a point is the difference of the
    two fluxes beside it over h, so what leaves one cell enters the next
    (the scheme conserves the integral of the field). At an end of a
    non-periodic dimension, if `F` holds a derivative along `x` (a flux), the
    half cell next to the end: (F(x_1/2) - F(x_0))/(h/2), with F(x_0) from the
    values at the end, where a Neumann or Robin condition gives the derivative
    (the finite-volume form of the ghost point; a no-flux condition conserves
    exactly); otherwise a second-order one-sided difference of F at x_0, x_1/2,
    x_3/2 (e.g. a mixed derivative diff(diff(u, x), y) at the edge y = 0).
    """
    F, x, _ = node.args
    ax = axes[x.name]
    n, h = ax.n, ax.h
    atoms = _grid_atoms(F, shapes)
    values = {a: _grid_value(a, axes, grid_values, shapes, order=order) for a in atoms}
    is_flux = {a for a in atoms if isinstance(a, Diff) and a.args[1] == x
               and isinstance(a.args[0], sp.Symbol) and int(a.args[2]) == 1}
    if order == 4:
        return _divergence_4(F, ax, atoms, values, is_flux, grid_values)

    def half(value, a, lo, hi):  # value at i + 1/2 for i in [lo, hi), from the grid values
        if a in is_flux:
            u = grid_values[a.args[0]]
            return (ax.part(u, lo + 1, hi + 1) - ax.part(u, lo, hi)) / h
        return (ax.part(value, lo + 1, hi + 1) + ax.part(value, lo, hi)) / 2

    if ax.dim.periodic:
        def half_periodic(a):
            if a in is_flux:
                u = grid_values[a.args[0]]
                return (ax.shift(u, 1) - u) / h
            return (ax.shift(values[a], 1) + values[a]) / 2
        fluxes = F.xreplace({a: half_periodic(a) for a in atoms})
        return (fluxes - ax.shift(fluxes, -1)) / h
    fluxes = F.xreplace({a: half(values[a], a, 0, n - 1) for a in atoms})  # n - 1 values
    interior = (ax.part(fluxes, 1, n - 1) - ax.part(fluxes, 0, n - 2)) / h
    ends = []
    for side in (0, 1):
        end = 0 if side == 0 else n - 1
        at_end = F.xreplace({a: ax.plane(values[a], end) for a in atoms})
        near = [ax.plane(fluxes, 0 if side == 0 else n - 2),
                ax.plane(fluxes, 1 if side == 0 else n - 3)]
        sign = 1 if side == 0 else -1
        if is_flux:
            ends.append(sign * (near[0] - at_end) * 2 / h)
        else:  # offsets in half cells: the end, 1/2 and 3/2 inside
            weights, _ = difference_weights((0, sign, 3 * sign), 1)
            ends.append(2 / h * (weights[0] * at_end + weights[1] * near[0]
                                 + weights[2] * near[1]))
    return ax.concat([sp.Integer(1), ends[0], sp.Integer(n - 2), interior,
                      sp.Integer(1), ends[1]])


def _divergence_4(F: sp.Expr, ax: _Axis, atoms, values, is_flux, grid_values) -> sp.Expr:
    """`d/dx F` to fourth order, in flux form on the half points.

    Positions are counted in half cells: grid point `j` is at `2j`, the half point
    `j + 1/2` at `2j + 1`. Each array leaf of `F` is carried to the half points by
    the fourth-order interpolation `(-a[j-1] + 9a[j] + 9a[j+1] - a[j+2])/16` (a
    flux `diff(u, x)` by `(u[j-1] - 27u[j] + 27u[j+1] - u[j+2])/(24h)`); `F` is
    evaluated there, and the derivative at a point is
    `(F[i-3/2] - 27F[i-1/2] + 27F[i+1/2] - F[i+3/2])/(24h)`, so inside the domain
    the scheme conserves like the second-order one. On a non-periodic dimension
    the half point next to each end takes a one-sided five-point formula (exact on
    quartics), and the two points nearest each end a five-point one-sided
    derivative from `F` at the end and the first four half points; `F` at the end
    is evaluated from the values there, so a Neumann or Robin condition gives the
    flux through the end itself.
    """
    n, h = ax.n, ax.h
    half_h = h / 2

    def weighted(offsets, k, terms):
        weights, _ = difference_weights(tuple(offsets), k)
        return sp.Add(*(w * a for w, a in zip(weights, terms) if w != 0)) / half_h ** k

    centered = (-3, -1, 1, 3)  # the points j-1 .. j+2 seen from j + 1/2

    def source(a):  # what is interpolated (k = 0) or differenced (k = 1), per leaf
        return (grid_values[a.args[0]], 1) if a in is_flux else (values[a], 0)

    if ax.dim.periodic:
        def at_half(a):
            u, k = source(a)
            return weighted(centered, k, [ax.shift(u, m) if m else u for m in (-1, 0, 1, 2)])
        fluxes = F.xreplace({a: at_half(a) for a in atoms})
        return weighted(centered, 1, [ax.shift(fluxes, m) if m else fluxes
                                      for m in (-2, -1, 0, 1)])

    def interior_half(a):  # half points j + 1/2 for j = 1 .. n-3
        u, k = source(a)
        return weighted(centered, k, [ax.part(u, m, n - 3 + m) for m in range(4)])

    def end_half(a, side):  # the half point next to the end, from five points
        u, k = source(a)
        if side == 0:
            return weighted((-1, 1, 3, 5, 7), k, [ax.plane(u, m) for m in range(5)])
        return weighted((1, -1, -3, -5, -7), k, [ax.plane(u, n - 1 - m) for m in range(5)])

    fluxes = ax.concat([sp.Integer(1), F.xreplace({a: end_half(a, 0) for a in atoms}),
                        sp.Integer(n - 3), F.xreplace({a: interior_half(a) for a in atoms}),
                        sp.Integer(1), F.xreplace({a: end_half(a, 1) for a in atoms})])
    # points i = 2 .. n-3 read the half points i-2 .. i+1
    interior = weighted(centered, 1, [ax.part(fluxes, m, n - 4 + m) for m in range(4)])
    ends = {}
    for side in (0, 1):
        end = 0 if side == 0 else n - 1
        at_end = F.xreplace({a: ax.plane(values[a], end) for a in atoms})
        sign = 1 if side == 0 else -1
        near = [ax.plane(fluxes, m if side == 0 else n - 2 - m) for m in range(4)]
        positions = [0] + [sign * (2 * m + 1) for m in range(4)]
        ends[side] = [weighted([p - sign * 2 * i for p in positions], 1, [at_end] + near)
                      for i in (0, 1)]
    return ax.concat([sp.Integer(1), ends[0][0], sp.Integer(1), ends[0][1],
                      sp.Integer(n - 4), interior,
                      sp.Integer(1), ends[1][1], sp.Integer(1), ends[1][0]])


def _grid_value(atom: sp.Expr, axes, grid_values, shapes, *, order: int = 2) -> sp.Expr:
    """The grid-shaped value of an array leaf of an expression."""
    if atom in grid_values:
        return grid_values[atom]
    if isinstance(atom, Diff):
        if not isinstance(atom.args[0], sp.Symbol):
            return _divergence(atom, axes, grid_values, shapes, order=order)
        raise ValueError(f"discretization: {atom} is not a derivative of a field")
    if isinstance(atom, MeshCoordinate):
        return atom.grid_form()
    shape = next(iter(axes.values())).shape
    if len(shape) == 1:
        return atom
    return GridView(atom, sp.Tuple(*map(sp.Integer, shape)))


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


def _biased(u: sp.Expr, ax: _Axis, direction: int, order: int,
            slopes: dict[int, sp.Expr]) -> sp.Expr:
    """The first derivative of `u` by a one-sided difference of `order` (1 or 2),
    reading `direction` (+1 forward, -1 backward); next to an end, the window of
    the same size that fits, or the prescribed derivative at a Neumann/Robin end."""
    n, h = ax.n, ax.h
    offsets = tuple(sorted(direction * m for m in range(order + 1)))
    weights, _ = difference_weights(offsets, 1)
    if ax.dim.periodic:
        return sp.Add(*(w * (u if m == 0 else ax.shift(u, m))
                        for m, w in zip(offsets, weights) if w != 0)) / h
    lo, hi = -offsets[0], n - offsets[-1]
    interior = sp.Add(*(w * ax.part(u, lo + m, hi + m)
                        for m, w in zip(offsets, weights) if w != 0)) / h

    def closure(node):
        side = 0 if node < lo else 1
        if node == (0 if side == 0 else n - 1) and side in slopes:
            return slopes[side]
        start = min(max(node + offsets[0], 0), n - 1 - order)
        window = tuple(start + m - node for m in range(order + 1))
        w, _ = difference_weights(window, 1)
        return sp.Add(*(wi * ax.plane(u, node + m) for m, wi in zip(window, w))) / h

    pieces: list[sp.Expr] = []
    for node in range(lo):
        pieces += [sp.Integer(1), closure(node)]
    pieces += [sp.Integer(hi - lo), interior]
    for node in range(hi, n):
        pieces += [sp.Integer(1), closure(node)]
    return ax.concat(pieces) if len(pieces) > 2 else interior


def _stencil(u: sp.Expr, ax: _Axis, k: int, order: int,
             slopes: dict[int, sp.Expr]) -> sp.Expr:
    """The `k`-th derivative of the array `u` along the dimension of `ax`, as one
    expression."""
    n, h = ax.n, ax.h
    r = order // 2
    offsets = tuple(range(-r, r + 1))
    weights, _ = difference_weights(offsets, k)
    scale = 1 / h ** k
    if ax.dim.periodic:
        return scale * sp.Add(*(w * (u if m == 0 else ax.shift(u, m))
                                for m, w in zip(offsets, weights) if w != 0))
    interior = scale * sp.Add(*(w * ax.part(u, r + m, n - r + m)
                                for m, w in zip(offsets, weights) if w != 0))
    pieces: list[sp.Expr] = []
    for i in range(r):
        pieces += [sp.Integer(1), _closure(u, ax, k, order, i, 0, slopes.get(0))]
    pieces += [sp.Integer(n - 2 * r), interior]
    for i in reversed(range(r)):
        pieces += [sp.Integer(1), _closure(u, ax, k, order, i, 1, slopes.get(1))]
    return ax.concat(pieces)


def _closure(u, ax: _Axis, k, order, i, side, slope) -> sp.Expr:
    """The derivative at the point `i` places from the end `side`, one-sided."""
    n, h = ax.n, ax.h
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
    total = sp.Add(*(w * ax.plane(u, node + m) for m, w in zip(offsets, weights)))
    if slope is not None:
        total += w_slope * h * slope
    return total / h ** k
