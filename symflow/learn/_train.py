"""Training closures and physical parameters together (universal differential equations).

`train` minimises the mean squared error between the model and the data over a
pytree of trainable values: the chosen physical parameters (scalars) and the
weights of the chosen closures (`params["closures"][name]`). Everything else
is frozen (`freeze=`). The optimiser is optax's Adam on a learning-rate
schedule (cosine decay by default), with steps whose gradient is not finite
skipped (a network that makes the solve blow up gives NaN) and bounded
parameters projected back into their bounds after each step.

**Mini-batching.** The data is cut into *items* that have the same shape, and
each step uses a random batch of them, solved together under `jax.vmap`:

- without `window`, one item per experiment (several experiments on the same
  time grid: a batch is a subset of experiments);
- with `window = k`, every experiment's series is cut into windows of `k`
  consecutive data points; each window is solved from the measured state at its
  first point (so every state must be measured there) over its own short span.
  This is the usual way to train on long series, where a single shooting from
  t0 has a rugged loss. Windows need an autonomous model (no `t` in its
  equations), since each window is solved from time 0, and a uniform time grid.

With full batches the result is the best point reached (each step's loss is
that of the point before its update, so it comes for free); with mini-batches,
the last point.

An *epoch* is one pass over the items (`ceil(items / batch)` steps).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..errors import SymflowError
from ..solve import save_times
from ._best import BestSoFar
from ._common import OptaxDescent, OptaxRun, bounds_of, column, data_rows, optax_step, run_optax
from ._data import Experiment, as_experiments, check_experiment
from ._model import SimulatedModel
from ._optimisers import SCHEDULES, learning_rate_schedule
from ._program import kept
from ._train_result import TrainResult

__all__ = ["TrainResult", "train", "SCHEDULES", "TRAINING_ADJOINT"]

# The adjoint of the training solves unless `adjoint=` says otherwise (see `train`).
TRAINING_ADJOINT = diffrax.RecursiveCheckpointAdjoint()


def _resolve_names(model: SimulatedModel, names: Sequence[str], what: str) -> list[str]:
    """Parameter names and closure names; a closure output names its closure."""
    by_output = {o: c.name for c in model.closures for o in c.outputs}
    closures = {c.name for c in model.closures}
    scalars = [k for k in model.params if k != "closures"]
    out = []
    for n in names:
        if n in scalars or n in closures:
            out.append(n)
        elif n in by_output:
            out.append(by_output[n])
        else:
            raise SymflowError(
                f"{what}: {model.name} has no parameter or closure named {n!r}",
                help="parameters: " + (", ".join(scalars) or "none") + "; closures: "
                + ", ".join(f"{c.name} (outputs {', '.join(c.outputs)})"
                            for c in model.closures))
    return out


@dataclasses.dataclass(frozen=True)
class _Item:
    """One trajectory to train on: its overrides, its data, its save times."""

    params: dict
    initial: dict
    data: np.ndarray  # (n_times, n_columns), NaN where missing
    ts: tuple[float, ...]


def _items(model: SimulatedModel, experiments: Sequence[Experiment],
           tspan: tuple[float, float], columns: Sequence[str], trained: set[str],
           window: int | None) -> list[_Item]:
    """The items of the data: one per experiment, or its windows of `window` points."""
    items = []
    for e in experiments:
        overrides = {k: v for k, v in e.params.items() if k not in trained}
        if window is None:
            ts = save_times(tspan, e.t)
            data = np.full((len(ts), len(columns)), np.nan)
            rows = data_rows(ts, e.t)
            for j, col in enumerate(columns):
                data[rows, j] = e.columns[col]
            items.append(_Item(overrides, dict(e.initial), data, tuple(ts)))
            continue
        missing = [s for s in model.state_names if s not in e.columns]
        if missing:
            raise SymflowError(
                f"window training starts each window from the measured state, but "
                f"{e.name} has no column for state {missing[0]!r}",
                help="measure every state, or train without --window")
        n = len(e.t)
        if window < 2 or window > n:
            raise SymflowError(f"window must be between 2 and the number of data times "
                               f"({n}), not {window}")
        for start in range(0, n - window + 1, window - 1):
            t = e.t[start:start + window]
            init = {s: float(e.columns[s][start]) for s in model.state_names}
            if not all(np.isfinite(v) for v in init.values()):
                continue  # a window whose starting state is not measured
            data = np.stack([e.columns[c][start:start + window] for c in columns], axis=1)
            items.append(_Item(overrides, init, data, tuple(t - t[0])))
    if not items:
        raise SymflowError("no window starts at a measured state")
    return items


def train(model: SimulatedModel, data, params: Sequence[str] | None = None, *,
          freeze: Sequence[str] = (),
          steps: int = 1000,
          learning_rate: float = 1e-2,
          schedule: str = "cosine",
          window: int | None = None,
          batch: int | None = None,
          seed: int = 0,
          start: Mapping[str, Any] | None = None,
          progress: bool = False,
          print_every: int = 100,
          best: BestSoFar | None = None,
          **options) -> TrainResult:
    """Train the closures (and physical parameters) of `model` on `data`.

    - `data`: a CSV path, a dict of columns, an `Experiment`, or a list of them.
    - `params`: what to train, parameter and closure names (a closure output
      names its closure); default: every free parameter and every closure (an
      input's table is trained only when named: its values, one per row).
    - `freeze`: names held fixed (taken out of `params`).
    - `steps`, `learning_rate`, `schedule`: optax Adam steps; the learning rate
      decays to 1% by `cosine` or `exponential`, or stays `constant`.
    - `window`, `batch`: mini-batching (see the module docstring); `batch` items
      per step (default: all of them), drawn with `seed`.
    - `start`: a parameter pytree to start from (default `model.params`).
    - `best`: a `BestSoFar` that keeps, while training runs, the parameter pytree
      of the best step (of the latest, when mini-batches make losses incomparable),
      for another thread to read (`symflow fit` writes it on Ctrl-C).
    - `options`: passed to `simulate` (`solver`, `tspan`, `adjoint`, `max_steps`,
      `solve_rtol`/`solve_atol` for the solve's tolerances). The adjoint defaults to
      diffrax's `RecursiveCheckpointAdjoint` (`TRAINING_ADJOINT`), not `simulate`'s
      replay, which pads its backward pass to segments of about sqrt(max_steps)
      steps and is many times slower on the short solves of training.
    """
    if schedule not in SCHEDULES:
        raise SymflowError(f"unknown schedule {schedule!r}", help="choose " + ", ".join(SCHEDULES))
    if steps < 1:
        raise SymflowError("steps must be at least 1")
    trained, frozen = trained_names(model, params, freeze)
    sim = train_options(options)
    tspan = tuple(sim.pop("tspan", None) or model.settings.tspan)
    experiments, columns = _aligned_experiments(model, data, tspan)
    if window is not None and model.system.time in set().union(
            *(eq.rhs.free_symbols for eq in model.system.equations)):
        raise SymflowError("window training needs an autonomous model: its equations "
                           "use the time t", help="train without window")
    items = _items(model, experiments, tspan, columns, set(trained), window)
    ts, batch = _check_items(items, batch)
    span = (float(ts[0]), float(ts[-1])) if window is not None else tspan

    base = model.complete_params(start)
    pool = _pool(model, items, base)
    scalars = [n for n in trained if n in model.params and n != "closures"]
    theta = {"params": {n: jnp.asarray(base[n], dtype=float) for n in scalars},
             "closures": {n: base["closures"][n] for n in trained if n not in scalars}}
    fixed = {k: v for k, v in base.items() if k not in scalars}
    loss = _make_loss(model, columns, span, ts, sim)
    descent = OptaxDescent(
        optax.apply_if_finite(optax.adam(learning_rate_schedule(schedule, learning_rate,
                                                                steps)),
                              max_consecutive_errors=50), steps,
        project=_projection(model, scalars))
    full = batch == len(items)
    # the data and the frozen values are inputs of the compiled step, which is kept on
    # the model: a second `train` with new data of the same layout does not retrace
    inputs = (pool, fixed)
    key = ("train", tuple(trained), tuple(columns), span, ts.tobytes(),
           tuple(sorted(sim.items(), key=lambda kv: kv[0])), learning_rate, schedule, steps,
           jax.tree.structure((theta, inputs)),
           tuple((jnp.shape(a), str(jnp.result_type(a))) for a in jax.tree.leaves((theta, inputs))))
    step = kept(model, key, lambda: optax_step(descent, loss))
    epochs = _batches(len(items), batch, seed)

    def assembled(theta: dict) -> dict:  # the whole parameter pytree at `theta`
        final = {**fixed, **theta["params"]}
        if model.closures:
            final["closures"] = {**fixed["closures"], **theta["closures"]}
        return final

    if best is not None:
        best.names = tuple(trained)
    run = run_optax(descent, loss, theta, batches=lambda k: (*epochs(k), *inputs),
                    track_best=full, progress=progress, print_every=print_every, step=step,
                    record=best, point=assembled)
    theta, final_loss = _final_point(run, len(items), batch, inputs)
    final = jax.tree.map(lambda a: jnp.asarray(a), assembled(theta))
    return TrainResult(
        params=final, losses=run.losses, final_loss=final_loss, steps=steps,
        trained=tuple(trained), frozen=frozen, n_items=len(items), batch=batch,
        compile_time=run.compile_time, step_time=float(np.median(run.step_times))
        if run.step_times else run.compile_time, total_time=run.total_time, model=model,
        experiments=experiments, options={"tspan": tspan, **sim})


def trained_names(model: SimulatedModel, params: Sequence[str] | None,
                  freeze: Sequence[str]) -> tuple[list[str], tuple[str, ...]]:
    """What is trained (parameters and closures, by closure name) and what is frozen."""
    everything = [k for k in model.params if k != "closures"] + [c.name for c in model.closures]
    tables = {i.name for i in model.system.inputs}  # trained only when named
    chosen = _resolve_names(model, params, "params") if params is not None else [
        n for n in everything if n not in tables]
    frozen = set(_resolve_names(model, freeze, "freeze"))
    trained = [n for n in chosen if n not in frozen]
    if not trained:
        raise SymflowError("nothing to train: every parameter and closure is frozen")
    return trained, tuple(n for n in everything if n not in trained)


def train_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options of every training solve; the fit-only options refused."""
    sim = dict(options)
    optimizer = sim.pop("optimizer", "adam")
    if optimizer != "adam":
        raise SymflowError(f"a model with closures is trained with adam, not {optimizer}",
                           help="leave out the optimizer, or choose adam")
    for name in ("log", "scale"):
        if sim.pop(name, None) not in (None, (), "none"):
            raise SymflowError(f"the fit option {name!r} is not available when training "
                               "closures")
    for a, b in (("solve_rtol", "rtol"), ("solve_atol", "atol")):
        if a in sim:
            sim[b] = sim.pop(a)
    if "adjoint" not in sim:
        # diffrax's own checkpointed adjoint, not `simulate`'s default replay: the
        # replay's backward pass works in segments of about sqrt(max_steps) accepted
        # steps (317 at the default max_steps of 100000), padded when the solve takes
        # fewer, and training solves are short (a window of 3 points takes a few
        # steps, the whole LV series about 40). Measured on the LV UDE
        # (benchmarks/closures.py): one step on 20 windows of 3, 142 ms with the
        # replay against 2.4 ms with this; on the whole series 1.6x faster.
        sim["adjoint"] = TRAINING_ADJOINT
    return sim


def _aligned_experiments(model: SimulatedModel, data, tspan: tuple[float, float]
                         ) -> tuple[tuple[Experiment, ...], list[str]]:
    """The experiments, checked, each with every column of any of them (NaN where
    it has none), and those columns."""
    experiments = tuple(as_experiments(data))
    for e in experiments:
        check_experiment(model, e, tspan)
    columns = list(dict.fromkeys(c for e in experiments for c in e.columns))
    return tuple(dataclasses.replace(e, columns={
        c: e.columns.get(c, np.full(len(e.t), np.nan)) for c in columns}) for e in experiments
    ), columns


def _check_items(items: Sequence[_Item], batch: int | None) -> tuple[np.ndarray, int]:
    """The items' one time grid, and the batch size (default: every item)."""
    if len({it.ts for it in items}) > 1 or any(
            np.max(np.abs(np.asarray(it.ts) - np.asarray(items[0].ts))) > 1e-9 * (
                1 + abs(items[0].ts[-1])) for it in items):
        if batch is not None and batch < len(items):
            raise SymflowError("mini-batches need items on one time grid: these experiments "
                               "(or windows) are measured at different times",
                               help="resample the data on one grid, or train without batch")
        if len(items) > 1:
            raise SymflowError("experiments measured at different times cannot be trained "
                               "together yet", help="resample the data on one grid")
    batch = len(items) if batch is None else int(batch)
    if not 1 <= batch <= len(items):
        raise SymflowError(f"batch must be between 1 and the number of items ({len(items)})")
    return np.asarray(items[0].ts), batch


def _pool(model: SimulatedModel, items: Sequence[_Item], base: Mapping[str, Any]) -> dict:
    """The stacked pool of items (overrides filled in with each experiment's defaults)."""
    param_keys = sorted({k for it in items for k in it.params})
    init_keys = sorted({k for it in items for k in it.initial})
    pool_params = {k: np.array([float(it.params.get(k, base[k])) for it in items])
                   for k in param_keys}
    pool_initial = {}
    for k in init_keys:
        rows = []
        for it in items:
            if k in it.initial:
                rows.append(np.asarray(it.initial[k], dtype=float))
            else:
                p = model.complete_params({**{q: v for q, v in it.params.items()}})
                rows.append(np.asarray(model.initial_values(p)[k]))
        pool_initial[k] = np.stack(rows)
    pool_data = np.stack([it.data for it in items])
    return jax.tree.map(jnp.asarray, {"params": pool_params, "initial": pool_initial,
                                      "data": pool_data})


def _make_loss(model: SimulatedModel, columns: Sequence[str], span: tuple[float, float],
               ts: np.ndarray, sim: Mapping[str, Any]
               ) -> Callable[[Any, jax.Array, dict, dict], jax.Array]:
    """`loss(theta, indices, pool, fixed)`: the mean squared error over the pool's items
    at `indices` (missing data left out), solved together under `jax.vmap`, with the
    values not trained (`fixed`)."""
    def predict(theta, fixed, p_item, init_item):
        p = {**fixed, **p_item, **theta["params"]}
        if model.closures:
            p["closures"] = {**fixed["closures"], **theta["closures"]}
        sol = model.simulate(p, initial=init_item, tspan=span, saveat=ts, **sim)
        return jnp.stack([column(sol, c) for c in columns], axis=1)

    def loss(theta, indices, pool, fixed):
        chunk = jax.tree.map(lambda a: a[indices], pool)
        n = chunk["data"].shape[0]
        if n == 1:  # one trajectory: no vmap
            pred = predict(theta, fixed, *jax.tree.map(
                lambda a: a[0], (chunk["params"], chunk["initial"])))[None]
        else:
            pred = jax.vmap(predict, in_axes=(None, None, 0, 0), axis_size=n)(
                theta, fixed, chunk["params"], chunk["initial"])
        mask = jnp.isfinite(chunk["data"])
        r = jnp.where(mask, pred - jnp.where(mask, chunk["data"], 0.0), 0.0)
        return jnp.sum(r * r) / jnp.maximum(jnp.sum(mask).astype(r.dtype), 1.0)

    return loss


def _projection(model: SimulatedModel, scalars: Sequence[str]) -> Callable[[dict], dict]:
    """Bounded trained parameters clipped back into their bounds after each step."""
    bounds = {n: b for n in scalars for b in [bounds_of(model, n)] if b is not None}

    def project(theta):
        for n, b in bounds.items():
            theta["params"][n] = b.project(theta["params"][n])
        return theta

    return project


def _batches(n_items: int, batch: int, seed: int) -> Callable[[int], tuple[jax.Array]]:
    """Each step's item indices: every item with full batches, else shuffled epochs
    (each item once per epoch)."""
    return _Epochs(n_items, batch, np.random.default_rng(seed))


class _Epochs:
    """Shuffled epochs of `batch` items: each item once per epoch."""

    def __init__(self, n_items: int, batch: int, rng: np.random.Generator):
        self.n_items, self.batch, self.rng = n_items, batch, rng
        self.order = np.arange(n_items)
        self.position = n_items

    def __call__(self, k: int) -> tuple[jax.Array]:
        if self.batch == self.n_items:
            return (jnp.asarray(self.order),)
        if self.position + self.batch > self.n_items:
            self.order, self.position = self.rng.permutation(self.n_items), 0
        chosen = self.order[self.position:self.position + self.batch]
        self.position += self.batch
        return (jnp.asarray(chosen),)


def _final_point(run: OptaxRun, n_items: int, batch: int, inputs: tuple
                 ) -> tuple[Any, float]:
    """The result and its loss. Full batches: the best point reached (the last
    point's loss evaluated by the compiled step); mini-batches: the last point and
    the mean batch loss of the last epoch."""
    if batch == n_items:
        with jax.numpy_dtype_promotion("standard"):
            last = float(run.step(run.theta, run.state, jnp.arange(n_items), *inputs)[2])
        theta = run.theta if last <= run.best_loss else run.best
        return theta, (min(last, run.best_loss) if math.isfinite(last) else run.best_loss)
    per_epoch = max(1, math.ceil(n_items / batch))
    return run.theta, float(np.mean(run.losses[-per_epoch:]))
