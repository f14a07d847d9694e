"""Saving and plotting the fields of a PDE solution: grids, x-t heat maps."""

from __future__ import annotations

import numpy as np


__all__ = ["grid_arrays", "plot_fields"]


def grid_arrays(grid: tuple) -> dict[str, np.ndarray]:
    """The grid points of each dimension by name, from `Solution.grid`."""
    out = {}
    for name, lower, upper, points, periodic in grid:
        if periodic:
            out[name] = lower + (upper - lower) / points * np.arange(points)
        else:
            out[name] = np.linspace(lower, upper, points)
    return out


def plot_fields(sol, path=None, *, names=None, title=None):
    """One x-t heat map per 1-D field (and a line plot of the scalar states)."""
    import matplotlib.pyplot as plt

    names = list(names) if names is not None else list(sol.state_names)
    fields = [n for n in names if n in sol.fields]
    others = [n for n in names if n not in sol.fields]
    panels = len(fields) + bool(others)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5), layout="constrained",
                             squeeze=False)
    grids = grid_arrays(sol.grid)
    (xname, x), = grids.items()
    t = np.asarray(sol.t)
    for ax, name in zip(axes[0], fields):
        mesh = ax.pcolormesh(x, t, np.asarray(sol[name]), shading="nearest", cmap="viridis")
        fig.colorbar(mesh, ax=ax, label=name)
        ax.set_xlabel(xname)
        ax.set_ylabel("t")
        ax.set_title(name if title is None else f"{title}: {name}")
    if others:
        ax = axes[0][-1]
        for name in others:
            value = np.asarray(sol[name])
            ax.plot(t, value if value.ndim == 1 else value.reshape(len(t), -1), label=name)
        ax.set_xlabel("t")
        ax.legend(loc="best")
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
