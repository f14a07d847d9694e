"""`Solution.plot`: panels by kind and scale, labels from the model's doc strings.

Curves of like units and scale share a panel: the scalars are grouped by the
units of their doc strings (`"volume [mL]"`), then by magnitude (a panel's largest
and smallest curves differ by at most `PANEL_RATIO` in their largest |value|); an
array variable (its elements) and each field get a panel of their own. A 1-D field
is drawn as a heat map over its grid coordinate and time, a 2-D or 3-D field as an
image of its last saved state over its grid. With dense output (`simulate(dense=True)`)
the curves are drawn at `DENSE_POINTS` times from it, not only at the saved ones.

A plot drawn into a figure of its own returns the `Axes` (one panel) or a NumPy
array of them, as pandas' `DataFrame.plot` does: a notebook shows the figure once
(pyplot's inline display), not twice (returning the `Figure` would display it again
as the cell's value). A plot written to a file closes its figure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import SymflowError
from ..files import save_figure
from .frames import split_doc
from .output import field_arrays, grid_arrays

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .solution import Solution

__all__ = ["DENSE_POINTS", "PANEL_RATIO", "curve_values", "panels", "plot_solution"]

PANEL_RATIO = 100.0  # curves whose largest |value| differ by more go to separate panels
DENSE_POINTS = 500  # times drawn from dense output


def plot_solution(sol: Solution, path: str | os.PathLike | None = None, *,
                  names: Sequence[str] | None = None, title: str | None = None,
                  ax: Axes | None = None) -> Any:
    """Draw `names` (default: the states) of `sol`, into `ax` if given (every curve,
    or one field, on that one axes), else into a new figure of one panel per group
    (`panels`); write it to `path` if given. Returns the axes drawn on."""
    import matplotlib

    if path is not None and ax is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    chosen = list(names) if names is not None else list(sol.state_names)
    for name in chosen:
        if name not in sol:
            raise SymflowError(f"the solution has no variable or output named {name!r}",
                               help="it has: " + ", ".join(sol.names))
    docs = dict(sol.docs)
    fields = [n for n in chosen if n in sol.fields]
    lines = [n for n in chosen if n not in sol.fields]
    t, values = curve_values(sol, lines)
    if ax is not None:
        if fields and (len(fields) > 1 or lines):
            raise SymflowError("one axes takes one field, or curves only",
                               help="pass names=[...] with one field, or leave out ax= "
                                    "to draw one panel per field")
        groups = [fields] if fields else [lines]
        axes = np.array([ax])
        fig = ax.figure
    else:
        groups = [[f] for f in fields] + panels(values, docs)
        heights = [3.6 if group[0] in sol.fields else 2.6 for group in groups]
        fig, grid = plt.subplots(len(groups), 1, figsize=(8, sum(heights) + 0.6),
                                 layout="constrained", squeeze=False,
                                 gridspec_kw={"height_ratios": heights})
        axes = grid[:, 0]
    for panel, group in zip(axes, groups):
        if group and group[0] in sol.fields:
            _draw_field(fig, panel, sol, group[0], docs)
        else:
            _draw_curves(panel, sol, t, {n: values[n] for n in group}, docs)
    if title:
        if len(axes) == 1:
            axes[0].set_title(title)
        else:
            fig.suptitle(title)
    if path is not None:
        save_figure(fig, path, close=ax is None)  # a figure of the caller's stays open
    return axes[0] if len(axes) == 1 else axes


def curve_values(sol: Solution, names: Sequence[str]
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The times and values (time first) to draw `names` at: `DENSE_POINTS` times of
    the dense output where the solution has it, else the saved times (with events,
    the rows just before and after each event as well)."""
    if not names:
        return np.asarray(sol.t), {}
    if sol.dense is not None and sol.events is None:
        t = np.linspace(float(sol.t[0]), float(sol.t[-1]), DENSE_POINTS)
        ys = jax.vmap(sol.dense.evaluate)(jnp.asarray(t))
        outputs = sol.outputs
        assert outputs is not None
        memo: dict = {}
        return t, {n: np.asarray(outputs.value(t, ys, sol.params, n, memo)) for n in names}
    if sol.events is None:
        return np.asarray(sol.t), {n: np.asarray(sol[n]) for n in names}
    columns = sol.columns()  # the rows around each event too
    out = {}
    for name in names:
        if name in columns:
            out[name] = columns[name]
        else:
            elements = [k for k in columns if k.startswith(name + "[")]
            out[name] = np.stack([columns[k] for k in elements], axis=1)
    return columns["t"], out


