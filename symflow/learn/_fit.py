"""Fitting parameters and initial values to data.

The residuals are model minus data at every measured point of every
experiment (missing values left out), optionally divided by a per-column scale.
Fitted quantities are optimised in an unconstrained coordinate `z`:

- bounds `in [lo, hi]` (both finite): `p = lo + (hi - lo) * sigmoid(z)`;
- only a lower bound: `p = lo + exp(z)`; only an upper: `p = hi - exp(z)`;
- in log space (`log=[...]`): `p = exp(z)` (or the logistic map on
  `[log lo, log hi]` when `lo > 0`), with `p = hi * e^z / (hi + e^z)` when only
  `hi` is finite, so that rate constants spanning decades are well scaled;
- otherwise `p = z`.

Least squares (`levenberg_marquardt`, the default) uses optimistix, whose
Levenberg–Marquardt linearises the residuals in forward mode, so the solve
runs with diffrax's `ForwardMode` adjoint. `bfgs` minimises the sum of squares
with optimistix and reverse-mode gradients (`checkpoint`); `adam` takes
`steps` optax steps.

Standard errors come from the Gauss–Newton covariance at the optimum,
`s^2 (J^T J)^-1` with `s^2 = RSS / (n - k)` and `J` the Jacobian of the
residuals with respect to the fitted values in their own (not transformed)
coordinates. They are meaningful when the residuals are roughly independent
with equal variance within each scale, and the optimum is inside the bounds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import catalog
from ..errors import SymflowError
from ..solve import save_times, split_names
from ._common import Bounds, bounds_of, column, data_rows
from ._data import Experiment, as_experiments, check_experiment
from ._fit_result import FitError, FitResult
from ._model import SimulatedModel
from ._optimisers import Optimiser, optimiser_named

__all__ = ["FitResult", "FitError", "fit", "OPTIMIZERS"]

OPTIMIZERS = catalog.OPTIMIZERS  # the names; `OPTIMISERS` maps each to its object


def fit(model: SimulatedModel, data, params: Sequence[str] | None = None, *,
        optimizer: str = "levenberg_marquardt",
        steps: int | None = None,
        log: Sequence[str] = (),
        scale: str | Mapping[str, float] = "none",
        rtol: float = 1e-8, atol: float = 1e-8,
        learning_rate: float = 0.02,
        progress: bool = False,
        **options) -> FitResult:
    """Fit parameters (and initial values) of `model` to `data`.

    - `data`: a CSV path, a dict of columns, an `Experiment`, or a list of them.
    - `params`: names to fit, parameters or states (their initial values);
      default every free parameter.
    - `optimizer`: `levenberg_marquardt`, `bfgs` or `adam`; `steps` the most
      iterations (default 200; adam's number of steps, default 2000).
    - `log`: names fitted in log space.
    - `scale`: `none` (raw residuals), `column` (each column divided by the
      largest |value| of its data), `relative` (each residual divided by its
      data value: for multiplicative noise), or a dict of divisors by column.
    - `rtol`, `atol`: the optimiser's convergence tolerances.
    - `options`: passed to `simulate` (`solver`, `rtol`... of the solve are
      given as `solver=`, `tspan=`, and `solve_rtol=`/`solve_atol=`).
    """
    chosen = optimiser_named(optimizer, rtol=rtol, atol=atol, learning_rate=learning_rate)
    names, p_names, s_names = check_fitted_names(model, params, log)
    sim = solve_options(model, options)
    experiments = tuple(as_experiments(data))
    for e in experiments:
        check_experiment(model, e, sim["tspan"])
    layouts = experiment_layouts(experiments, sim["tspan"], scale)
    n_data = sum(c.rows.size for layout in layouts for c in layout.columns)
    if n_data <= len(names):
        raise SymflowError(f"{n_data} data points cannot determine {len(names)} values")
    if sim.get("solver", model.settings.solver) == "auto":
        # decide once, from concrete starting values, before the residuals are traced
        e = experiments[0]
        sim["solver"] = model.runner.choose_auto(model.complete_params(e.params),
                                                 model.check_initial(e.initial), *sim["tspan"])
    start = start_values(model, p_names, s_names)
    transforms = tuple(bounds_of(model, n, log=n in log) or Bounds() for n in names)
    residuals = make_residuals(model, names, layouts, sim)

    def natural(z):
        return jnp.stack([t.to_natural(z[i]) for i, t in enumerate(transforms)])

    z0 = jnp.asarray([t.to_free(start[n]) for t, n in zip(transforms, names)], dtype=float)
    found = chosen.minimise(lambda z, _: residuals(natural(z), chosen.adjoint), z0,
                            steps=steps if steps is not None else chosen.default_steps,
                            progress=progress)
    return fit_result(model, names, natural, residuals, found, chosen, start=start,
                      n_data=n_data, experiments=experiments, sim=sim)


# ---------------------------------------------------------------- checks


def check_fitted_names(model: SimulatedModel, params: Sequence[str] | None,
                       log: Sequence[str]) -> tuple[tuple[str, ...], list[str], list[str]]:
    """The names to fit (default: every free parameter, not the inputs' tables), split
    into parameters and states (initial values); every mistake named."""
    tables = {i.name for i in model.system.inputs}
    names = tuple(params) if params is not None else tuple(
        n for n in model.params if n not in tables)
    if not names:
        raise SymflowError(f"{model.name} has no free parameters to fit")
    for name in names:
        if name in tables:
            raise SymflowError(
                f"fit estimates scalar parameters: {name!r} is the table of an input",
                help="fit a table's values with symflow.learn.train(model, data, "
                     "params=[...]) or with jax.grad of your own loss")
    if len(set(names)) != len(names):
        raise SymflowError("a name is listed twice in params")
    p_names, s_names = split_names(model, names, what="fit")
    for name in log:
        if name not in names:
            raise SymflowError(f"log={name!r} is not among the fitted names",
                               help="fitted: " + ", ".join(names))
    for name in s_names:
        if model.generated.states[model.state_names.index(name)].shape != ():
            raise SymflowError(f"fitting the initial value of array state {name!r} is not "
                               "supported yet")
    return names, p_names, s_names


def solve_options(model: SimulatedModel, options: Mapping) -> dict:
    """The options of every `simulate` call: the solve's tolerances renamed from
    `solve_rtol`/`solve_atol`, and `tspan` made explicit."""
    sim = dict(options)
    if "solve_rtol" in sim:
        sim["rtol"] = sim.pop("solve_rtol")
    if "solve_atol" in sim:
        sim["atol"] = sim.pop("solve_atol")
    sim["tspan"] = tuple(sim.get("tspan") or model.settings.tspan)
    return sim


# ---------------------------------------------------------------- experiment layout


@dataclasses.dataclass(frozen=True)
class ColumnLayout:
    """One data column's measured values, the save-time rows they sit at, and the
    divisor of its residuals (a number, or one per value for `relative`)."""

    name: str
    rows: np.ndarray
    values: np.ndarray
    scale: float | np.ndarray


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
            cols.append(ColumnLayout(col, rows[mask], values[mask],
                                     _column_scale(scale, col, values[mask], e)))
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


# ---------------------------------------------------------------- values and residuals


def start_values(model: SimulatedModel, p_names: Sequence[str],
                 s_names: Sequence[str]) -> dict[str, float]:
    """The starting point: the defaults of the fitted parameters and initial values."""
    base = model.complete_params(None)
    start = {n: float(base[n]) for n in p_names}
    defaults0 = model.initial_values(base)
    for n in s_names:
        start[n] = float(np.asarray(defaults0[n]))
    return start


def make_residuals(model: SimulatedModel, names: Sequence[str],
                   layouts: Sequence[ExperimentLayout], sim: Mapping
                   ) -> Callable[[jax.Array, str], jax.Array]:
    """`residuals(x, adjoint)`: model minus data over every experiment, divided by
    the scales, at the fitted values `x` (in `names` order; traceable)."""
    def residuals(x, adjoint):
        out = []
        for layout in layouts:
            e = layout.experiment
            p = dict(e.params)
            init = dict(e.initial)
            for i, n in enumerate(names):
                (p if n in model.params else init)[n] = x[i]
            sol = model.simulate(p, initial=init, saveat=layout.ts, adjoint=adjoint, **sim)
            for c in layout.columns:
                out.append((column(sol, c.name)[c.rows] - c.values) / c.scale)
        return jnp.concatenate(out)

    return residuals


# ---------------------------------------------------------------- covariance and report


def fit_result(model: SimulatedModel, names: tuple[str, ...], natural: Callable,
               residuals: Callable, found, optimiser: Optimiser, *, start: dict,
               n_data: int, experiments: tuple[Experiment, ...], sim: Mapping) -> FitResult:
    """The fitted values at the optimiser's point, their Gauss–Newton standard
    errors, and the result (raising `FitError`, holding it, if not converged)."""
    # the fitted values, the residuals and their Jacobian in the fitted values' own
    # coordinates, in one compiled program (no eager operations, each of which
    # compiles its own small program; a failed solve gives non-finite residuals
    # here rather than raising)
    def at_optimum(z):
        x = natural(z)
        jac, r = jax.jacfwd(lambda x: (residuals(x, "forward"),) * 2, has_aux=True)(x)
        return x, jac, r

    x, jac, r = (np.asarray(a) for a in jax.jit(at_optimum)(found.z))
    loss = float(np.sum(r * r))
    values = {n: float(v) for n, v in zip(names, np.asarray(x))}
    converged, message = found.converged, found.message
    if not np.isfinite(loss):
        converged = False
        message = "the loss is not finite at the last point: the model failed to solve there"
    cov = covariance(jac, loss, n_data)
    stderr = {n: float(np.sqrt(max(cov[i, i], 0.0))) for i, n in enumerate(names)}
    result = FitResult(names=names, values=values, stderr=stderr, initial_guess=start,
                       covariance=cov, loss=loss, n_data=n_data, steps=found.steps,
                       converged=converged, optimizer=optimiser.name, message=message,
                       model=model, experiments=experiments,
                       options={k: v for k, v in sim.items() if k != "saveat"})
    if not converged:
        best = ", ".join(f"{n} = {v:.6g}" for n, v in values.items())
        raise FitError(f"the fit did not converge: {message}; best point: {best} "
                       f"(loss {loss:.6g})", result,
                       help="raise --steps, start nearer (edit the defaults), fit fewer "
                            "values, or fit rate constants in log space")
    return result


def covariance(jac: np.ndarray, loss: float, n_data: int) -> np.ndarray:
    """The Gauss–Newton covariance `s^2 (J^T J)^-1`, `s^2 = RSS / (n - k)`."""
    dof = max(n_data - jac.shape[1], 1)
    return loss / dof * np.linalg.pinv(jac.T @ jac)
