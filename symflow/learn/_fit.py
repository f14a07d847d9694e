"""Fitting parameters and initial values to data.

Without noise models the objective is the sum of squared residuals, model minus
data at every measured point of every experiment (missing values left out),
optionally divided by a per-column scale; with noise models (a model's `fit`
section, or `noise=`) it is the negative log-likelihood of the data, and the
noise parameters that are fitted are estimated with the rest (`_noise.py`).
Fitted quantities are optimised in an unconstrained coordinate `z` (`Bounds`):

- bounds `in [lo, hi]` (both finite): `p = lo + (hi - lo) * sigmoid(z)`;
- only a lower bound: `p = lo + exp(z)`; only an upper: `p = hi - exp(z)`;
- in log space (`log=[...]`): `p = exp(z)` (or the logistic map on
  `[log lo, log hi]` when `lo > 0`), with `p = hi * e^z / (hi + e^z)` when only
  `hi` is finite, so that rate constants spanning decades are well scaled;
- otherwise `p = z`.

Least squares (`levenberg_marquardt`, the default for a sum of squares) uses
optimistix, whose Levenberg–Marquardt linearises the residuals in forward mode,
so the solve runs with diffrax's `ForwardMode` adjoint. `bfgs` (the default for
a likelihood with fitted noise parameters) minimises the objective with
optimistix and reverse-mode gradients (`checkpoint`); `adam` takes `steps` optax
steps.

The optimisation, a batch of `starts` of it (multistart: starts drawn inside the
bounds by `_starts.py`, one `jax.vmap`ped program), and the evaluation at the
optimum are compiled once per model and option set and kept (`_program.py`):
a second fit with new data of the same layout starts at once.

Standard errors: for a sum of squares, from the Gauss–Newton covariance at the
optimum, `s^2 (J^T J)^-1` with `s^2 = RSS / (n - k)` and `J` the Jacobian of the
residuals with respect to the fitted values in their own coordinates; for a
likelihood, from the inverse of its Hessian (the observed Fisher information).
They are meaningful near a well-determined optimum inside the bounds; use
`profile` where they are not.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import catalog
from ..errors import SymflowError
from ..solve import check_result_size, split_names
from ._best import BestSoFar
from ._common import Bounds, bounds_of
from ._data import Experiment, as_experiments, check_experiment
from ._fit_result import FitError, FitResult, Multistart
from ._model import SimulatedModel
from ._noise import NoiseModel, noise_models
from ._objective import Objective, experiment_layouts, target_of
from ._optimisers import Optimiser, optimiser_named, status_message
from ._program import FitProgram, program_for
from ._starts import sampler_named, start_values
from ._stepping import Chunk

__all__ = ["FitResult", "FitError", "FitSetup", "fit", "prepare", "OPTIMIZERS",
           "choose_optimiser", "Progress", "batched_by_default"]

OPTIMIZERS = catalog.OPTIMIZERS  # the names; `OPTIMISERS` maps each to its object
# a multistart start reaches the best value when within this fraction of it
REACH_RTOL = 1e-4


def batched_by_default() -> bool:
    """Whether multistart runs its starts as one vmapped program by default: yes,
    except on CPU.

    Under `vmap` the optimiser's loop (and each solve's) runs until its slowest
    lane is done, so every start pays for the slowest one's iterations; a GPU runs
    the lanes side by side, 2 CPU cores do not. Measured (benchmarks/fit.py,
    FitzHugh–Nagumo, 50 starts, 2 shared cores): vmapped 28 s of CPU per run, one
    after another 22.5 s.
    """
    return jax.default_backend() != "cpu"


def fit(model: SimulatedModel, data, params: Sequence[str] | None = None, *,
        optimizer: str | None = None,
        steps: int | None = None,
        log: Sequence[str] = (),
        scale: str | Mapping[str, float] = "none",
        noise: Mapping[str, NoiseModel | str] | None = None,
        per_experiment: Sequence[str] = (),
        starts: int = 1, sampler: str = "lhs", seed: int = 0, batched: bool | None = None,
        mesh: jax.sharding.Mesh | None = None,
        rtol: float = 1e-8, atol: float = 1e-8,
        learning_rate: float = 0.02,
        progress: bool | Callable[[int, float], None] = False,
        best: BestSoFar | None = None,
        **options) -> FitResult:
    """Fit parameters (and initial values) of `model` to `data`.

    - `data`: a CSV path, a dict of columns, an `Experiment`, or a list of them.
    - `params`: names to fit, parameters or states (their initial values);
      default every free parameter.
    - `optimizer`: `levenberg_marquardt`, `bfgs` or `adam` (default: the first for
      a sum of squares, `bfgs` for a likelihood with fitted noise parameters);
      `steps` the most iterations (default 200; adam's number of steps, 2000).
    - `log`: names fitted in log space.
    - `per_experiment`: fitted names that take one value per experiment (reported
      as `name@0`, `name@1`, ... in experiment order); the others are shared.
    - `scale`: `none` (raw residuals), `column` (each column divided by the
      largest |value| of its data), `relative` (each residual divided by its
      data value: for multiplicative noise), or a dict of divisors by column.
    - `noise`: noise models by observable, overriding the model's `fit` section
      (`{"x": "normal(sigma = s_x)"}`): the objective becomes the negative
      log-likelihood.
    - `starts`: how many local optimisations (multistart: drawn inside the
      bounds by `sampler`, `lhs` or `sobol`, seeded by `seed`, run as one
      vmapped program when `batched`, else one after another; default: batched
      except on CPU, see `batched_by_default`); the result is the best, with
      `result.multistart`. `mesh` (a 1-D `jax.sharding.Mesh`) shards a batch of
      starts over its devices.
    - `rtol`, `atol`: the optimiser's convergence tolerances.
    - `progress`: print each iteration's objective, or call `progress(step, value)`
      (multistart one after another: each start's final objective, by start; as a
      batch: the lowest objective tried in each compiled call of the batch).
    - `best`: a `BestSoFar` that keeps, while the fit runs, the best values
      tried (by name), for another thread to read (an interrupted fit keeps
      them: `symflow fit` writes them on Ctrl-C), multistart fits too.
    - `options`: passed to `simulate` (`solver`, `rtol`... of the solve are
      given as `solver=`, `tspan=`, and `solve_rtol=`/`solve_atol=`).
    """
    setup = prepare(model, data, params, log=log, scale=scale, noise=noise, options=options,
                    per_experiment=per_experiment)
    chosen = choose_optimiser(optimizer, setup.objective, rtol=rtol, atol=atol,
                              learning_rate=learning_rate)
    program = program_for(setup.objective, chosen,
                          steps if steps is not None else chosen.default_steps)
    if starts < 1:
        raise SymflowError(f"starts must be at least 1 (got {starts})")
    if starts == 1:
        z0 = jnp.asarray([t.to_free(setup.start[n]) for t, n in
                          zip(setup.objective.transforms, setup.objective.names)], dtype=float)
        z, taken, status = local_fit(program, z0, setup.data, progress, best=best)
        return fit_result(setup, program, z, taken, status)
    return multistart(setup, program, starts, sampler_name=sampler, seed=seed,
                      batched=batched, progress=progress, record=best, mesh=mesh)


@dataclasses.dataclass(frozen=True)
class FitSetup:
    """A fit made ready: the objective, its data, the starting values, and what the
    result reports."""

    objective: Objective
    data: tuple
    start: dict[str, float]
    n_data: int
    experiments: tuple[Experiment, ...]
    sim: dict


def prepare(model: SimulatedModel, data, params: Sequence[str] | None, *,
            log: Sequence[str], scale: str | Mapping[str, float],
            noise: Mapping[str, NoiseModel | str] | None, options: Mapping,
            per_experiment: Sequence[str] = ()) -> FitSetup:
    """Check the names, data and options of a fit and build its objective; a name in
    `per_experiment` is fitted once per experiment (`name@0`, `name@1`, ...)."""
    names, p_names, s_names = check_fitted_names(model, params, log)
    sim = solve_options(model, options)
    experiments = tuple(as_experiments(data))
    for e in experiments:
        check_experiment(model, e, sim["tspan"])
    start = default_values(model, p_names, s_names)
    for name in per_experiment:
        if name not in names:
            raise SymflowError(f"per_experiment={name!r} is not among the fitted names",
                               help="fitted: " + ", ".join(names))
    if per_experiment:  # one value per experiment, from its own override if it has one
        expanded: dict[str, float] = {}
        for n in names:
            if n not in per_experiment:
                expanded[n] = start[n]
                continue
            for j, e in enumerate(experiments):
                expanded[f"{n}@{j}"] = float(np.asarray({**e.params, **e.initial}.get(
                    n, start[n])))
        start, names = expanded, tuple(expanded)
    noises = noise_models(model, noise)
    if noises and scale != "none":
        raise SymflowError("scale= divides residuals; with noise models the likelihood "
                           "weighs them", help="leave scale as 'none', or give no noise models")
    layouts = experiment_layouts(experiments, sim["tspan"], scale)
    n_data = sum(c.rows.size for layout in layouts for c in layout.columns)
    if n_data <= len(names):
        raise SymflowError(f"{n_data} data points cannot determine {len(names)} values")
    if sim.get("solver", model.settings.solver) == "auto":
        # decide once, from concrete starting values, before the residuals are traced
        e = experiments[0]
        sim["solver"] = model.runner.choose_auto(model.complete_params(e.params),
                                                 model.check_initial(e.initial), *sim["tspan"])
    transforms = tuple(bounds_of(model, b, log=b in log) or Bounds()
                       for b, _ in map(target_of, names))
    objective = Objective(model, names, transforms, layouts, sim, noises)
    return FitSetup(objective, objective.data(), start, n_data, experiments, sim)


def choose_optimiser(name: str | None, objective: Objective, *, rtol: float, atol: float,
                     learning_rate: float) -> Optimiser:
    """The optimiser asked for, or the default for this objective; a least-squares
    method is refused for an objective that is not a sum of squares."""
    if name is None:
        name = "levenberg_marquardt" if objective.least_squares else "bfgs"
    chosen = optimiser_named(name, rtol=rtol, atol=atol, learning_rate=learning_rate)
    if chosen.least_squares and not objective.least_squares:
        raise SymflowError(
            f"{name} minimises a sum of squares, and this likelihood is not one (a noise "
            "parameter is fitted, or the noise is not Gaussian with a known sigma)",
            help="use optimizer='bfgs' (the default here)")
    return chosen


class Progress:
    """Each step's objective, counted, printed or handed to a callback, and (with
    `record`) the best values tried, by name, kept as the steps finish. A batch of
    starts (a vmapped multistart) reports once per compiled call: the step reached
    by its furthest start, and the lowest objective any start tried in the call."""

    def __init__(self, progress: bool | Callable[[int, float], None], *,
                 record: BestSoFar | None = None, objective: Objective):
        self.callback = progress if callable(progress) else (
            self.print if progress else None)
        self.step = 0
        self.best = np.inf
        self.record = record
        self.objective = objective
        if record is not None:
            record.names = tuple(objective.names)

    def __call__(self, chunk: Chunk) -> None:
        if chunk.values.ndim == 1:  # one start: each step in turn
            for value in chunk.values[:int(chunk.taken)]:
                if self.callback is not None:
                    self.callback(self.step, float(value))
                self.step += 1
            i, best, where = None, float(chunk.best_value), chunk.best_z
        else:  # a batch: its best start
            self.step += int(np.max(chunk.taken))
            i = int(np.argmin(chunk.best_value))
            best, where = float(chunk.best_value[i]), chunk.best_z[i]
            if self.callback is not None:
                self.callback(self.step - 1, best)
        if self.record is not None:
            self.record.offer(self.step - 1, best,
                              functools.partial(_natural_values, self.objective, where))

    def print(self, step: int, value: float) -> None:
        """The terminal line: the value tried at this step, and the best so far."""
        if np.isfinite(value):
            self.best = min(self.best, value)
        print(f"step {step:4d}  objective {value:.6g}  best {self.best:.6g}", flush=True)


def local_fit(program: FitProgram, z0: jax.Array, data: tuple,
              progress: bool | Callable[[int, float], None], *,
              best: BestSoFar | None = None):
    """One local optimisation from `z0` with the compiled program, reporting progress
    (and keeping the best values tried in `best`)."""
    z, taken, status, _ = program.run(z0, data, on_chunk=Progress(
        progress, record=best, objective=program.objective))
    return z, int(taken), int(status)


def _natural_values(objective: Objective, z: np.ndarray) -> dict[str, float]:
    """The fitted values at the free coordinates `z`, by name."""
    return _within_bounds(objective, np.asarray(objective.natural(jnp.asarray(z))))


def _within_bounds(objective: Objective, x: np.ndarray) -> dict[str, float]:
    """The fitted values by name, clipped into their bounds: a value the transform puts
    at a bound can round one ulp past it (exp(log 1e-5) = 9.999999999999999e-06), which
    the model written back (`-o`) would refuse."""
    return {n: float(np.clip(v, t.lo, t.hi))
            for n, v, t in zip(objective.names, x, objective.transforms)}


def multistart(setup: FitSetup, program: FitProgram, starts: int, *, sampler_name: str,
               seed: int, batched: bool | None,
               progress: bool | Callable[[int, float], None],
               record: BestSoFar | None = None,
               mesh: jax.sharding.Mesh | None = None) -> FitResult:
    """`starts` local optimisations from starts drawn inside the bounds, as one vmapped
    program (`batched`) or one after another; the result at the best, with the
    sorted final objectives. The best point tried so far is offered to `record` as
    the steps finish, so an interrupted multistart keeps it either way."""
    objective = setup.objective
    sampler = sampler_named(sampler_name)
    # the starts and their results, before a single one is drawn
    check_result_size(times=starts, values=2 * len(objective.names) + 2,
                      help="run fewer starts (a few hundred find the best minimum of "
                           "most models)", rows="starts")
    natural = start_values(objective.names, objective.transforms,
                           sampler.unit(starts, len(objective.names), seed))
    z0s = jnp.asarray([[t.to_free(float(v)) for t, v in zip(objective.transforms, row)]
                       for row in natural])
    if batched is None:
        batched = mesh is not None or batched_by_default()
    if mesh is not None and not batched:
        raise SymflowError("mesh= shards a batch of starts: it needs batched=True")
    how = "as one vmapped batch" if batched else "one after another"
    if progress is True:
        print(f"multistart: {starts} starts ({sampler.name}, seed {seed}) {how}", flush=True)
    kept = Progress(progress if batched else False, record=record, objective=objective)
    if batched:
        z, taken, status, values = program.run(z0s, setup.data, on_chunk=kept, mesh=mesh)
    else:
        runs = []
        for i in range(starts):
            runs.append(program.run(z0s[i], setup.data, on_chunk=kept))
            if callable(progress):
                progress(i, float(runs[-1][3]))
            elif progress:
                print(f"start {i:4d}  objective {float(runs[-1][3]):.6g}", flush=True)
        z, taken, status, values = (np.stack(column) for column in zip(*runs))
    ranked = np.where(np.isfinite(values), values, np.inf)
    order = np.argsort(ranked, kind="stable")
    best = float(ranked[order[0]])
    reached = ranked <= best + REACH_RTOL * abs(best) + 1e-12 if np.isfinite(best) else \
        np.zeros(starts, dtype=bool)
    summary = Multistart(values=ranked[order], status=status[order], steps=taken[order],
                         starts=natural[order], names=objective.names,
                         fraction=float(np.mean(reached)), sampler=sampler.name, seed=seed,
                         batched=batched)
    if progress is True:
        print(f"multistart: best {best:.6g}, reached by {summary.fraction:.0%} of starts",
              flush=True)
    k = int(order[0])
    return fit_result(setup, program, jnp.asarray(z[k]), int(taken[k]), int(status[k]),
                      multistart=summary)


def fit_result(setup: FitSetup, program: FitProgram, z: jax.Array, taken: int, status: int,
               *, multistart: Multistart | None = None) -> FitResult:
    """The fitted values at the optimiser's point, their standard errors, and the
    result (raising `FitError`, holding it, if not converged)."""
    # the values, objective and curvature in one compiled program (a failed solve
    # gives non-finite values here rather than raising)
    objective = setup.objective
    x, value, curvature, _ = (np.asarray(a) for a in program.evaluate(z, setup.data))
    loss = float(value)
    names = objective.names
    values = _within_bounds(objective, x)
    converged, message = status_message(program.optimiser, status, program.steps)
    if not np.isfinite(loss):
        converged = False
        message = "the objective is not finite at the last point: the model failed to solve there"
    if objective.likelihood:
        cov = np.linalg.pinv(curvature) if np.all(np.isfinite(curvature)) else \
            np.full(curvature.shape, np.nan)
    else:
        cov = covariance(curvature, loss, setup.n_data)
    stderr = {n: float(np.sqrt(max(cov[i, i], 0.0))) for i, n in enumerate(names)}
    result = FitResult(names=names, values=values, stderr=stderr, initial_guess=setup.start,
                       covariance=cov, loss=loss, n_data=setup.n_data, steps=taken,
                       converged=converged, optimizer=program.optimiser.name, message=message,
                       model=objective.model, experiments=setup.experiments,
                       options={k: v for k, v in setup.sim.items() if k != "saveat"},
                       likelihood=objective.likelihood,
                       noise={k: str(v) for k, v in objective.noise.items()},
                       multistart=multistart)
    if not converged:
        best = ", ".join(f"{n} = {v:.6g}" for n, v in values.items())
        raise FitError(f"the fit did not converge: {message}; best point: {best} "
                       f"(objective {loss:.6g})", result,
                       help="raise --steps, start nearer (edit the defaults, or --starts N), "
                            "fit fewer values, or fit rate constants in log space")
    return result


def covariance(jac: np.ndarray, loss: float, n_data: int) -> np.ndarray:
    """The Gauss–Newton covariance `s^2 (J^T J)^-1`, `s^2 = RSS / (n - k)`."""
    dof = max(n_data - jac.shape[1], 1)
    return loss / dof * np.linalg.pinv(jac.T @ jac)


# ---------------------------------------------------------------- checks


def check_fitted_names(model: SimulatedModel, params: Sequence[str] | None,
                       log: Sequence[str]) -> tuple[tuple[str, ...], list[str], list[str]]:
    """The names to fit (default: every free parameter, not the inputs' tables), split
    into parameters and states (initial values); every mistake named."""
    tables = {i.name for i in model.system.inputs}
    arrays = {p.name for p in model.system.free_parameters if p.shape}
    names = tuple(params) if params is not None else tuple(
        n for n in model.params if n not in tables | arrays)
    if not names:
        raise SymflowError(f"{model.name} has no free parameters to fit")
    for name in names:
        if name in arrays:
            raise SymflowError(
                f"fit estimates scalar parameters: {name!r} is an array parameter",
                help="fit a scalar parameter its modifier uses (`r[n]: Resistor(R = R0)`), "
                     "or differentiate your own loss with jax.grad")
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


def default_values(model: SimulatedModel, p_names: Sequence[str],
                 s_names: Sequence[str]) -> dict[str, float]:
    """The starting point: the defaults of the fitted parameters and initial values."""
    base = model.complete_params(None)
    start = {n: float(base[n]) for n in p_names}
    defaults0 = model.initial_values(base)
    for n in s_names:
        start[n] = float(np.asarray(defaults0[n]))
    return start
