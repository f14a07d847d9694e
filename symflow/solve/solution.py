"""The result of a simulation: times, trajectories by name, and ways to save them."""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import numpy as np

from ..errors import SymflowError
from ..files import replacing
from .observed import Outputs

if TYPE_CHECKING:
    import pandas
    import xarray
    from matplotlib.axes import Axes

__all__ = ["Solution"]


class Solution(eqx.Module):
    """Saved times and the trajectory of every state and observed output.

    `sol.t` has shape `(n,)`; `sol["x"]` has shape `(n,)` for a scalar and
    `(n, size)` for an array variable. A `Solution` is a pytree, so it can be
    returned from `jax.jit` and differentiated through.

    It holds the saved states (`ys`, time first) and the parameters of the solve;
    a state is read as a view of `ys`, an observed output is computed from them
    when first read (`observed.Outputs`: pure aliases without compiling anything,
    the others all at once by one program compiled per model and remembered by the
    solution). `values` reads them all by name, as a mapping.

    `result` is diffrax's result code (0 on success) and `t_reached` the time
    the solver reached; outside a `jax.jit` a failed solve raises `SolverError`
    before a `Solution` is made.
    """

    # NumPy arrays on the concrete path (`Simulator.run` slices one packed output),
    # JAX arrays under a trace or with dense output
    t: jax.Array | np.ndarray
    ys: jax.Array | np.ndarray  # (times, flat state vector)
    result: jax.Array | np.ndarray
    t_reached: jax.Array | np.ndarray
    size_reached: jax.Array | np.ndarray  # max |y| where the solver stopped, to explain failures
    initial_size: jax.Array | np.ndarray  # max |y0|
    # the state where the solver stopped (`t_reached`), to name what limited the step
    y_reached: Any = None
    dense: Any = None  # diffrax's solution, for interpolation
    events: Any = None  # a model with events: the `EventLog` of this solve
    params: Any = None  # the parameters of the solve: observed outputs are computed with them
    state_names: tuple[str, ...] = eqx.field(static=True, default=())
    observed_names: tuple[str, ...] = eqx.field(static=True, default=())
    outputs: Outputs | None = eqx.field(static=True, default=None)
    _unpack: Any = eqx.field(static=True, default=None)
    # PDE models: the grid of each space dimension, (name, lower, upper, points,
    # periodic), and the fields among the states (see _fields_output.py).
    grid: tuple = eqx.field(static=True, default=())
    fields: tuple[str, ...] = eqx.field(static=True, default=())
    # the model's doc strings of its states and outputs, (name, doc) (labels, units)
    docs: tuple[tuple[str, str], ...] = eqx.field(static=True, default=())

    @classmethod
    def assemble(cls, **fields: Any) -> Solution:
        """A `Solution` of these fields (the others at their defaults) without
        equinox's `__init__`, as `jax.tree.unflatten` makes one: on the path of every
        concrete call (`Simulator.run`)."""
        sol = object.__new__(cls)
        for f in _FIELDS:
            object.__setattr__(sol, f.name, fields.pop(f.name, f.default))
        if fields:
            raise TypeError(f"Solution has no field {next(iter(fields))!r}")
        return sol

    def with_params(self, params: Any) -> Solution:
        """This solution with the parameters its observed outputs are computed with
        (and those of its event log)."""
        events = self.events
        if events is not None:
            events = dataclasses.replace(events, params=params)
        return dataclasses.replace(self, params=params, events=events)

    def remember_computed(self, values: Mapping[str, Any]) -> None:
        """Keep the computed observed outputs (every one that is not an alias, by name)
        of this solution, computed elsewhere (a kept program, `cli/_kept.py`)."""
        assert self.outputs is not None and set(values) == set(self.outputs.computed)
        _memo(self)["computed"] = dict(values)

    def __getitem__(self, name: str) -> jax.Array | np.ndarray:
        outputs = self.outputs
        if outputs is None or not outputs.has(name):
            raise SymflowError(
                f"the solution has no variable or output named {name!r}",
                help="it has: " + ", ".join(self.names))
        return outputs.value(self.t, self.ys, self.params, name, _memo(self))

    def __contains__(self, name: object) -> bool:
        return self.outputs is not None and isinstance(name, str) and self.outputs.has(name)

    @property
    def values(self) -> Mapping[str, jax.Array | np.ndarray]:
        """Every state and observed output by name (read lazily: an observed output is
        computed when first read)."""
        return _Values(self)

    @property
    def names(self) -> tuple[str, ...]:
        """States, then observed outputs, in the model's order."""
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

    def to_pandas(self, *, names: Sequence[str] | None = None) -> pandas.DataFrame:
        """A `pandas.DataFrame` indexed by time `t`, with the columns of the CSV file
        (`names`: only these variables); doc strings, units and the grid in
        `df.attrs`. Needs pandas (`pip install symflow[data]`); see `frames.to_pandas`."""
        from .frames import to_pandas

        return to_pandas(self, names=names)

    def to_xarray(self, *, names: Sequence[str] | None = None) -> xarray.Dataset:
        """An `xarray.Dataset` on the coordinate `t`, fields on their grid's coordinates,
        doc strings as `long_name` and `units` attributes. Needs xarray
        (`pip install symflow[data]`); see `frames.to_xarray`."""
        from .frames import to_xarray

        return to_xarray(self, names=names)

    def to_netcdf(self, path: str | os.PathLike) -> None:
        """Write `to_xarray()` to a NetCDF (version 3) file through SciPy."""
        from .frames import to_netcdf

        to_netcdf(self, path)

    def save(self, path: str | os.PathLike) -> None:
        """Write `.csv`, `.npz` or `.nc` (NetCDF), chosen by the file's extension."""
        suffix = os.path.splitext(str(path))[1].lower()
        if suffix == ".csv":
            self.to_csv(path)
        elif suffix == ".npz":
            self.to_npz(path)
        elif suffix == ".nc":
            self.to_netcdf(path)
        else:
            raise SymflowError(f"cannot write {suffix or 'a file with no extension'}",
                               help="write .csv, .npz or .nc")

    def plot(self, path: str | os.PathLike | None = None, *,
             names: Sequence[str] | None = None, title: str | None = None,
             ax: Axes | None = None) -> Any:
        """Plot `names` (default: the states) against time; write to `path` if given.

        Curves go to panels by the units of their doc strings and by scale (a
        panel's curves within 100x of each other), an array variable and each field
        to panels of their own (a 1-D field as a heat map over its coordinate and
        time); y labels come from the doc strings (`"volume [mL]"`). `ax=` draws
        into axes of yours instead (every curve there, or one field); `title` sets
        the title. With dense output (`simulate(dense=True)`) the curves are drawn
        from it at 500 times. Returns the `Axes` (one panel) or an array of them,
        as pandas does: a notebook shows the figure once. See `plots.py`."""
        from .plots import plot_solution

        return plot_solution(self, path, names=names, title=title, ax=ax)


_FIELDS = dataclasses.fields(Solution)


def _memo(owner: Any) -> dict:
    """The observed outputs `owner` (a solution or an event log) has computed: kept on
    the instance, outside its pytree (an unflattened copy computes them anew)."""
    memo = owner.__dict__.get("_memo")
    if memo is None:
        memo = {}
        object.__setattr__(owner, "_memo", memo)
    return memo


class _Values(Mapping):
    """`Solution.values`: its states and observed outputs as a read-only mapping."""

    def __init__(self, sol: Solution):
        self._sol = sol

    def __getitem__(self, name: str) -> jax.Array | np.ndarray:
        if name not in self._sol:
            raise KeyError(name)
        return self._sol[name]

    def __contains__(self, name: object) -> bool:
        return name in self._sol

    def __iter__(self) -> Iterator[str]:
        return iter(self._sol.names)

    def __len__(self) -> int:
        return len(self._sol.names)
