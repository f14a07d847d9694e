"""The upwind scheme (`scheme = upwind`): advection terms `c*diff(u, x)` by
one-sided differences of order 1 or 2 taken from where the information comes.
"""

from __future__ import annotations

import sympy as sp

from ...symbolic import Diff
from .grid import Axis
from .weights import difference_weights

__all__ = ["upwind_advection", "one_sided_difference"]


def upwind_advection(expr: sp.Expr, biased) -> sp.Expr:
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


def one_sided_difference(u: sp.Expr, ax: Axis, direction: int, order: int,
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
