"""Ensembles of jump trajectories: `simulate_jumps`.

Trajectory `i` draws from key `i` of `jax.random.split(PRNGKey(seed), n)`, so it
is the same whether the ensemble runs at once (`jax.vmap`), in chunks
(`chunk_size`: `jax.lax.map` over chunks of vmapped trajectories) or sharded
over the devices of a `mesh`, as the SDE ensembles of `symflow.solve.stochastic`
do (their mesh helpers and statistics are reused). One compiled program per
program, solver, number of trajectories and chunk size is kept (the initial
counts, parameters, seed, save times, `t0` and `max_steps` are its arguments:
changing them does not recompile).

A vmapped `while_loop` runs until its slowest trajectory is done: the cost of
an ensemble is its longest trajectory times the number of trajectories, and a
chunk costs its own longest one.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ...errors import SolverError, SymflowError
from ..stochastic import (
    DEFAULT_QUANTILES,
    EnsembleSolution,
    auto_mesh,
    ensemble_solution,
    mesh_context,
    moments,
    moments_jit,
    quantiles_of,
)
from .program import JumpProgram, check_initial_counts, depends_on_time
from .solvers import JUMP_RESULTS, MAX_STEPS, AbstractJumpSolver, make_jump_solver
from .trajectory import trajectories

__all__ = ["simulate_jumps"]


@dataclasses.dataclass(frozen=True)
class _Key:
    """What fixes one compiled ensemble program."""

    program: JumpProgram
    solver: AbstractJumpSolver  # its static part (`eqx.partition`): arrays are None
    trajectories: int
    chunk_size: int | None


_CACHE: collections.OrderedDict[_Key, Callable] = collections.OrderedDict()
_CACHE_SIZE = 32  # programs kept (least recently used dropped first)


def simulate_jumps(program: JumpProgram, n0: Any, params: Mapping[str, Any],
                   ts: Any, *, solver: str | AbstractJumpSolver = "direct",
                   tau: float | None = None, trajectories: int = 1000, seed: int = 0,
                   t0: float | None = None, max_steps: int = 100_000,
                   chunk_size: int | None = None, mesh: jax.sharding.Mesh | None = None,
                   stats_only: bool = False,
                   quantiles: Sequence[float] = DEFAULT_QUANTILES) -> EnsembleSolution:
    """Simulate `trajectories` independent paths of a reaction network.

    **Arguments:**

    - `program`: the network (`JumpProgram`: propensities, changes, names).
    - `n0`: the initial counts, an array in the order of `program.names` or a
      mapping from every species name to its count (whole, not negative).
    - `params`: the parameters handed to the propensities (a dict of arrays).
    - `ts`: the save times, non-decreasing; the paths are piecewise constant and
      the value at `ts[i]` is the state after every jump at or before `ts[i]`.

    **Options (keyword only):**

    - `solver`: a name of `catalog.JUMP_SOLVERS` (`"direct"`, `"tau_leaping"`) or
      an `AbstractJumpSolver` (`Direct(frozen_rates=True)`, `TauLeaping(tau)`).
    - `tau`: the leap of `"tau_leaping"`.
    - `trajectories`, `seed`: how many paths, and the seed their keys are split from.
    - `t0`: the start time (default `ts[0]`), at most `ts[0]`.
    - `max_steps`: the most moves (jumps or leaps) one trajectory may take; a
      trajectory that needs more fails, and the ensemble raises `SolverError`
      naming the time it reached.
    - `chunk_size`: run the trajectories this many at a time (memory, and a chunk
      runs only as long as its own slowest member).
    - `mesh`: a 1-D `jax.sharding.Mesh`: the trajectories are split over its devices
      (padded to a multiple of its size; the padding is dropped).
    - `stats_only`: keep the mean, standard deviation and `quantiles` only, not
      the paths.

    **Returns** an `EnsembleSolution`: `sol[name]` or `sol.paths[name]` of shape
    `(trajectories, len(ts))` (float counts), `sol.mean`, `sol.std`,
    `sol.quantiles`, and `sol.result` (0 for every trajectory that finished).

    Outside a trace, failed trajectories raise `SolverError`; inside one (the
    parameters traced) their result codes are in `sol.result` and their unsaved
    values are NaN.
    """
    jump_solver = make_jump_solver(solver, tau=tau)
    if not isinstance(program, JumpProgram):
        raise SymflowError(f"simulate_jumps needs a JumpProgram, not {type(program).__name__}")
    counts = jnp.asarray(check_initial_counts(n0, program.names))
    save = np.asarray(ts, dtype=float)
    if save.ndim != 1 or save.size < 1 or not np.all(np.isfinite(save)):
        raise SymflowError("ts must be a non-empty 1-D array of finite save times")
    if np.any(np.diff(save) < 0):
        raise SymflowError("the save times ts must not decrease")
    start = float(save[0]) if t0 is None else float(t0)
    if start > save[0]:
        raise SymflowError(f"t0 = {start} is after the first save time {save[0]}")
    n = _positive("trajectories", trajectories)
    steps = _positive("max_steps", max_steps)
    chunk = None if chunk_size is None else _positive("chunk_size", chunk_size)
    levels = tuple(float(q) for q in quantiles)
    if any(not 0 <= q <= 1 for q in levels):
        raise SymflowError("quantile levels must lie in [0, 1]")
    p = dict(params)
    program.check_propensities(counts, p, start)
    jump_solver.check(program, time_dependent=depends_on_time(program, counts, p, start))

    # the solver's arrays (tau) are arguments of the program, the rest keys it
    dynamic, static = eqx.partition(jump_solver, eqx.is_array)
    fn = _compiled(_Key(program, static, n, chunk))
    args = (counts, p, jnp.asarray(save), jnp.asarray(start), jnp.asarray(steps))
    if mesh is None:
        out = fn(dynamic, jnp.asarray(seed), *args)
    else:
        mesh = auto_mesh(mesh)
        keys = _sharded_keys(seed, n, mesh)
        with mesh_context(mesh):
            out = fn(dynamic, keys, *args)
    return _finish(out, n, program.names, save, stats_only=bool(stats_only), levels=levels,
                   max_steps=steps)


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise SymflowError(f"{name} must be a whole number, at least 1, not {value!r}")
    return int(value)


def _compiled(key: _Key) -> Callable:
    """The jitted `(solver arrays, seed or keys, n0, params, ts, t0, max_steps) ->
    (paths, mean, std, result, t reached)` of one configuration, from the cache or
    compiled."""
    fn = _CACHE.get(key)
    if fn is not None:
        _CACHE.move_to_end(key)
        return fn
    program = key.program

    def run(keys, solver, n0, params, ts, t0, max_steps):
        out = trajectories(solver, program, keys, n0, params, ts, t0=t0,
                           max_steps=max_steps)
        return out.counts, out.result, out.t

    def ensemble(dynamic, keys, n0, params, ts, t0, max_steps):
        solver = eqx.combine(dynamic, key.solver)
        if keys.ndim == 0:  # a seed: split inside the program (no eager dispatch)
            keys = jax.random.split(jax.random.PRNGKey(keys), key.trajectories)
        counts, result, reached = _chunked(run, keys, key.chunk_size, solver, n0, params,
                                           ts, t0, max_steps)
        paths = {name: counts[:, :, s] for s, name in enumerate(program.names)}
        mean, std = moments(paths)
        return paths, mean, std, result, reached

    fn = jax.jit(ensemble)
    _CACHE[key] = fn
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return fn


def _chunked(run: Callable, keys: jax.Array, chunk_size: int | None, *args):
    """`run(keys, *args)`, or `run` over chunks of `chunk_size` keys one after the
    other (`jax.lax.map`) and the rest in one more call, joined."""
    n = keys.shape[0]
    if chunk_size is None or chunk_size >= n:
        return run(keys, *args)
    full = n // chunk_size * chunk_size
    chunks = keys[:full].reshape((n // chunk_size, chunk_size) + keys.shape[1:])
    parts = [jax.tree.map(lambda x: x.reshape((full,) + x.shape[2:]),
                          jax.lax.map(lambda k: run(k, *args), chunks))]
    if full < n:
        parts.append(run(keys[full:], *args))
    return jax.tree.map(lambda *xs: jnp.concatenate(xs), *parts)


def _sharded_keys(seed: int, n: int, mesh: jax.sharding.Mesh) -> jax.Array:
    """The `n` keys split from `seed`, padded with copies of the first to a
    multiple of the mesh size, placed over the mesh's devices."""
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    size = mesh.devices.size
    total = -(-n // size) * size
    if total > n:
        keys = jnp.concatenate([keys, jnp.repeat(keys[:1], total - n, axis=0)])
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(mesh.axis_names[0]))
    return jax.device_put(keys, sharding)


