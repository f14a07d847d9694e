"""The optimisers of `fit` and the learning-rate schedules of `train`, by name.

Each optimiser is a small typed object chosen once from its name
(`optimiser_named`), as optimistix passes solvers around as objects: it says how
the solves inside the objective are differentiated (`adjoint`), whether it needs
the objective as residuals (`least_squares`), and takes traceable steps from a
starting point (`start`, `step`, `stopped`, `outcome`). `fit` compiles a few steps
at a time, once per model and option set (`jax.vmap`ped over the starts of a
multistart fit), and loops over them from Python. Levenberg–Marquardt and BFGS
are optimistix solvers stepped through their own interface; Adam is optax's, run
for a fixed number of steps, keeping the best point.

`outcome` gives a status code (`STATUS`): 0 converged, 1 out of steps, then one
code per optimistix failure; `status_message` turns it into words.

Each name of `symflow.catalog.OPTIMIZERS` and `SCHEDULES` maps here to its object
(`OPTIMISERS`, `SCHEDULES`; tests/test_catalog.py checks that none is missing).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import optax
import optimistix as optx

from ..errors import SymflowError

__all__ = ["Optimiser", "Problem", "Tried", "LevenbergMarquardt", "BFGS", "Adam",
           "OPTIMISERS", "optimiser_named", "SCHEDULES", "learning_rate_schedule", "STATUS",
           "status_message"]

Residuals = Callable[[jax.Array, Any], jax.Array]
Loss = Callable[[jax.Array, Any], jax.Array]

# the status codes `outcome` returns: converged, out of steps, then optimistix's failures
STATUS: tuple[str, ...] = (
    "converged", "max_steps", "singular", "breakdown", "stagnation", "nonfinite",
    "nonlinear_divergence", "nonfinite_input", "conlim")


class Problem(NamedTuple):
    """What an optimiser minimises: `loss(z, args)`, and, where the loss is their sum of
    squares, the `residuals(z, args)` a least-squares method uses."""

    residuals: Residuals
    loss: Loss


class Tried(NamedTuple):
    """The point a step evaluated and the objective there (traced)."""

    value: jax.Array
    z: jax.Array


class Optimiser(abc.ABC):
    """Minimises an objective over the unconstrained values `z`, one step at a time.

    The steps are traceable and pure: `start` makes the carry (a pytree whose
    non-array leaves stay the same at every step), `step` advances it, `stopped` says
    when to stop, and `outcome` reads the result. `symflow.learn` compiles a few steps
    at a time and loops over them from Python (`_stepping.py`), so a fit reports its
    progress and keeps its best point without a host callback in the compiled program.
    """

    name: ClassVar[str]
    default_steps: ClassVar[int]
    # how the solves inside the objective are differentiated (a `simulate` adjoint)
    adjoint: ClassVar[str]
    # whether `solve` needs the residuals (a sum of squares) rather than a scalar loss
    least_squares: ClassVar[bool] = False

    @abc.abstractmethod
    def start(self, problem: Problem, z0: jax.Array, args: Any) -> Any:
        """The carry before the first step from `z0`."""

    @abc.abstractmethod
    def step(self, problem: Problem, carry: Any, args: Any) -> tuple[Any, Tried]:
        """One step: the new carry, and the point it evaluated."""

    @abc.abstractmethod
    def stopped(self, carry: Any, steps: int) -> jax.Array:
        """Whether to stop (converged, failed, or `steps` steps taken)."""

    @abc.abstractmethod
    def outcome(self, carry: Any, steps: int) -> tuple[jax.Array, jax.Array, jax.Array]:
        """`(z, steps taken, status)` where the steps stopped."""


def _status(result, terminated: jax.Array) -> jax.Array:
    """An optimistix result as a `STATUS` code (traceable); running out of steps is
    a successful result that never terminated."""
    code = jnp.asarray(2 + len(STATUS), dtype=jnp.int32)  # an unnamed failure
    for i, name in reversed(list(enumerate(STATUS))):
        item = {"converged": optx.RESULTS.successful}.get(
            name, getattr(optx.RESULTS, name if name != "max_steps" else "max_steps_reached",
                          None))
        if item is not None:
            code = jnp.where(result == item, i, code)
    item = getattr(optx.RESULTS, "nonlinear_max_steps_reached", None)
    if item is not None:
        code = jnp.where(result == item, 1, code)
    return jnp.where((code == 0) & ~terminated, 1, code)


class _OptimistixCarry(NamedTuple):
    """An optimistix solver's iteration, as optimistix's own loop carries it."""

    z: jax.Array
    state: Any
    steps: jax.Array
    terminate: jax.Array
    result: Any


_TAGS: frozenset = frozenset()


@dataclasses.dataclass(frozen=True)
class _Optimistix(Optimiser):
    """An optimistix solver, with convergence tolerances, stepped through its
    `init`/`step`/`terminate` interface as `optimistix.least_squares` and `minimise`
    step it (the same iterates; `tests/learn/test_stepping.py` compares them)."""

    rtol: float = 1e-8
    atol: float = 1e-8

    @abc.abstractmethod
    def solver(self, verbose) -> optx.AbstractLeastSquaresSolver | optx.AbstractMinimiser:
        """The optimistix solver (`verbose`: its per-iteration callback, or False)."""

    @abc.abstractmethod
    def function(self, problem: Problem) -> Callable[[jax.Array, Any], tuple[jax.Array, None]]:
        """What the solver iterates on, as optimistix's `fn(y, args) -> (out, aux)`."""

    def tried(self, loss_this_step: jax.Array) -> jax.Array:
        """The value reported for a step from optimistix's "loss on this step" (for
        least squares: the sum of squares, which a likelihood's objective adds
        constants to)."""
        return loss_this_step

    def _terminate(self, solver, fn, z, args, state) -> tuple[jax.Array, Any]:
        terminate, result = solver.terminate(fn, z, args, {}, state, _TAGS)
        finite = jnp.all(jnp.isfinite(z))
        return terminate, optx.RESULTS.where(finite, result, optx.RESULTS.nonfinite)

    def start(self, problem: Problem, z0: jax.Array, args: Any) -> _OptimistixCarry:
        fn, solver = self.function(problem), self.solver(False)
        f_struct, aux_struct = jax.eval_shape(fn, z0, args)
        state = solver.init(fn, z0, args, {}, f_struct, aux_struct, _TAGS)
        terminate, result = self._terminate(solver, fn, z0, args, state)
        return _OptimistixCarry(z0, state, jnp.asarray(0), terminate, result)

    def step(self, problem: Problem, carry: _OptimistixCarry,
             args: Any) -> tuple[_OptimistixCarry, Tried]:
        entries: dict[str, tuple[str, jax.Array]] = {}
        fn, solver = self.function(problem), self.solver(entries.update)
        z, state, _ = solver.step(fn, carry.z, args, {}, carry.state, _TAGS)
        # as optimistix's loop: termination judged from the point before the step
        terminate, result = self._terminate(solver, fn, carry.z, args, state)
        tried = Tried(self.tried(entries["loss_this_step"][1]), entries["y"][1])
        return _OptimistixCarry(z, state, carry.steps + 1, terminate, result), tried

    def stopped(self, carry: _OptimistixCarry, steps: int) -> jax.Array:
        return carry.terminate | (carry.result != optx.RESULTS.successful) | (
            carry.steps >= steps)

    def outcome(self, carry: _OptimistixCarry, steps: int):
        return carry.z, carry.steps, _status(carry.result, carry.terminate)


