"""The objective of a fit: its structure, fixed at compile time, and its data, an input.

An `Objective` is everything about a fit that shapes the compiled program: the
fitted names and their transforms, each experiment's save times, which columns
it measures at which rows, the names of its overrides, the solve's options and
the noise models. Its `data` (measured values, residual scales, the overrides'
values) is a pytree passed to the program, so a second fit with new data of the
same layout reuses the program (`key` says what "the same" means).

An experiment with `preequilibration` starts at the model's steady state under
those parameter overrides (`Model.steady_state`, differentiated by the implicit
function theorem), then runs under its own parameters.

Without noise models the objective is the sum of squared residuals, model minus
data divided by a scale (`none`, `column`, `relative` or a dict); with noise
models it is the negative log-likelihood of every measured point.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import SymflowError
from ..solve import save_times, steady_state
from ._common import Bounds, column, data_rows
from ._data import Experiment
from ._model import SimulatedModel
from ._noise import NoiseModel

__all__ = ["ColumnLayout", "ExperimentLayout", "Objective", "experiment_layouts", "target_of"]


def target_of(name: str) -> tuple[str, int | None]:
    """A fitted name's model name and experiment: `k` is shared by every experiment,
    `k@2` is experiment 2's own value of `k` (fitted per experiment)."""
    base, sep, index = name.partition("@")
    return (base, int(index)) if sep else (name, None)


@dataclasses.dataclass(frozen=True)
class ColumnLayout:
    """One data column's measured values, the save-time rows they sit at, and the
    divisor of its residuals (one per value)."""

    name: str
    rows: np.ndarray
    values: np.ndarray
    scale: np.ndarray


@dataclasses.dataclass(frozen=True)
class ExperimentLayout:
    """An experiment with the times to save at and its columns' layout."""

    experiment: Experiment
    ts: np.ndarray
    columns: tuple[ColumnLayout, ...]


def experiment_layouts(experiments: Sequence[Experiment], tspan: tuple[float, float],
                       scale: str | Mapping[str, float]) -> tuple[ExperimentLayout, ...]:
    """For each experiment, its save times and, per column, the rows of its measured
    (not missing) values and their scale."""
    layouts = []
    for e in experiments:
        ts = save_times(tspan, e.t)
        rows = data_rows(ts, e.t)
        cols = []
        for col, values in e.columns.items():
            mask = np.isfinite(values)
            s = _column_scale(scale, col, values[mask], e)
            cols.append(ColumnLayout(col, rows[mask], values[mask],
                                     np.broadcast_to(np.asarray(s, dtype=float),
                                                     values[mask].shape)))
        layouts.append(ExperimentLayout(e, ts, tuple(cols)))
    return tuple(layouts)


def _column_scale(scale: str | Mapping[str, float], col: str, values: np.ndarray,
                  e: Experiment) -> float | np.ndarray:
    if isinstance(scale, Mapping):
        return float(scale.get(col, 1.0))
    if scale == "column":
        return float(np.max(np.abs(values), initial=0.0)) or 1.0
    if scale == "none":
        return 1.0
    if scale == "relative":
        s = np.abs(values)
        if np.any(s == 0):
            raise SymflowError(f"scale='relative' divides by the data, and column "
                               f"{col!r} of {e.name} holds a zero",
                               help="use scale='column' or 'none'")
        return s
    raise SymflowError(f"unknown scale {scale!r}",
                       help="none, column, relative, or a dict of divisors by column")


