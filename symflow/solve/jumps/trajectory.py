"""One trajectory of a reaction network: a compiled `jax.lax.while_loop` of moves.

Each pass of the loop asks the solver for the next move from `(t, n)`, drawn
with the key `fold_in(key, pass)` (`jax.random.fold_in`'s key, computed by
`random.py`: fused into the pass). If the move would end past the next save
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
from .random import fold_in
from .solvers import MAX_STEPS, NEGATIVE_COUNT, AbstractJumpSolver

__all__ = ["Trajectory", "trajectories", "trajectory"]


class Trajectory(NamedTuple):
    """What one trajectory (or a batch: a leading axis on each) returns: the counts at
    the save times `(n_save, S)`, its result code (0: done), the time it reached
    and the moves it took."""

    counts: jax.Array
    result: jax.Array
    t: jax.Array
    steps: jax.Array


class _Loop(NamedTuple):
    """The state of one trajectory in the loop (its saves are kept apart)."""

    t: jax.Array
    n: jax.Array
    i: jax.Array  # the next save time to fill
    steps: jax.Array  # moves taken
    code: jax.Array


def trajectory(solver: AbstractJumpSolver, program: JumpProgram, key: jax.Array,
               n0: jax.Array, params: dict, ts: jax.Array, *, t0: jax.Array | float,
               max_steps: jax.Array | int) -> Trajectory:
    """Simulate one trajectory from counts `n0` at time `t0 <= ts[0]`, saving the
    counts at the (non-decreasing) times `ts`; at most `max_steps` moves.

    Traceable and vmappable; to run many, `trajectories` is faster than a
    `jax.vmap` of this function (see there)."""
    out = trajectories(solver, program, key[None], n0, params, ts, t0=t0,
                       max_steps=max_steps)
    return Trajectory(*(x[0] for x in out))


def trajectories(solver: AbstractJumpSolver, program: JumpProgram, keys: jax.Array,
                 n0: jax.Array, params: dict, ts: jax.Array, *, t0: jax.Array | float,
                 max_steps: jax.Array | int) -> Trajectory:
    """`trajectory` for each of `keys` (shape `(n, 2)`), in one loop over all of them.

    The loop is one `while_loop` whose body is the vmapped move of every
    trajectory, running while any is unfinished; a finished trajectory's move
    changes nothing (its save writes are dropped). A `jax.vmap` of a
    `while_loop` would instead select between the new and the old state of
    every trajectory after every pass, save buffer included. The saves are one
    `(n_save, n, S)` buffer written outside the vmapped move by a select
    against each trajectory's slot, which XLA fuses into the pass: a scatter
    of the slots (inside the vmap or out, either layout) was 2-10x slower per
    trajectory, and its speed swung with the ensemble size (XLA:CPU, measured
    single-threaded at 10^4 and 10^5 trajectories). The select touches the
    whole buffer each pass: its cost grows with the number of save times.
    """
    n_save = ts.shape[0]
    dtype = n0.dtype
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):  # typed keys: their raw words
        keys = jax.random.key_data(keys)

    def advance(key: jax.Array, s: _Loop, draw: jax.Array) -> tuple[_Loop, jax.Array]:
        active = (s.i < n_save) & (s.code == 0)
        t_stop = ts[jnp.minimum(s.i, n_save - 1)]
        move = solver.propose(program, fold_in(key, draw), s.t, s.n, t_stop, params)
        # bad propensities fail the trajectory, even where it would save first
        bad = active & (move.code != 0)
        save = active & ~bad & ((s.t >= t_stop) | (move.t > t_stop))
        jump = active & ~bad & ~save
        code = jnp.where(jnp.any(move.n < 0), NEGATIVE_COUNT,
                         jnp.where(s.steps >= max_steps, MAX_STEPS, 0))
        code = jnp.where(bad, move.code, jnp.where(jump, code, s.code)).astype(jnp.int32)
        take = jump & (code == 0)
        # Slot i holds the current state until the save moves on: its last write
        # stays. A finished trajectory writes out of bounds: dropped.
        slot = jnp.where(active, s.i, n_save)
        return _Loop(t=jnp.where(save, t_stop, jnp.where(take, move.t, s.t)),
                     n=jnp.where(take, move.n, s.n),
                     i=s.i + save.astype(s.i.dtype),
                     steps=s.steps + take.astype(s.steps.dtype), code=code), slot

    batch = keys.shape[0]
    start = _Loop(t=jnp.full((batch,), t0, dtype=dtype),
                  n=jnp.broadcast_to(n0, (batch,) + n0.shape),
                  i=jnp.zeros((batch,), dtype=int),
                  steps=jnp.zeros((batch,), dtype=int),
                  code=jnp.zeros((batch,), dtype=jnp.int32))
    moves = jax.vmap(advance, in_axes=(0, 0, None))

    Carry = tuple[_Loop, jax.Array, jax.Array]

    def cond(carry: Carry) -> jax.Array:
        s, _, _ = carry
        return jnp.any((s.i < n_save) & (s.code == 0))

    def body(carry: Carry) -> Carry:
        s, saved, draw = carry
        new, slot = moves(keys, s, draw)
        to_slot = (jnp.arange(n_save)[:, None] == slot[None, :])[:, :, None]
        saved = jnp.where(to_slot, s.n[None], saved)
        return new, saved, draw + 1

    saved = jnp.zeros((n_save, batch, n0.shape[0]), dtype=dtype)
    end, saved, _ = jax.lax.while_loop(cond, body, (start, saved, jnp.asarray(0)))
    filled = (jnp.arange(n_save) < end.i[:, None])[:, :, None]
    counts = jnp.where(filled, jnp.swapaxes(saved, 0, 1), jnp.nan)
    return Trajectory(counts=counts, result=end.code, t=end.t, steps=end.steps)