@dataclasses.dataclass(frozen=True)
class LevenbergMarquardt(_Optimistix):
    """Levenberg–Marquardt: linearises the residuals in forward mode (so the solves
    run with the `forward` adjoint)."""

    name: ClassVar[str] = "levenberg_marquardt"
    default_steps: ClassVar[int] = 200
    adjoint: ClassVar[str] = "forward"
    least_squares: ClassVar[bool] = True

    def solver(self, verbose) -> optx.AbstractLeastSquaresSolver | optx.AbstractMinimiser:
        return optx.LevenbergMarquardt(rtol=self.rtol, atol=self.atol, verbose=verbose)

    def function(self, problem: Problem):
        return lambda z, args: (problem.residuals(z, args), None)

    def tried(self, loss_this_step: jax.Array) -> jax.Array:
        return 2 * loss_this_step  # optimistix's loss is half the sum of squares


@dataclasses.dataclass(frozen=True)
class BFGS(_Optimistix):
    """BFGS on the objective, with reverse-mode gradients (`checkpoint`)."""

    name: ClassVar[str] = "bfgs"
    default_steps: ClassVar[int] = 200
    adjoint: ClassVar[str] = "checkpoint"

    def solver(self, verbose) -> optx.AbstractMinimiser:
        return optx.BFGS(rtol=self.rtol, atol=self.atol, verbose=verbose)

    def function(self, problem: Problem):
        return lambda z, args: (problem.loss(z, args), None)


