"""Jump solvers: strategies that propose the next move of one trajectory.

A solver fills in one method, `propose`: from the time `t` and counts `n`, where
the trajectory would go next (the time and counts after one jump, or after one
leap), drawn with the key it is given. The loop around it (`trajectory.py`)
decides whether to take the move or to save the state at the next save time
first, counts the steps and reports failures; it is the same for every solver.

- `Direct`: Gillespie's direct method (1977), exact: the waiting time to the
  next firing is exponential with rate `a0 = sum_r a_r`, the reaction is `r`
  with probability `a_r / a0`.
- `TauLeaping`: Gillespie's (2001) explicit tau-leaping with a fixed leap `tau`:
  reaction `r` fires `Poisson(a_r tau)` times in a leap. A leap that would take
  a count below zero is rejected and one exact direct step taken instead (the
  rejection/fallback safeguard; Cao, Gillespie & Petzold 2005 discuss why
  leaps go negative). Approximate: its bias in the moments is O(tau).
"""

from __future__ import annotations

import abc
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from ... import catalog
from ...errors import SymflowError
from .program import JumpProgram
from .random import fold_in, uniforms

__all__ = ["AbstractJumpSolver", "Direct", "JUMP_RESULTS", "JUMP_SOLVERS", "Proposal",
           "TauLeaping", "make_jump_solver"]


# Result codes of a trajectory (0: it reached the last save time).
MAX_STEPS, NEGATIVE_COUNT, BAD_PROPENSITY = 1, 2, 3
JUMP_RESULTS: dict[int, str] = {
    MAX_STEPS: "max_steps reached before the last save time",
    NEGATIVE_COUNT: "a count went below zero: a reaction fired where it has no reactant "
                    "(its propensity must be zero there)",
    BAD_PROPENSITY: "a propensity was negative or not finite",
}


class Proposal(NamedTuple):
    """Where a trajectory would move next: the time of the move (`inf` where no
    reaction can fire), the counts after it, and 0 or a `JUMP_RESULTS` code."""

    t: jax.Array
    n: jax.Array
    code: jax.Array


class AbstractJumpSolver(eqx.Module):
    """A stochastic simulation method for reaction networks (one trajectory's moves).

    Subclasses fill in `propose`, and may refuse programs they cannot simulate in
    `check` (called once, before compiling).
    """

    @abc.abstractmethod
    def propose(self, program: JumpProgram, key: jax.Array, t: jax.Array, n: jax.Array,
                t_stop: jax.Array, params: dict) -> Proposal:
        """The next move from counts `n` at time `t`, drawn with `key`. `t_stop` is
        the next save time (`t <= t_stop`): a move past it is discarded by the loop,
        which saves `n` there and asks again from `t_stop`."""

    def check(self, program: JumpProgram, *, time_dependent: bool) -> None:
        """Refuse a program this method would simulate wrongly (default: none)."""


class Direct(AbstractJumpSolver):
    """Gillespie's direct method: exact for propensities that do not depend on time.

    With time-dependent propensities the rates would be held at their value at
    the last jump until the next one (exact only if they do not change): such a
    program is refused unless `frozen_rates=True` asks for that approximation,
    which is good when the rates change slowly over the mean waiting time.
    """

    frozen_rates: bool = eqx.field(static=True, default=False)

    def check(self, program: JumpProgram, *, time_dependent: bool) -> None:
        if time_dependent and not self.frozen_rates:
            raise SymflowError(
                "the propensities depend on time t: the direct method holds them "
                "constant between jumps, which is not exact",
                help="use Direct(frozen_rates=True) to accept that approximation, or "
                     "tau_leaping with a small tau (rates evaluated at each leap)")

    def propose(self, program, key, t, n, t_stop, params) -> Proposal:
        a = program.propensities(t, n, params)
        return direct_step(program, key, t, n, a)


