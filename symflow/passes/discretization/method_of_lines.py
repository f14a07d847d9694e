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

The pieces: `weights` (exact difference weights), `grid` (slicing along one
dimension, Dirichlet ends), `central`, `upwind` and `divergence` (the schemes);
`spectral` replaces all of this when `scheme = spectral`.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...symbolic import Diff, GridView, System
from .central import stencil
from .divergence import replace_divergences
from .grid import Axis, as_array, flat, on_face, with_faces
from .spectral import discretize_spectral
from .upwind import one_sided_difference, upwind_advection

__all__ = ["discretize"]


def discretize(system: System) -> System:
    """Replace every space derivative by its stencil; impose the boundary conditions."""
    if not system.fields:
        return system
    if system.settings.scheme == "spectral":
        return discretize_spectral(system)
    constants = {p.symbol: p.number for p in system.parameters if p.constant}
    upwind = system.settings.scheme == "upwind"
    # Upwinding takes `order` (1 or 2) for the advection terms; every other
    # derivative stays central, of order 2 at least.
    order = max(system.settings.order, 2)
    biased_order = system.settings.order
    biased: dict[sp.Expr, tuple[sp.Expr, sp.Expr]] = {}
    shape = tuple(d.points for d in system.domain)
    gridded = len(shape) > 1  # fields stored flat, differenced as grids
    axes = {d.name: Axis(d, i, shape) for i, d in enumerate(system.domain)}
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
        conditions = [on_face(b, axes, constants) for b in system.boundary
                      if b.field == name]
        ends: dict[tuple[int, int], sp.Expr] = {
            (axes[b.dimension].axis, b.side): b.value
            for b in conditions if b.kind == "dirichlet"}
        dirichlet[name] = ends
        from_placeholder[placeholder] = with_faces(v.symbol, shape, ends)
        for x in coords:
            ax = axes[x]
            slopes: dict[int, sp.Expr] = {
                b.side: b.value - b.coefficient * ax.plane(grid, 0 if b.side == 0 else ax.n - 1)
                for b in conditions if b.kind != "dirichlet" and b.dimension == x}
            for k in (1, 2):
                key = Diff(v.symbol, sp.Symbol(x, real=True), sp.Integer(k))
                grid_values[key] = stencil(grid, ax, k, order, slopes)
                replace_diff[key] = flat(grid_values[key], gridded)
                if k == 1 and upwind:
                    biased[key] = tuple(
                        flat(one_sided_difference(grid, ax, sign, biased_order, slopes),
                             gridded) for sign in (+1, -1))

    def transform(expr: sp.Expr) -> sp.Expr:
        if biased:
            expr = upwind_advection(expr, biased)
        expr = replace_divergences(expr, axes, grid_values, system.shapes(), gridded,
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
            rhs = with_faces(as_array(rhs, n), shape, ends, system.shapes())
        if e.diffusion:  # an SDE: no noise at a Dirichlet end (the end follows g(t))
            zero = {face: sp.Integer(0) for face in dirichlet.get(e.target, {})}
            n = variables[e.target].size
            e = dataclasses.replace(e, diffusion=tuple(
                with_faces(transform(g), shape, zero, system.shapes()) if zero and g != 0
                else transform(g) for g in e.diffusion))
        equations.append(dataclasses.replace(e, rhs=rhs))
    new_variables = []
    for v in system.variables:
        if v.name in dirichlet and dirichlet[v.name] and v.initial is not None:
            ends = {face: g.xreplace({system.time: t0})
                    for face, g in dirichlet[v.name].items()}
            v = dataclasses.replace(v, initial=with_faces(as_array(v.initial, v.size),
                                                          shape, ends))
        new_variables.append(v)
    observed = tuple(dataclasses.replace(o, expr=transform(o.expr)) for o in system.observed)
    events = tuple(e.map_exprs(transform) for e in system.events)
    return dataclasses.replace(system, equations=tuple(equations),
                               variables=tuple(new_variables), observed=observed,
                               events=events)
