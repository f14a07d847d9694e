"""One trajectory of a reaction network: a compiled `jax.lax.while_loop` of moves.

Each pass of the loop asks the solver for the next move from `(t, n)`, drawn
with the key `fold_in(key, pass)`. If the move would end past the next save
time `ts[i]` (or `t` is already there), the loop takes no move: it saves `n` as
the state at `ts[i]`, sets `t = ts[i]` and goes on from there with a fresh draw.
For the direct method that is exact, because the waiting time is exponential
(memoryless) while the propensities do not change; for tau-leaping, leaps are
cut to end on the save times. Paths are piecewise constant and right-continuous:
the value saved at `ts[i]` is the state after every move at or before `ts[i]`.

The loop ends when every save time is filled, or with a result code
(`JUMP_RESULTS`): `max_steps` moves taken with save times left, a count gone
negative, a propensity negative or not finite. Save times not reached are NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .program import JumpProgram
from .solvers import MAX_STEPS, NEGATIVE_COUNT, AbstractJumpSolver

__all__ = ["Trajectory", "trajectory"]


class Trajectory(NamedTuple):
    """What one trajectory returns: the counts at the save times `(n_save, S)`,
    its result code (0: done), the time it reached and the moves it took."""

    counts: jax.Array
    result: jax.Array
    t: jax.Array
    steps: jax.Array


class _Loop(NamedTuple):
    t: jax.Array
    n: jax.Array
    i: jax.Array  # the next save time to fill
    saved: jax.Array
    steps: jax.Array  # moves taken
    passes: jax.Array  # passes of the loop: the draw counter
    code: jax.Array


def trajectory(solver: AbstractJumpSolver, program: JumpProgram, key: jax.Array,
               n0: jax.Array, params: dict, ts: jax.Array, *, t0: jax.Array,
               max_steps: int) -> Trajectory:
    """Simulate one trajectory from counts `n0` at time `t0 <= ts[0]`, saving the
    counts at the (non-decreasing) times `ts`; at most `max_steps` moves.

    Traceable and vmappable (the ensembles vmap it over keys)."""
    n_save = ts.shape[0]
    dtype = n0.dtype

    def cond(s: _Loop) -> jax.Array:
        return (s.i < n_save) & (s.code == 0)

    def body(s: _Loop) -> _Loop:
        t_stop = ts[s.i]
        move = solver.propose(program, jax.random.fold_in(key, s.passes), s.t, s.n, t_stop,
                              params)
        save = (s.t >= t_stop) | (move.t > t_stop)
        code = jnp.where(move.code != 0, move.code,
                         jnp.where(jnp.any(move.n < 0), NEGATIVE_COUNT,
                                   jnp.where(s.steps >= max_steps, MAX_STEPS, 0)))
        code = jnp.where(save, 0, code).astype(jnp.int32)
        take = ~save & (code == 0)
        # Slot i always holds the current state: its last write, at the save, stays.
        saved = s.saved.at[s.i].set(s.n)
        return _Loop(t=jnp.where(save, t_stop, jnp.where(take, move.t, s.t)),
                     n=jnp.where(take, move.n, s.n),
                     i=s.i + save.astype(s.i.dtype), saved=saved,
                     steps=s.steps + take.astype(s.steps.dtype), passes=s.passes + 1,
                     code=code)

    start = _Loop(t=jnp.asarray(t0, dtype=dtype), n=n0, i=jnp.asarray(0),
                  saved=jnp.zeros((n_save, n0.shape[0]), dtype=dtype),
                  steps=jnp.asarray(0), passes=jnp.asarray(0),
                  code=jnp.asarray(0, dtype=jnp.int32))
    end = jax.lax.while_loop(cond, body, start)
    filled = (jnp.arange(n_save) < end.i)[:, None]
    counts = jnp.where(filled, end.saved, jnp.nan)
    return Trajectory(counts=counts, result=end.code, t=end.t, steps=end.steps)
