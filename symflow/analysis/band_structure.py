"""The band structure of a 1-D PDE's Jacobian, proven from its stencils.

An implicit solver needs `I - γhJ` solved many times; for the method of lines
on one dimension `J` is banded once the states are put in the right order, and
the bound on the band is read here from the built (not yet discretized) system,
so that no dense Jacobian is ever formed (solve/linear/banded.py uses it).

**The bound.** Let every state be a field on the one dimension `x` with `n`
points, `m` fields in all, and every right-hand side use the fields only point
by point and through derivatives (no indexing, slices, sums, dot products or
user shifts, which reach anywhere). Then the row of field `a` at point `i`
depends only on fields `b` at points `j` with `|i - j| <= s`, where `s` is the
reach of the stencils: `order/2` inside, at most `order + 1` for the one-sided
closures next to an end, one more for a flux `diff(F, x)` (which differences
`F`, itself holding stencils); `s = max(order, 2) + 1 + flux` bounds them all.
In the *interleaved* order `(u_0, v_0, ..., u_1, v_1, ...)`, where field `a`
at point `i` has index `m*i + a`, the two indices differ by
`m*(j - i) + (b - a)`, so

    |index difference| <= m*s + (m - 1) = m*(s + 1) - 1,

a band of half-bandwidth `m(s+1) - 1` (for `m = 1`, `s`). On a periodic
dimension the same holds with `|i - j|` the cyclic distance: the matrix is
banded up to its two corners (a cyclic band). The solver probes the band at
this bound once and keeps the diagonals actually used (`effective_bandwidth`).

Not covered (the Jacobian is then treated as dense by the implicit solvers, a
documented limit, see docs/pde.md): scalar states next to fields, a domain of
2-3 dimensions (those get the matrix-free Krylov solve), the spectral scheme
(its derivatives couple every point), and non-local operations.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ..symbolic import ArraySum, Concat, Diff, Dot, Element, Part, Shift, Stack, System

__all__ = ["BandStructure", "band_structure"]


_NONLOCAL = (Element, Part, Concat, ArraySum, Dot, Stack, Shift)


@dataclasses.dataclass(frozen=True)
class BandStructure:
    """A proven bound on the Jacobian's band in the interleaved order.

    `bound` is the half-bandwidth bound `fields*(reach + 1) - 1`, `fields` the
    number of fields `m` (the states are laid out field after field; the band is
    in the interleaved order), `points` the grid size `n`, `periodic` whether the
    band wraps around (a cyclic band).
    """

    bound: int
    fields: int
    points: int
    periodic: bool


def band_structure(system: System) -> BandStructure | None:
    """The band structure of the Jacobian of the built 1-D PDE `system`, or `None`
    when there is no band to prove (see the module docstring)."""
    if len(system.domain) != 1 or not system.fields:
        return None
    (dim,) = system.domain
    if system.settings.scheme == "spectral":
        return None  # spectral derivatives couple every point
    names = {name for name, _ in system.fields}
    if any(coords != (dim.name,) for _, coords in system.fields):
        return None
    if {s.name for s in system.states} != names or system.algebraics:
        return None  # scalar states (or algebraic variables) next to the fields
    observed = {o.symbol: o.expr for o in system.observed}
    flux = False
    for name in names:
        rhs = system.equation_for(name).rhs
        used = [observed[s] for s in rhs.free_symbols if s in observed]
        for expr in (rhs, *used):
            if expr.has(*_NONLOCAL):
                return None
            flux = flux or any(not isinstance(d.args[0], sp.Symbol) for d in expr.atoms(Diff))
    reach = max(system.settings.order, 2) + 1 + flux
    m = len(names)
    return BandStructure(bound=m * (reach + 1) - 1, fields=m, points=int(dim.points),
                         periodic=bool(dim.periodic))
