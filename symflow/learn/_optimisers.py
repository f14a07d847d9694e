"""The optimisers of `fit` and the learning-rate schedules of `train`, by name.

Each optimiser is a small typed object chosen once from its name
(`optimiser_named`), as optimistix passes solvers around as objects: it says how
the solves inside the objective are differentiated (`adjoint`), whether it needs
the objective as residuals (`least_squares`), and minimises from a starting
point (`solve`). `solve` is traceable: `fit` compiles it once per model and
option set and `jax.vmap`s it over the starts of a multistart fit.
Levenberg–Marquardt and BFGS are optimistix solvers; Adam is optax's, run as a
`lax.scan` that keeps the best point.

`solve` returns a status code (`STATUS`): 0 converged, 1 out of steps, then one
code per optimistix failure; `status_message` turns it into words.

Each name of `symflow.catalog.OPTIMIZERS` and `SCHEDULES` maps here to its object
(`OPTIMISERS`, `SCHEDULES`; tests/test_catalog.py checks that none is missing).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import optax
import optimistix as optx

from ..errors import SymflowError

__all__ = ["Optimiser", "LevenbergMarquardt", "BFGS", "Adam", "OPTIMISERS",
           "optimiser_named", "SCHEDULES", "learning_rate_schedule", "STATUS",
           "status_message", "Report"]

Residuals = Callable[[jax.Array, Any], jax.Array]
Loss = Callable[[jax.Array, Any], jax.Array]
# called inside the compiled loop with each iteration's objective value (traced)
Report = Callable[[jax.Array, jax.Array], None]  # (objective, point z), in the traced loop

# the status codes `solve` returns: converged, out of steps, then optimistix's failures
STATUS: tuple[str, ...] = (
    "converged", "max_steps", "singular", "breakdown", "stagnation", "nonfinite",
    "nonlinear_divergence", "nonfinite_input", "conlim")


class Optimiser(abc.ABC):
    """Minimises an objective over the unconstrained values `z` (traceable)."""

    name: ClassVar[str]
    default_steps: ClassVar[int]
    # how the solves inside the objective are differentiated (a `simulate` adjoint)
    adjoint: ClassVar[str]
    # whether `solve` needs the residuals (a sum of squares) rather than a scalar loss
    least_squares: ClassVar[bool] = False

    @abc.abstractmethod
    def solve(self, residuals: Residuals, loss: Loss, z0: jax.Array, args: Any, *,
              steps: int, report: Report | None) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Run from `z0` for at most `steps` iterations: `(z, steps taken, status)`.

        `loss(z, args)` is the objective; `residuals(z, args)`, where the objective is
        their sum of squares, is what a least-squares method uses."""


def _status(result, steps: int) -> jax.Array:
    """An optimistix result as a `STATUS` code (traceable)."""
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
    return code


@dataclasses.dataclass(frozen=True)
class _Optimistix(Optimiser):
    """An optimistix solver, with convergence tolerances."""

    rtol: float = 1e-8
    atol: float = 1e-8

    @abc.abstractmethod
    def solver(self, verbose) -> optx.AbstractLeastSquaresSolver | optx.AbstractMinimiser:
        """The optimistix solver (`verbose`: its per-iteration callback, or False)."""


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

    def solve(self, residuals: Residuals, loss: Loss, z0: jax.Array, args: Any, *,
              steps: int, report: Report | None) -> tuple[jax.Array, jax.Array, jax.Array]:
        def verbose(**entries):
            # the loss at the point tried in this step (at step 0: the start), in the
            # objective's units (optimistix's is half the sum of squares)
            report(2 * entries["loss_this_step"][1], entries["y"][1])

        sol: optx.Solution = optx.least_squares(
            residuals, self.solver(verbose if report else False), z0, args=args,
            max_steps=steps, throw=False)
        return sol.value, jnp.asarray(sol.stats["num_steps"]), _status(sol.result, steps)


@dataclasses.dataclass(frozen=True)
class BFGS(_Optimistix):
    """BFGS on the objective, with reverse-mode gradients (`checkpoint`)."""

    name: ClassVar[str] = "bfgs"
    default_steps: ClassVar[int] = 200
    adjoint: ClassVar[str] = "checkpoint"

    def solver(self, verbose) -> optx.AbstractMinimiser:
        return optx.BFGS(rtol=self.rtol, atol=self.atol, verbose=verbose)

    def solve(self, residuals: Residuals, loss: Loss, z0: jax.Array, args: Any, *,
              steps: int, report: Report | None) -> tuple[jax.Array, jax.Array, jax.Array]:
        def verbose(**entries):
            report(entries["loss_this_step"][1], entries["y"][1])

        sol: optx.Solution = optx.minimise(
            loss, self.solver(verbose if report else False), z0, args=args, max_steps=steps,
            throw=False)
        return sol.value, jnp.asarray(sol.stats["num_steps"]), _status(sol.result, steps)


@dataclasses.dataclass(frozen=True)
class Adam(Optimiser):
    """optax's Adam for a fixed number of steps; the result is the best point reached
    (first-order: no convergence test)."""

    name: ClassVar[str] = "adam"
    default_steps: ClassVar[int] = 2000
    adjoint: ClassVar[str] = "checkpoint"
    learning_rate: float = 0.02

    def solve(self, residuals: Residuals, loss: Loss, z0: jax.Array, args: Any, *,
              steps: int, report: Report | None) -> tuple[jax.Array, jax.Array, jax.Array]:
        transform = optax.adam(self.learning_rate)

        def step(carry, _):
            z, state, best, best_loss = carry
            value, grad = jax.value_and_grad(loss)(z, args)
            if report is not None:
                report(value, z)
            better = jnp.isfinite(value) & (value < best_loss)
            best = jnp.where(better, z, best)
            best_loss = jnp.where(better, value, best_loss)
            updates, state = transform.update(grad, state, z)
            return (optax.apply_updates(z, updates), state, best, best_loss), None

        with jax.numpy_dtype_promotion("standard"):
            carry = (z0, transform.init(z0), z0, jnp.asarray(jnp.inf, dtype=z0.dtype))
            (_, _, best, _), _ = jax.lax.scan(step, carry, None, length=steps)
        return best, jnp.asarray(steps), jnp.asarray(0, dtype=jnp.int32)


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
