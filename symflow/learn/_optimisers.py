"""The optimisers of `fit` and the learning-rate schedules of `train`, by name.

Each optimiser is a small typed object chosen once from its name
(`optimiser_named`), as optimistix passes solvers around as objects: it says how
the residuals' derivatives are taken (`adjoint`) and minimises the sum of
squares from a starting point (`minimise`). Levenberg–Marquardt and BFGS are
optimistix solvers, which run their own `init / step / terminate` loop compiled;
Adam is optax's, driven by the shared loop `run_optax` through an `OptaxDescent`
(the same `init / step / terminate` shape).

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
from ._common import OptaxDescent, run_optax

__all__ = ["Minimum", "Optimiser", "LevenbergMarquardt", "BFGS", "Adam", "OPTIMISERS",
           "optimiser_named", "SCHEDULES", "learning_rate_schedule"]

Residuals = Callable[[jax.Array, Any], jax.Array]


@dataclasses.dataclass(frozen=True)
class Minimum:
    """Where an optimiser stopped: the point `z`, the steps taken, and whether (and
    why not) it converged."""

    z: jax.Array
    steps: int
    converged: bool
    message: str


class Optimiser(abc.ABC):
    """Minimises `sum(residuals(z, None) ** 2)` over the unconstrained values `z`."""

    name: ClassVar[str]
    default_steps: ClassVar[int]
    # how the solves inside the residuals are differentiated (a `simulate` adjoint)
    adjoint: ClassVar[str]

    @abc.abstractmethod
    def minimise(self, residuals: Residuals, z0: jax.Array, *, steps: int,
                 progress: bool) -> Minimum:
        """Run from `z0` for at most `steps` iterations."""


@dataclasses.dataclass(frozen=True)
class _Optimistix(Optimiser):
    """An optimistix least-squares solver, with convergence tolerances."""

    rtol: float = 1e-8
    atol: float = 1e-8

    @abc.abstractmethod
    def solver(self, verbose) -> optx.AbstractLeastSquaresSolver | optx.AbstractMinimiser:
        """The optimistix solver (`verbose`: its per-iteration callback, or False)."""

    def minimise(self, residuals: Residuals, z0: jax.Array, *, steps: int,
                 progress: bool) -> Minimum:
        solver = self.solver(_print_progress if progress else False)
        sol: optx.Solution = optx.least_squares(residuals, solver, z0, max_steps=steps, throw=False)
        taken = int(sol.stats.get("num_steps", -1))
        if sol.result == optx.RESULTS.successful:
            return Minimum(sol.value, taken, True, "converged")
        if bool(sol.result == optx.RESULTS.max_steps_reached) or bool(
                sol.result == optx.RESULTS.nonlinear_max_steps_reached):
            message = f"reached the most steps ({steps}) before converging"
        else:
            message = _result_message(sol.result)
        return Minimum(sol.value, taken, False, message)


@dataclasses.dataclass(frozen=True)
class LevenbergMarquardt(_Optimistix):
    """Levenberg–Marquardt: linearises the residuals in forward mode (so the solves
    run with the `forward` adjoint)."""

    name: ClassVar[str] = "levenberg_marquardt"
    default_steps: ClassVar[int] = 200
    adjoint: ClassVar[str] = "forward"

    def solver(self, verbose) -> optx.AbstractLeastSquaresSolver | optx.AbstractMinimiser:
        return optx.LevenbergMarquardt(rtol=self.rtol, atol=self.atol, verbose=verbose)


@dataclasses.dataclass(frozen=True)
class BFGS(_Optimistix):
    """BFGS on the sum of squares, with reverse-mode gradients (`checkpoint`)."""

    name: ClassVar[str] = "bfgs"
    default_steps: ClassVar[int] = 200
    adjoint: ClassVar[str] = "checkpoint"

    def solver(self, verbose) -> optx.AbstractLeastSquaresSolver | optx.AbstractMinimiser:
        return optx.BFGS(rtol=self.rtol, atol=self.atol, verbose=verbose)


@dataclasses.dataclass(frozen=True)
class Adam(Optimiser):
    """optax's Adam for a fixed number of steps; the result is the best point reached
    (first-order: no convergence test)."""

    name: ClassVar[str] = "adam"
    default_steps: ClassVar[int] = 2000
    adjoint: ClassVar[str] = "checkpoint"
    learning_rate: float = 0.02

    def minimise(self, residuals: Residuals, z0: jax.Array, *, steps: int,
                 progress: bool) -> Minimum:
        def loss(z):
            r = residuals(z, None)
            return jnp.sum(r * r)

        run = run_optax(OptaxDescent(optax.adam(self.learning_rate), steps), loss, z0,
                        progress=progress)
        return Minimum(run.best, steps, True,
                       f"took {steps} adam steps (first-order: no convergence test)")


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


def _result_message(result) -> str:
    """optimistix's message for a result code, first line only."""
    for name in ("singular", "breakdown", "stagnation", "nonfinite", "nonlinear_divergence",
                 "nonlinear_max_steps_reached", "nonfinite_input", "conlim"):
        item = getattr(optx.RESULTS, name, None)
        if item is not None and bool(result == item):
            return {"singular": "the Jacobian is singular (a parameter may not affect "
                                "the data)",
                    "nonfinite": "the loss became NaN or infinite (the model failed to "
                                 "solve)"}.get(name, name.replace("_", " "))
    return "the optimiser failed"


def _print_progress(**entries) -> None:
    """One line per optimiser iteration (optimistix calls this inside its loop)."""
    step = entries.get("num_steps", ("Step", 0))[1]
    loss = entries.get("loss_last_accepted_step", (None, None))[1]
    if loss is None:
        jax.debug.print("step {step}", step=step)
    else:  # optimistix's loss is half the sum of squares
        jax.debug.print("step {step}  loss {loss}", step=step, loss=2 * loss)


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
