"""An optimiser's steps, compiled a few at a time and looped over from Python.

A fit could run its whole optimisation as one compiled loop, and did. It runs as a
Python loop over compiled calls of a few steps each instead, because what comes
back between calls is what a user needs while it runs:
- the objective of every step, for the progress line, without a host callback in
  the program (JAX never keeps a program with a host callback in its persistent
  cache, so every `symflow fit` process compiled it anew);
- the best point so far, so that Ctrl-C keeps it, in a multistart batch as well
  as a single fit.
The iterates are the same as one compiled loop's. A call costs 0.1-0.5 ms more
than its steps, so each call takes as many steps (1 to `MOST_STEPS_PER_CALL`) as
fit in about `CALL_SECONDS`: the count doubles after a quick call and halves after
a slow one. (The count is an input of the program, so it never recompiles.)

`Stepping` holds the two compiled programs of one optimiser and problem, each also
`jax.vmap`ped over a batch of starts: `begin` (the carry from a starting point)
and `advance` (up to k steps: the objectives tried, the best point tried, whether
it stopped, and the outcome so far).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..solve import auto_mesh, mesh_context
from ._optimisers import Optimiser, Problem

__all__ = ["Chunk", "Stepping", "MOST_STEPS_PER_CALL", "CALL_SECONDS"]

# a call takes as many steps as fit in about CALL_SECONDS (the progress line and
# the best point kept for Ctrl-C are that fresh), from 1 up to MOST_STEPS_PER_CALL
CALL_SECONDS = 0.05
MOST_STEPS_PER_CALL = 64


@dataclasses.dataclass(frozen=True)
class Chunk:
    """What one compiled call did. For a batch of starts, each field has one row (or
    entry) per start; a start that had already stopped took no step."""

    values: np.ndarray  # the objective at each point tried (NaN past `taken`)
    taken: np.ndarray  # how many steps were taken
    best_value: np.ndarray  # the lowest finite objective tried (inf if none)
    best_z: np.ndarray  # where it was tried (free coordinates)


class Stepping:
    """The compiled steps of `optimiser` on `problem`, at most `steps` from a start."""

    def __init__(self, optimiser: Optimiser, problem: Problem, steps: int):
        self.optimiser, self.problem, self.steps = optimiser, problem, steps
        # the carry's non-array leaves (optimistix keeps jaxprs in its state), one per
        # form: captured where `begin` is traced, put back where `advance` is
        self._static: dict[bool, Any] = {}
        start, chunk = self._start, self._chunk
        self._begin = {False: jax.jit(functools.partial(start, many=False)),
                       True: jax.jit(jax.vmap(functools.partial(start, many=True),
                                              in_axes=(0, None)))}
        self._advance = {False: jax.jit(functools.partial(chunk, many=False)),
                         True: jax.jit(jax.vmap(functools.partial(chunk, many=True),
                                                in_axes=(0, None, None)))}

    def run(self, z0: jax.Array, args: Any, *,
            on_chunk: Callable[[Chunk], None] | None = None,
            mesh: jax.sharding.Mesh | None = None) -> tuple[np.ndarray, ...]:
        """Step from `z0` (one start, or a batch of starts as rows) until every start
        has stopped: `(z, steps taken, status, objective at z)`, each with one row per
        start for a batch. `on_chunk` sees each call's steps as they finish. `mesh` (a
        1-D mesh) shards a batch over its devices: padded to a multiple of its size
        with copies of the first start, which are dropped from what comes back."""
        if mesh is None or jnp.ndim(z0) != 2:
            return self._run(z0, args, on_chunk)
        n = z0.shape[0]
        size = mesh.devices.size
        padded = jnp.concatenate([z0, jnp.repeat(z0[:1], -(-n // size) * size - n, axis=0)])
        mesh = auto_mesh(mesh)
        sharded = jax.device_put(padded, jax.sharding.NamedSharding(
            mesh, jax.sharding.PartitionSpec(mesh.axis_names[0])))

        def cut(chunk: Chunk) -> None:
            if on_chunk is not None:
                on_chunk(Chunk(*(a[:n] for a in dataclasses.astuple(chunk))))

        with mesh_context(mesh):
            return tuple(a[:n] for a in self._run(sharded, args, cut))

    def _run(self, z0: jax.Array, args: Any,
             on_chunk: Callable[[Chunk], None] | None) -> tuple[np.ndarray, ...]:
        many = jnp.ndim(z0) == 2
        dynamic = self._begin[many](z0, args)
        k = 1
        while True:
            began = time.perf_counter()
            dynamic, chunk, stopped, outcome = self._advance[many](dynamic, args, k)
            if on_chunk is not None:
                on_chunk(Chunk(*(np.asarray(a) for a in chunk)))
            if bool(np.all(np.asarray(stopped))):
                return tuple(np.asarray(a) for a in outcome)
            k = _next_call_steps(k, time.perf_counter() - began)

    def _start(self, z0: jax.Array, args: Any, *, many: bool) -> Any:
        carry = self.optimiser.start(self.problem, z0, args)
        dynamic, self._static[many] = eqx.partition(carry, eqx.is_array)
        return dynamic

    def _chunk(self, dynamic: Any, args: Any, k: jax.Array, *, many: bool):
        """Up to `k` steps from the carry's arrays `dynamic`: the new ones, what the
        steps tried (a `Chunk`'s fields), whether it stopped, and the outcome."""
        optimiser, static = self.optimiser, self._static[many]
        z = optimiser.outcome(eqx.combine(dynamic, static), self.steps)[0]  # its form

        def going(state):
            i, dynamic, *_ = state
            return (i < k) & ~optimiser.stopped(eqx.combine(dynamic, static), self.steps)

        def step(state):
            i, dynamic, values, best_value, best_z = state
            new, tried = optimiser.step(self.problem, eqx.combine(dynamic, static), args)
            new_dynamic, new_static = eqx.partition(new, eqx.is_array)
            assert eqx.tree_equal(static, new_static) is True, "the carry changed form"
            better = jnp.isfinite(tried.value) & (tried.value < best_value)
            return (i + 1, new_dynamic, values.at[i].set(tried.value),
                    jnp.where(better, tried.value, best_value),
                    jnp.where(better, tried.z, best_z))

        values = jnp.full(MOST_STEPS_PER_CALL, jnp.nan, dtype=z.dtype)
        first = (jnp.asarray(0), dynamic, values, jnp.asarray(jnp.inf, dtype=z.dtype),
                 jnp.zeros_like(z))
        i, dynamic, values, best_value, best_z = jax.lax.while_loop(going, step, first)
        carry = eqx.combine(dynamic, static)
        stopped = optimiser.stopped(carry, self.steps)
        z, taken, status = optimiser.outcome(carry, self.steps)
        # the objective where it stopped: evaluated only then for one start (for a
        # batch, under `vmap`, on every call)
        value = jax.lax.cond(stopped, lambda: self.problem.loss(z, args),
                             lambda: jnp.asarray(jnp.nan, dtype=z.dtype))
        return dynamic, (values, i, best_value, best_z), stopped, (z, taken, status, value)


def _next_call_steps(k: int, seconds: float) -> int:
    """The steps of the next call, after `k` steps took `seconds`: as many as fit in
    about `CALL_SECONDS` (a call costs about 0.1-0.5 ms more than its steps)."""
    if seconds < CALL_SECONDS / 2:
        return min(2 * k, MOST_STEPS_PER_CALL)
    if seconds > 2 * CALL_SECONDS:
        return max(k // 2, 1)
    return k
