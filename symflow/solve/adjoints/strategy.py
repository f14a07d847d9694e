"""How gradients flow through an ODE solve: one typed strategy per adjoint.

Every strategy fills in one method, `make_solve(problem)`, which turns the pieces
of one solve (`Problem`: terms, solver, controller, span) into the function
`(params, y0, ts) -> Trajectory` that the compiled program calls. The names a
user may write (`symflow.catalog.ADJOINTS`) map to strategies in `adjoint_strategy`;
a diffrax adjoint object is accepted as it is (`DiffraxAdjoint`).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import diffrax
import jax
import jax.numpy as jnp

from ... import catalog
from ...errors import SymflowError
from .._compat import result_code
from .interpolating import make_interpolating_solve
from .replay import ends_output, ends_saveat, make_replay_solve

__all__ = ["AdjointStrategy", "Backsolve", "Checkpoint", "DiffraxAdjoint", "Interpolating",
           "Problem", "Trajectory", "adjoint_strategy"]


class Trajectory(NamedTuple):
    """What a solve returns to the program: the states at the save times, the time
    reached and the state there, diffrax's result code, and diffrax's solution
    when dense output was asked for."""

    ys: jax.Array
    t_reached: jax.Array
    y_last: jax.Array
    result: jax.Array
    dense: Any = None


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """One ODE solve, as an adjoint strategy builds it.

    `solver` is `None` for an exponential integrator (`exponential`, built per
    call from the parameters); `project` maps a solver to one that stays on a
    DAE's constraints (`None`: an ODE); `backward_solver` is the implicit solver
    with a dense Newton solve, for the interpolating adjoint."""

    rhs: Callable
    terms: diffrax.AbstractTerm
    solver: diffrax.AbstractSolver | None
    controller: diffrax.AbstractStepSizeController
    solver_name: str
    t0: float
    t1: float
    dt0: float | None
    max_steps: int
    n_save: int
    dense: bool
    progress_meter: diffrax.AbstractProgressMeter
    implicit: bool = False
    imex: bool = False
    backward_solver: Callable[[], diffrax.AbstractSolver] | None = None
    exponential: Any = None
    equal_steps: bool = False
    project: Callable[[Any], diffrax.AbstractSolver] | None = None

    @property
    def forward(self) -> bool:
        return self.t1 > self.t0

    @property
    def ends_only(self) -> bool:
        """`ts` is `[t0, t1]`: saved without diffrax's loop over save times."""
        return self.n_save == 2


SolveFn = Callable[[Any, jax.Array, jax.Array], Trajectory]


class AdjointStrategy(abc.ABC):
    """How reverse-mode gradients pass through one solve."""

    @abc.abstractmethod
    def make_solve(self, problem: Problem) -> SolveFn:
        """The differentiable `(params, y0, ts) -> Trajectory` of `problem`."""


@dataclasses.dataclass(frozen=True)
class DiffraxAdjoint(AdjointStrategy):
    """diffrax's own solve with one of its adjoints (`forward`, `direct`, or any
    `diffrax.AbstractAdjoint` passed in). A DAE is projected onto its constraints
    after every step, except under `BacksolveAdjoint`, whose backward solve would
    not see the projection."""

    adjoint: diffrax.AbstractAdjoint

    def make_solve(self, problem: Problem) -> SolveFn:
        return _diffrax_solve(problem, self.adjoint)


@dataclasses.dataclass(frozen=True)
class Checkpoint(AdjointStrategy):
    """`checkpoint`: on an ODE solved forward in time, replay the accepted steps
    (`replay.py`: the gradient of diffrax's `RecursiveCheckpointAdjoint` at a
    fraction of the cost); else diffrax's `RecursiveCheckpointAdjoint` (the
    projected DAE steps, exponential solvers built per call, dense output)."""

    def make_solve(self, problem: Problem) -> SolveFn:
        if (problem.dense or not problem.forward or problem.exponential is not None
                or problem.project is not None):
            return _diffrax_solve(problem, diffrax.RecursiveCheckpointAdjoint())
        assert problem.solver is not None
        replay = make_replay_solve(
            problem.terms, problem.solver, problem.controller, t0=problem.t0, t1=problem.t1,
            dt0=problem.dt0, max_steps=problem.max_steps,
            progress_meter=problem.progress_meter, ends_only=problem.ends_only)
        return lambda params, y0, ts: Trajectory(*replay(params, y0, ts))