def panels(values: Mapping[str, np.ndarray], docs: Mapping[str, str]) -> list[list[str]]:
    """Curves grouped into panels: each array variable alone; the scalars by the
    units of their doc strings, then by scale (largest |value|, grouped from the
    largest down while within `PANEL_RATIO` of the group's first); panels in the
    order of their first curve."""
    groups: list[list[str]] = [[n] for n, v in values.items() if np.ndim(v) > 1]
    by_units: dict[str | None, list[str]] = {}
    for name, value in values.items():
        if np.ndim(value) <= 1:
            by_units.setdefault(split_doc(docs.get(name))[1], []).append(name)
    for members in by_units.values():
        scale = {n: _scale(values[n]) for n in members}
        scaled: list[list[str]] = []
        top = 0.0
        for name in sorted((n for n in members if scale[n] > 0), key=lambda n: -scale[n]):
            if not scaled or top > PANEL_RATIO * scale[name]:
                scaled.append([])
                top = scale[name]
            scaled[-1].append(name)
        zeros = [n for n in members if scale[n] == 0]  # no scale: with the largest
        if zeros:
            scaled[0:1] = [(scaled[0] if scaled else []) + zeros]
        groups.extend(scaled)
    order = {n: i for i, n in enumerate(values)}
    for group in groups:
        group.sort(key=order.__getitem__)
    return sorted(groups, key=lambda g: order[g[0]])


def _scale(value: np.ndarray) -> float:
    finite = np.abs(value[np.isfinite(value)])
    return float(finite.max()) if finite.size else 0.0


def _label(name: str, docs: Mapping[str, str]) -> str:
    """`amount of drug [mg]` from the doc string of `name`, else `name`."""
    label, units = split_doc(docs.get(name))
    return (label or name) + (f" [{units}]" if units else "")


def _draw_curves(ax: Axes, sol: Solution, t: np.ndarray, values: Mapping[str, np.ndarray],
                 docs: Mapping[str, str]) -> None:
    count = 0
    for name, value in values.items():
        label = name if not split_doc(docs.get(name))[0] else (
            f"{name}: {split_doc(docs.get(name))[0]}")
        if np.ndim(value) == 1:
            ax.plot(t, value, label=label)
            count += 1
        else:
            flat = value.reshape(len(t), -1)
            for i in range(flat.shape[1]):
                ax.plot(t, flat[:, i], label=f"{name}[{i}]")
            count += flat.shape[1]
    if sol.events is not None and len(sol.events):
        for time in np.unique(sol.events.times)[:200]:  # mark where events fired
            ax.axvline(time, color="0.6", linewidth=0.6, linestyle=":", zorder=0)
        ax.plot([], [], color="0.6", linewidth=0.6, linestyle=":",
                label=f"events ({len(sol.events)})")
    units = {split_doc(docs.get(n))[1] for n in values}
    if len(values) == 1:
        ax.set_ylabel(_label(next(iter(values)), docs))
    else:
        ax.set_ylabel("value" + (f" [{units.pop()}]" if len(units) == 1 and None not in units
                                 else ""))
    ax.set_xlabel("t")
    if 1 < count <= 12 or (sol.events is not None and len(sol.events)):
        ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)


def _draw_field(fig: Any, ax: Axes, sol: Solution, name: str,
                docs: Mapping[str, str]) -> None:
    """A 1-D field as a heat map over its coordinate and time; a 2-D or 3-D one as an
    image of its last saved state (a 3-D one: the middle slice along its last axis)."""
    grids = grid_arrays(sol.grid)
    t = np.asarray(sol.t)
    value = field_arrays(sol)[name]
    if len(grids) == 1:
        (xname, x), = grids.items()
        mesh = ax.pcolormesh(x, t, value, shading="nearest", cmap="viridis")
        ax.set_xlabel(xname)
        ax.set_ylabel("t")
        ax.set_title(name, fontsize=10)
    else:
        (xname, x), (yname, y) = list(grids.items())[:2]
        final = value[-1]
        if final.ndim == 3:
            final = final[:, :, final.shape[2] // 2]
        mesh = ax.pcolormesh(x, y, final.T, shading="nearest", cmap="viridis")
        ax.set_xlabel(xname)
        ax.set_ylabel(yname)
        ax.set_aspect("equal")
        ax.set_title(f"{name} at t = {t[-1]:g}", fontsize=10)
    fig.colorbar(mesh, ax=ax, label=_label(name, docs))