class _AdamCarry(NamedTuple):
    z: jax.Array
    state: Any
    best: jax.Array
    best_value: jax.Array
    steps: jax.Array


@dataclasses.dataclass(frozen=True)
class Adam(Optimiser):
    """optax's Adam for a fixed number of steps; the result is the best point reached
    (first-order: no convergence test)."""

    name: ClassVar[str] = "adam"
    default_steps: ClassVar[int] = 2000
    adjoint: ClassVar[str] = "checkpoint"
    learning_rate: float = 0.02

    def start(self, problem: Problem, z0: jax.Array, args: Any) -> _AdamCarry:
        state = optax.adam(self.learning_rate).init(z0)
        return _AdamCarry(z0, state, z0, jnp.asarray(jnp.inf, dtype=z0.dtype),
                          jnp.asarray(0))

    def step(self, problem: Problem, carry: _AdamCarry, args: Any) -> tuple[_AdamCarry, Tried]:
        value, grad = jax.value_and_grad(problem.loss)(carry.z, args)
        better = jnp.isfinite(value) & (value < carry.best_value)
        with jax.numpy_dtype_promotion("standard"):
            updates, state = optax.adam(self.learning_rate).update(grad, carry.state, carry.z)
            z = optax.apply_updates(carry.z, updates)
        return _AdamCarry(z, state, jnp.where(better, carry.z, carry.best),
                          jnp.where(better, value, carry.best_value),
                          carry.steps + 1), Tried(value, carry.z)

    def stopped(self, carry: _AdamCarry, steps: int) -> jax.Array:
        return carry.steps >= steps

    def outcome(self, carry: _AdamCarry, steps: int):
        return carry.best, carry.steps, jnp.asarray(0, dtype=jnp.int32)


OPTIMISERS: dict[str, type[Optimiser]] = {
    cls.name: cls for cls in (LevenbergMarquardt, BFGS, Adam)}


def optimiser_named(name: str, *, rtol: float = 1e-8, atol: float = 1e-8,
                    learning_rate: float = 0.02) -> Optimiser:
    """The optimiser called `name`, with the options that apply to it."""
    if name not in OPTIMISERS:
        raise SymflowError(f"unknown optimizer {name!r}",
                           help="choose " + ", ".join(OPTIMISERS))
    if name == Adam.name:
        return Adam(learning_rate=learning_rate)
    return OPTIMISERS[name](rtol=rtol, atol=atol)  # type: ignore[call-arg]


def status_message(optimiser: Optimiser, status: int, steps: int) -> tuple[bool, str]:
    """Whether a `solve` status means converged, and what it says in words."""
    if isinstance(optimiser, Adam):
        return True, f"took {steps} adam steps (first-order: no convergence test)"
    name = STATUS[status] if status < len(STATUS) else "failed"
    if name == "converged":
        return True, "converged"
    return False, {
        "max_steps": f"reached the most steps ({steps}) before converging",
        "singular": "the Jacobian is singular (a parameter may not affect the data)",
        "nonfinite": "the loss became NaN or infinite (the model failed to solve)",
        "failed": "the optimiser failed"}.get(name, name.replace("_", " "))


# ---------------------------------------------------------------- schedules (train)


SCHEDULES: dict[str, Callable[[float, int], Any]] = {
    "cosine": lambda rate, steps: optax.cosine_decay_schedule(rate, steps, alpha=0.01),
    "constant": lambda rate, steps: rate,
    "exponential": lambda rate, steps: optax.exponential_decay(rate, steps, 0.01),
}


def learning_rate_schedule(name: str, rate: float, steps: int):
    """The learning rate of `train`: decaying to 1% by `cosine` or `exponential`
    over `steps`, or `constant`."""
    if name not in SCHEDULES:
        raise SymflowError(f"unknown schedule {name!r}", help="choose " + ", ".join(SCHEDULES))
    return SCHEDULES[name](rate, steps)
