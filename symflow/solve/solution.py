"""The result of a simulation: times, trajectories by name, and ways to save them."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import numpy as np

from ..errors import SymflowError
from ..files import replacing

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Solution"]


class Solution(eqx.Module):
    """Saved times and the trajectory of every state and observed output.

    `sol.t` has shape `(n,)`; `sol["x"]` has shape `(n,)` for a scalar and
    `(n, size)` for an array variable. A `Solution` is a pytree, so it can be
    returned from `jax.jit` and differentiated through.

    `result` is diffrax's result code (0 on success) and `t_reached` the time
    the solver reached; outside a `jax.jit` a failed solve raises `SolverError`
    before a `Solution` is made.
    """

    # NumPy arrays on the concrete path (`Simulator.run` slices one packed output),
    # JAX arrays under a trace or with dense output
    t: jax.Array | np.ndarray
    values: dict[str, jax.Array | np.ndarray]
    result: jax.Array | np.ndarray
    t_reached: jax.Array | np.ndarray
    size_reached: jax.Array | np.ndarray  # max |y| where the solver stopped, to explain failures
    initial_size: jax.Array | np.ndarray  # max |y0|
    dense: Any = None  # diffrax's solution, for interpolation
    events: Any = None  # a model with events: the `EventLog` of this solve
    state_names: tuple[str, ...] = eqx.field(static=True, default=())
    observed_names: tuple[str, ...] = eqx.field(static=True, default=())
    _unpack: Any = eqx.field(static=True, default=None)
    # PDE models: the grid of each space dimension, (name, lower, upper, points,
    # periodic), and the fields among the states (see _fields_output.py).
    grid: tuple = eqx.field(static=True, default=())
    fields: tuple[str, ...] = eqx.field(static=True, default=())

    def __getitem__(self, name: str) -> jax.Array | np.ndarray:
        try:
            return self.values[name]
        except KeyError:
            raise SymflowError(
                f"the solution has no variable or output named {name!r}",
                help="it has: " + ", ".join(self.names)) from None

    def __contains__(self, name: str) -> bool:
        return name in self.values

    @property
    def names(self) -> tuple[str, ...]:
        """States, then observed outputs, in the model's order (`values` is a pytree
        dict, whose keys JAX keeps sorted)."""
        return self.state_names + self.observed_names

    def evaluate(self, t: float | jax.Array | np.ndarray) -> dict[str, jax.Array]:
        """The states at time(s) `t` by dense interpolation (needs `simulate(dense=True)`)."""
        if self.dense is None:
            raise SymflowError("this solution has no dense output",
                               help="simulate with dense=True")
        if not isinstance(t, jax.core.Tracer):
            lo, hi = sorted((float(self.t[0]), float(self.t[-1])))
            outside = np.asarray(t)[(np.asarray(t) < lo) | (np.asarray(t) > hi)]
            if outside.size:
                raise SymflowError(f"t = {outside.ravel()[0]:g} is outside the solved span "
                                   f"[{lo:g}, {hi:g}]")
        if np.ndim(t) == 0:
            return self._unpack(self.dense.evaluate(t))
        return jax.vmap(lambda s: self._unpack(self.dense.evaluate(s)))(np.asarray(t))

    def columns(self) -> dict[str, np.ndarray]:
        """Flat columns: `t`, then one per scalar and per array element (`x[0]`, ...).
        With events: the saved rows up to where the solve stopped, two rows per event
        (just before and just after it) and a column `event` (`EventLog.merged`)."""
        out = self._save_columns()
        if self.events is None:
            return out
        return self.events.merged(out, float(self.t_reached))

    def _save_columns(self) -> dict[str, np.ndarray]:
        out = {"t": np.asarray(self.t)}
        for name in self.names:
            value = np.asarray(self.values[name])
            if value.ndim == 1:
                out[name] = value
            else:
                for i in range(value.shape[1]):
                    out[f"{name}[{i}]"] = value[:, i]
        return out

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write a CSV file: column `t`, then every variable and output."""
        columns = self.columns()
        with replacing(path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            kinds = [int if name == "event" else float for name in columns]
            for row in zip(*columns.values()):
                writer.writerow([repr(kind(x)) for kind, x in zip(kinds, row)])

    def to_npz(self, path: str | os.PathLike) -> None:
        """Write a NumPy `.npz` file with arrays keyed `t` and by name."""
        from .output import field_arrays, grid_arrays

        values = {k: np.asarray(self.values[k]) for k in self.names}
        values.update(field_arrays(self) if self.fields else {})  # (t, nx, ny, ...)
        if self.events is not None:  # the event log, beside the saved series
            log = self.events
            values.update({"events.t": log.times, "events.index": log.which,
                           "events.label": np.array(log.names, dtype=str)})
            values.update({f"events.before.{k}": log.before(k) for k in self.names})
            values.update({f"events.after.{k}": log.after(k) for k in self.names})
        # allow_pickle is numpy's default, named so that no array can take the name
        with replacing(path) as tmp:
            np.savez(tmp, allow_pickle=True, t=np.asarray(self.t), **values,
                     **{f"grid.{k}": v for k, v in grid_arrays(self.grid).items()})

    def save(self, path: str | os.PathLike) -> None:
        """Write `.csv` or `.npz`, chosen by the file's extension."""
        suffix = os.path.splitext(str(path))[1].lower()
        if suffix == ".csv":
            self.to_csv(path)
        elif suffix == ".npz":
            self.to_npz(path)
        else:
            raise SymflowError(f"cannot write {suffix or 'a file with no extension'}",
                               help="write .csv or .npz")

    def plot(self, path: str | os.PathLike | None = None, *,
             names: Sequence[str] | None = None, title: str | None = None) -> Figure:
        """Plot the trajectories against time; save to `path` if given. Returns the figure."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        if self.fields:
            from .output import plot_fields

            return plot_fields(self, path, names=names, title=title)
        names = list(names) if names is not None else list(self.state_names)
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        columns = self.columns()  # with events: the rows just before and after each
        t = columns["t"]
        curves = [k for name in names for k in columns
                  if k == name or k.startswith(name + "[")]
        for key in curves:
            ax.plot(t, columns[key], label=key)
        if self.events is not None and len(self.events):
            for time in np.unique(self.events.times)[:200]:  # mark where events fired
                ax.axvline(time, color="0.6", linewidth=0.6, linestyle=":", zorder=0)
            ax.plot([], [], color="0.6", linewidth=0.6, linestyle=":",
                    label=f"events ({len(self.events)})")
        ax.set_xlabel("t")
        ax.set_ylabel("value")
        if title:
            ax.set_title(title)
        if len(curves) <= 12:
            ax.legend(loc="best")
        ax.grid(alpha=0.3)
        if path is not None:
            with replacing(path) as tmp:
                fig.savefig(tmp, dpi=120)
            plt.close(fig)
        return fig
