"""The conservative (flux) form: `Diff(F, x, 1)` of an expression `F` (a flux,
a mixed derivative) as the difference of `F` between grid points, so that what
leaves one cell enters the next. Order 2 (`divergence`) or 4 (`divergence_4`).
"""

from __future__ import annotations

import sympy as sp

from ...symbolic import Coordinate, Diff, GridView, MeshCoordinate
from .grid import Axis, flat
from .weights import difference_weights

__all__ = ["replace_divergences", "divergence", "divergence_4", "grid_value", "grid_atoms"]


def replace_divergences(expr: sp.Expr, axes: dict[str, Axis], grid_values, shapes,
                        gridded: bool, *, order: int) -> sp.Expr:
    """Every derivative of an expression, `Diff(F, x, 1)` with `F` not a field, by
    its difference between grid points (`divergence`)."""
    rule = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Diff) and not isinstance(node.args[0], sp.Symbol):
            rule[node] = flat(divergence(node, axes, grid_values, shapes, order=order),
                              gridded)
        else:
            stack.extend(node.args)
    return expr.xreplace(rule) if rule else expr


def grid_atoms(expr: sp.Expr, shapes) -> set[sp.Expr]:
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


def divergence(node: Diff, axes: dict[str, Axis], grid_values, shapes, *,
               order: int = 2) -> sp.Expr:
    """`Diff(F, x, 1)` for an expression `F`, in conservative (flux) form, order 2
    (`order = 4`: `divergence_4`).

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
    atoms = grid_atoms(F, shapes)
    values = {a: grid_value(a, axes, grid_values, shapes, order=order) for a in atoms}
    is_flux = {a for a in atoms if isinstance(a, Diff) and a.args[1] == x
               and isinstance(a.args[0], sp.Symbol) and int(a.args[2]) == 1}
    if order == 4:
        return divergence_4(F, ax, atoms, values, is_flux, grid_values)

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


def divergence_4(F: sp.Expr, ax: Axis, atoms, values, is_flux, grid_values) -> sp.Expr:
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


def grid_value(atom: sp.Expr, axes, grid_values, shapes, *, order: int = 2) -> sp.Expr:
    """The grid-shaped value of an array leaf of an expression."""
    if atom in grid_values:
        return grid_values[atom]
    if isinstance(atom, Diff):
        if not isinstance(atom.args[0], sp.Symbol):
            return divergence(atom, axes, grid_values, shapes, order=order)
        raise ValueError(f"discretization: {atom} is not a derivative of a field")
    if isinstance(atom, MeshCoordinate):
        return atom.grid_form()
    shape = next(iter(axes.values())).shape
    if len(shape) == 1:
        return atom
    return GridView(atom, sp.Tuple(*map(sp.Integer, shape)))
