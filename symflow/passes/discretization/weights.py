"""Finite-difference weights, exact (SymPy rationals).

The weights of every difference are computed by asking the formula to be exact
on polynomials of the highest degree its points allow (Fornberg, *Generation of
finite difference formulas on arbitrarily spaced grids*, Math. Comp. 1988,
solves the same conditions by recursion).
"""

from __future__ import annotations

import functools

import sympy as sp

__all__ = ["difference_weights"]


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