@dataclasses.dataclass(frozen=True)
class Interpolating(AdjointStrategy):
    """The continuous adjoint integrated backwards along the forward solution's
    interpolant (`interpolating.py`): O(1) memory in the steps, and safe for stiff
    models, whose state must not be integrated backwards. `label` is the name the
    user asked for (errors quote it)."""

    label: str = "interpolating"

    def make_solve(self, problem: Problem) -> SolveFn:
        name = f"adjoint={self.label!r} with solver {problem.solver_name}"
        if problem.dense or not problem.forward or problem.exponential is not None:
            raise SymflowError(
                f"{name} needs a solve forward in time without dense output or an "
                "exponential solver",
                help="use adjoint='checkpoint' (the default), 'forward' or 'direct'")
        if problem.project is not None:
            # the forward solve is projected onto the DAE's constraints, which the adjoint
            # ODE does not see: parameters that enter only there (the pendulum's L) would
            # get a silently zero gradient
            raise SymflowError(
                f"{name} does not differentiate the projection onto this DAE's constraints",
                help="use adjoint='checkpoint' (the default), 'forward' or 'direct'")
        assert problem.solver is not None and problem.backward_solver is not None
        solve = make_interpolating_solve(
            problem.rhs, problem.terms, problem.solver, problem.backward_solver(),
            problem.controller, t0=problem.t0, t1=problem.t1, dt0=problem.dt0,
            max_steps=problem.max_steps, imex=problem.imex,
            progress_meter=problem.progress_meter)
        return lambda params, y0, ts: Trajectory(*solve(params, y0, ts))


@dataclasses.dataclass(frozen=True)
class Backsolve(AdjointStrategy):
    """`backsolve`: diffrax's O(1)-memory backward solve with an explicit solver;
    with an implicit one, the interpolating adjoint (a stiff state must not be
    integrated backwards)."""

    def make_solve(self, problem: Problem) -> SolveFn:
        if problem.implicit:
            return Interpolating("backsolve").make_solve(problem)
        return _diffrax_solve(problem, diffrax.BacksolveAdjoint())


_BY_NAME: dict[str, Callable[[], AdjointStrategy]] = {
    "checkpoint": Checkpoint,
    "backsolve": Backsolve,
    "interpolating": Interpolating,
    "forward": lambda: DiffraxAdjoint(diffrax.ForwardMode()),
    "direct": lambda: DiffraxAdjoint(diffrax.DirectAdjoint()),
}
assert set(_BY_NAME) == set(catalog.ADJOINTS), "every adjoint of the catalogue has a strategy"


def adjoint_strategy(adjoint: str | diffrax.AbstractAdjoint | AdjointStrategy
                     ) -> AdjointStrategy:
    """The strategy of a name of the catalogue, a diffrax adjoint or a strategy."""
    if isinstance(adjoint, AdjointStrategy):
        return adjoint
    if isinstance(adjoint, diffrax.AbstractAdjoint):
        return DiffraxAdjoint(adjoint)
    if adjoint not in _BY_NAME:
        raise SymflowError(f"unknown adjoint {adjoint!r}",
                           help="choose " + ", ".join(catalog.ADJOINTS[:-1])
                           + " or " + catalog.ADJOINTS[-1])
    return _BY_NAME[adjoint]()


def _diffrax_solve(problem: Problem, adjoint: diffrax.AbstractAdjoint) -> SolveFn:
    """`diffrax.diffeqsolve` with `adjoint`, saving at `ts` and where the solve stopped."""
    p = problem
    backsolve = isinstance(adjoint, diffrax.BacksolveAdjoint)
    solver = p.solver
    if p.project is not None and not backsolve:  # a DAE: stay on its constraints
        solver = p.project(solver)

    def solve(params, y0, ts) -> Trajectory:
        if backsolve:  # BacksolveAdjoint takes no `subs`: the last finite save
            saveat = diffrax.SaveAt(ts=ts, dense=p.dense)  # time is the one reached
        elif p.ends_only:
            saveat = ends_saveat(dense=p.dense)
        else:
            saveat = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(t1=True)],
                                    dense=p.dense)
        exponential = p.exponential
        sol = diffrax.diffeqsolve(
            p.terms, exponential.state_solver(params, p.t0, equal_steps=p.equal_steps)
            if exponential else solver,
            t0=p.t0, t1=p.t1, dt0=p.dt0, y0=exponential.to_state(y0) if exponential else y0,
            args=params, saveat=saveat, stepsize_controller=p.controller, adjoint=adjoint,
            max_steps=p.max_steps, throw=False, progress_meter=p.progress_meter)
        if backsolve:
            ys = sol.ys
            reached = jnp.isfinite(sol.ts)
            t_reached = (jnp.max(jnp.where(reached, sol.ts, -jnp.inf)) if p.forward
                         else jnp.min(jnp.where(reached, sol.ts, jnp.inf)))
            # the last save reached (saves are reached in order)
            y_last = ys[jnp.maximum(jnp.sum(reached) - 1, 0)]
        elif p.ends_only:
            ys, t_reached, y_last = ends_output(sol.ts, sol.ys, p.t1)
        else:
            ys, t_reached, y_last = sol.ys[0], sol.ts[1][0], sol.ys[1][0]
        if exponential:  # its state may be in Fourier space
            ys, y_last = exponential.from_state(ys), exponential.from_state(y_last)
        return Trajectory(ys, t_reached, y_last, result_code(sol.result),
                          sol if p.dense else None)

    return solve