def _finish(out, n: int, names: tuple[str, ...], ts: np.ndarray, *, stats_only: bool,
            levels: tuple[float, ...], max_steps: int) -> EnsembleSolution:
    """The `EnsembleSolution` of a run: the padding of a sharded run dropped,
    failures raised (outside a trace), the quantiles computed if the paths go."""
    paths, mean, std, result, reached = out
    if result.shape[0] > n:  # padding must not enter the statistics
        paths = {k: v[:n] for k, v in paths.items()}
        result, reached = result[:n], reached[:n]
        mean, std = moments_jit(paths)
    _raise_on_failures(result, reached, max_steps)
    quantile_values = None
    if stats_only:
        quantile_values = quantiles_of(paths, levels)
        paths = None
    return ensemble_solution(t=jnp.asarray(ts), paths=paths, mean=mean, std=std,
                             quantiles=quantile_values, result=result, sweep={},
                             quantile_levels=levels, names=names)


def _raise_on_failures(result: jax.Array, reached: jax.Array, max_steps: int) -> None:
    if isinstance(result, jax.core.Tracer):
        return
    codes = np.asarray(result)
    failed = np.flatnonzero(codes != 0)
    if failed.size == 0:
        return
    first = int(failed[0])
    code = int(codes[first])
    t = float(np.asarray(reached)[first])
    if code == MAX_STEPS:
        help_ = (f"raise max_steps (now {max_steps}), shorten the time span, or use "
                 "tau_leaping, which fires many reactions per step")
    else:
        help_ = "check the propensities: not negative, zero where a reaction cannot fire"
    raise SolverError(
        f"{failed.size} of {codes.size} trajectories failed (the first: trajectory "
        f"{first}, at t = {t:g}): {JUMP_RESULTS.get(code, f'result code {code}')}", t,
        help=help_)