class TauLeaping(AbstractJumpSolver):
    """Explicit tau-leaping with a fixed leap `tau` (Gillespie 2001), approximate.

    Each reaction fires `Poisson(a_r(t, n) h)` times in a leap of length
    `h = min(tau, t_stop - t)` (leaps end on the save times). A leap that would
    make a count negative is rejected and replaced by one exact direct step, so
    counts never go negative; the leap is tried again from there. The bias of the
    mean and variance is O(tau) (Rathinam et al. 2005); with `tau` much shorter
    than the mean time between firings most leaps fire nothing and the direct
    method is cheaper.
    """

    tau: jax.Array  # a leaf, not static: a new tau does not recompile

    def __init__(self, tau: float | jax.Array):
        if not isinstance(tau, jax.core.Tracer):
            value = float(tau)
            if not 0 < value < float("inf"):
                raise SymflowError(f"tau_leaping needs a positive leap tau, not {value!r}")
        self.tau = jnp.asarray(tau, dtype=float)

    def propose(self, program, key, t, n, t_stop, params) -> Proposal:
        a = program.propensities(t, n, params)
        key_leap, key_step = fold_in(key, 0), fold_in(key, 1)
        h = jnp.clip(t_stop - t, 0.0, self.tau)
        lam = jnp.where(a > 0, a, 0.0) * h
        fired = jax.random.poisson(key_leap, lam).astype(n.dtype)
        leap = n + fired @ jnp.asarray(program.changes, dtype=n.dtype)
        step = direct_step(program, key_step, t, n, a)
        ok = jnp.all(leap >= 0)
        return Proposal(jnp.where(ok, t + h, step.t), jnp.where(ok, leap, step.n), step.code)


def direct_step(program: JumpProgram, key: jax.Array, t: jax.Array, n: jax.Array,
                a: jax.Array) -> Proposal:
    """One exact jump of Gillespie's direct method from propensities `a`."""
    valid = jnp.all(a >= 0) & jnp.all(jnp.isfinite(a))
    code = jnp.where(valid, 0, BAD_PROPENSITY).astype(jnp.int32)
    a0 = jnp.sum(a)
    u = uniforms(key, 2, n.dtype)
    # 1 - u lies in (0, 1]: its log is finite, the waiting time not negative
    wait = jnp.where(a0 > 0, -jnp.log1p(-u[0]) / jnp.where(a0 > 0, a0, 1.0), jnp.inf)
    r = choose_reaction(a, u[1] * a0)
    change = jnp.asarray(program.changes, dtype=n.dtype)[r]
    return Proposal(t + wait, n + change, code)


def choose_reaction(a: jax.Array, target: jax.Array) -> jax.Array:
    """The first reaction whose cumulative propensity exceeds `target` (in
    `[0, sum(a))`): reaction `r` with probability `a_r / sum(a)`, never one with
    zero propensity (where rounding puts `target` at the end, the last reaction
    with a positive propensity)."""
    reactions = a.shape[0]
    r = jnp.sum(jnp.cumsum(a) <= target)
    last = reactions - 1 - jnp.argmax(a[::-1] > 0)
    return jnp.where(r < reactions, r, last)


# The catalogue's names (`catalog.JUMP_SOLVERS`) to their classes.
JUMP_SOLVERS: dict[str, type[AbstractJumpSolver]] = {
    "direct": Direct,
    "tau_leaping": TauLeaping,
}


def make_jump_solver(solver: str | AbstractJumpSolver, *,
                     tau: float | None = None) -> AbstractJumpSolver:
    """The solver object for a name of `catalog.JUMP_SOLVERS` (`tau`: the leap of
    `tau_leaping`), or `solver` itself if it is already one."""
    if isinstance(solver, AbstractJumpSolver):
        if tau is not None:
            raise SymflowError("tau is given with the solver object, not beside it",
                               help=f"TauLeaping(tau={tau})")
        return solver
    if solver not in JUMP_SOLVERS:
        raise SymflowError(f"unknown jump solver {solver!r}",
                           help="jump solvers: " + ", ".join(catalog.JUMP_SOLVERS))
    if solver == "tau_leaping":
        if tau is None:
            raise SymflowError("tau_leaping needs the leap tau",
                               help="pass tau=..., e.g. a tenth of the mean time "
                                    "between firings")
        return TauLeaping(tau=float(tau))
    if tau is not None:
        raise SymflowError(f"tau is an option of tau_leaping, not of {solver}")
    return JUMP_SOLVERS[solver]()
