"""The fields of a PDE solution on their grid (for `.npz` files, datasets and plots)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .solution import Solution

__all__ = ["grid_arrays", "field_arrays"]


def grid_arrays(grid: tuple) -> dict[str, np.ndarray]:
    """The grid points of each dimension by name, from `Solution.grid`."""
    out = {}
    for name, lower, upper, points, periodic in grid:
        if periodic:
            out[name] = lower + (upper - lower) / points * np.arange(points)
        else:
            out[name] = np.linspace(lower, upper, points)
    return out


def field_arrays(sol: Solution) -> dict[str, np.ndarray]:
    """Each field with its time axis first and then one axis per dimension,
    `(len(t), n_x[, n_y[, n_z]])` (the solution stores 2-D/3-D fields flat)."""
    shape = tuple(points for _, _, _, points, _ in sol.grid)
    return {name: np.asarray(sol[name]).reshape(len(sol.t), *shape) for name in sol.fields}
