"""Saving and plotting the fields of a PDE solution: grids, x-t heat maps."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..files import save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .solution import Solution

__all__ = ["grid_arrays", "plot_fields", "field_arrays"]


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


def plot_fields(sol: Solution, path: str | os.PathLike | None = None, *,
                names: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """One x-t heat map per 1-D field, or an image of the final state of each 2-D
    field (a 3-D field: its middle slice along the last axis); and a line plot of
    the scalar states."""
    import matplotlib.pyplot as plt

    names = list(names) if names is not None else list(sol.state_names)
    fields = [n for n in names if n in sol.fields]
    others = [n for n in names if n not in sol.fields]
    panels = len(fields) + bool(others)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5), layout="constrained",
                             squeeze=False)
    grids = grid_arrays(sol.grid)
    t = np.asarray(sol.t)
    values = field_arrays(sol)
    for ax, name in zip(axes[0], fields):
        if len(grids) == 1:
            (xname, x), = grids.items()
            mesh = ax.pcolormesh(x, t, values[name], shading="nearest", cmap="viridis")
            ax.set_xlabel(xname)
            ax.set_ylabel("t")
            label = name
        else:
            (xname, x), (yname, y) = list(grids.items())[:2]
            final = values[name][-1]
            if final.ndim == 3:
                final = final[:, :, final.shape[2] // 2]
            mesh = ax.pcolormesh(x, y, final.T, shading="nearest", cmap="viridis")
            ax.set_xlabel(xname)
            ax.set_ylabel(yname)
            ax.set_aspect("equal")
            label = f"{name} at t = {t[-1]:g}"
        fig.colorbar(mesh, ax=ax, label=name)
        ax.set_title(label if title is None else f"{title}: {label}")
    if others:
        ax = axes[0][-1]
        for name in others:
            value = np.asarray(sol[name])
            ax.plot(t, value if value.ndim == 1 else value.reshape(len(t), -1), label=name)
        ax.set_xlabel("t")
        ax.legend(loc="best")
    if path is not None:
        save_figure(fig, path)
    return fig