class Objective:
    """What is minimised, as a function of the fitted values and the data pytree."""

    def __init__(self, model: SimulatedModel, names: tuple[str, ...],
                 transforms: tuple[Bounds, ...], layouts: Sequence[ExperimentLayout],
                 sim: Mapping[str, Any], noise: Mapping[str, NoiseModel]):
        self.model = model
        self.names = names
        self.transforms = transforms
        self.layouts = tuple(layouts)
        self.sim = dict(sim)
        self.noise = dict(noise)
        measured = {c.name for layout in self.layouts for c in layout.columns}
        if self.noise:
            missing = sorted(measured - set(self.noise))
            if missing:
                raise SymflowError(f"column {missing[0]!r} has no noise model while others "
                                   "have: the likelihood needs one for every measured column",
                                   help=f"add `{missing[0]} ~ normal(sigma = ...)` to the "
                                        "model's fit section, or give noise={...}")
        # the values a noise model reads that are not fitted: the model's defaults
        wanted = {n for m in self.noise.values() for n in m.parameter_names()}
        defaults = model.complete_params(None) if wanted else {}
        self.targets = tuple(target_of(n) for n in names)
        fitted_bases = {b for b, _ in self.targets}
        self._fixed = {n: jnp.asarray(defaults[n]) for n in wanted if n not in fitted_bases}

    @property
    def likelihood(self) -> bool:
        """Whether the objective is a negative log-likelihood (noise models given)."""
        return bool(self.noise)

    @property
    def least_squares(self) -> bool:
        """Whether the objective is a sum of squared residuals (a least-squares method
        applies)."""
        fitted = {b for b, _ in self.targets}
        return all(m.is_least_squares(fitted) for m in self.noise.values())

    def key(self) -> tuple | None:
        """What the compiled program depends on (`None` if something is unhashable:
        then nothing is kept)."""
        structure = tuple(
            (layout.ts.tobytes(), tuple((c.name, c.rows.tobytes()) for c in layout.columns),
             tuple(sorted(layout.experiment.params)), tuple(sorted(layout.experiment.initial)),
             None if layout.experiment.preequilibration is None
             else tuple(sorted(layout.experiment.preequilibration)))
            for layout in self.layouts)
        key = (self.names, self.transforms, structure, tuple(sorted(self.sim.items())),
               tuple(sorted(self.noise.items())))
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def data(self) -> tuple:
        """The inputs of the compiled program: per experiment, each column's values and
        scales, and the overrides' values."""
        return tuple(
            {"values": tuple(jnp.asarray(c.values) for c in layout.columns),
             "scale": tuple(jnp.asarray(c.scale) for c in layout.columns),
             "params": {k: jnp.asarray(v, dtype=float)
                        for k, v in layout.experiment.params.items()},
             "initial": {k: jnp.asarray(v, dtype=float)
                         for k, v in layout.experiment.initial.items()},
             "pre": {k: jnp.asarray(v, dtype=float)
                     for k, v in (layout.experiment.preequilibration or {}).items()}}
            for layout in self.layouts)

    def natural(self, z: jax.Array) -> jax.Array:
        """The fitted values at the unconstrained coordinates `z` (traceable)."""
        if not self.transforms:
            return jnp.zeros((0,))
        return jnp.stack([t.to_natural(z[i]) for i, t in enumerate(self.transforms)])

    def _columns(self, x: jax.Array, data: tuple, adjoint: Any):
        """Per measured column: (noise model or None, model values, data, scale, theta)."""
        model = self.model
        for j, (layout, d) in enumerate(zip(self.layouts, data)):
            p = dict(d["params"])
            init = dict(d["initial"])
            mine = {b: x[i] for i, (b, k) in enumerate(self.targets) if k is None or k == j}
            for n, v in mine.items():
                (p if n in model.params else init)[n] = v
            theta = {**self._fixed, **{n: v for n, v in p.items() if n in self._fixed},
                     **mine}
            if layout.experiment.preequilibration is not None:
                init = {**self._steady(p, d["pre"]), **init}
            sol = model.simulate(p, initial=init, saveat=layout.ts, adjoint=adjoint, **self.sim)
            for c, values, scale in zip(layout.columns, d["values"], d["scale"]):
                yield self.noise.get(c.name), column(sol, c.name)[c.rows], values, scale, theta

    def _steady(self, p: dict, pre: dict) -> dict:
        """The steady state under `p` with the pre-equilibration overrides (NaN where
        none is found, so that the objective says so), differentiated by the implicit
        function theorem."""
        ss = steady_state(self.model, {**p, **pre})
        return {n: jnp.where(ss.converged, ss[n], jnp.nan) for n in self.model.state_names}

    def residuals(self, x: jax.Array, data: tuple, adjoint: Any) -> jax.Array:
        """Residuals whose sum of squares is the objective (up to a constant; only when
        `least_squares`)."""
        out = []
        for noise, y, values, scale, theta in self._columns(x, data, adjoint):
            out.append((y - values) / scale if noise is None
                       else noise.weighted(y, values, theta))
        return jnp.concatenate(out)

    def value(self, x: jax.Array, data: tuple, adjoint: Any) -> jax.Array:
        """The objective: the sum of squared residuals, or the negative log-likelihood."""
        if not self.likelihood:
            r = self.residuals(x, data, adjoint)
            return jnp.sum(r * r)
        return sum((jnp.sum(noise.nll(y, values, theta))
                    for noise, y, values, _, theta in self._columns(x, data, adjoint)),
                   start=jnp.asarray(0.0))
