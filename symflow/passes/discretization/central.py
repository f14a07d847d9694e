"""Central differences of order `p` (`settings.order`, 2 or 4) with one-sided
closures of the same order next to a non-periodic end.

Inside, the central difference as a sum of shifted slices,
`(u[2:] - 2*u[1:-1] + u[:-2])/dx**2`; at the `p/2` points nearest each end,
one-sided differences of the same order (so the order of the interior is kept up
to the boundary). At a Neumann or Robin end the prescribed derivative
`du/dx = g - h*u` enters these closures as data (Hermite-type differences; for
order 2 the classical ghost point). On a periodic dimension, a sum of cyclic
shifts.
"""

from __future__ import annotations

import sympy as sp

from .grid import Axis
from .weights import difference_weights

__all__ = ["stencil"]


def stencil(u: sp.Expr, ax: Axis, k: int, order: int,
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
        pieces += [sp.Integer(1), end_closure(u, ax, k, order, i, 0, slopes.get(0))]
    pieces += [sp.Integer(n - 2 * r), interior]
    for i in reversed(range(r)):
        pieces += [sp.Integer(1), end_closure(u, ax, k, order, i, 1, slopes.get(1))]
    return ax.concat(pieces)


def end_closure(u, ax: Axis, k, order, i, side, slope) -> sp.Expr:
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
