"""The compiled programs of a fit, made once per model and option set and kept.

(`kept` is the cache itself: `train` keeps its compiled step there too.)

A `FitProgram` holds three jitted functions of an `Objective` and an optimiser:
`optimise(z0, data)` (one local optimisation, reporting each iteration's
objective value, and the values tried, to the current progress callback; `optimise_quietly` the same
without it; `run` picks one), `optimise_many(z0s, data)`
(the same `jax.vmap`ped over a batch of starts: a multistart fit in one
program), and `evaluate(z, data)` (the fitted values, the objective and its
curvature at the optimum: the residuals' Jacobian, or the Hessian of a
negative log-likelihood). `program_for` keeps one on the model object (in an
attribute, so it goes with the model) per `Objective.key`, optimiser and step
budget, so a second `fit` with new data of the same layout runs without tracing
or compiling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._objective import Objective
from ._optimisers import Optimiser

__all__ = ["FitProgram", "program_for", "kept"]

_ATTRIBUTE = "_symflow_fit_programs"  # where a model keeps its compiled fits


class FitProgram:
    """One objective's compiled optimisation, multistart batch and evaluation."""

    def __init__(self, objective: Objective, optimiser: Optimiser, steps: int):
        self.objective = objective
        self.optimiser = optimiser
        self.steps = steps
        # the current call's per-iteration callback (the compiled loop calls `_dispatch`):
        # the objective at the point tried, and that point's fitted values
        self.report: Callable[[float, np.ndarray], None] | None = None
        self.optimise = jax.jit(lambda z0, data: self._optimise(z0, data, True))
        # the same without the per-iteration callback: a program with a host callback is
        # never kept in JAX's persistent cache, so a fit without progress (`--quiet`)
        # would compile anew in every process
        self.optimise_quietly = jax.jit(lambda z0, data: self._optimise(z0, data, False))
        self.optimise_many = jax.jit(jax.vmap(lambda z0, data: self._optimise(z0, data, False),
                                              in_axes=(0, None)))
        self.evaluate = jax.jit(self._evaluate)

    def run(self, z0: jax.Array, data: Any):
        """One local optimisation: reporting each iteration to `report` if one is set,
        else the program without callbacks."""
        return (self.optimise if self.report is not None else self.optimise_quietly)(z0, data)

    def _dispatch(self, value, x) -> None:
        if self.report is not None:
            self.report(float(value), np.asarray(x))

    def _optimise(self, z0: jax.Array, data: Any, report: bool):
        objective, adjoint = self.objective, self.optimiser.adjoint

        def residuals(z, d):
            return objective.residuals(objective.natural(z), d, adjoint)

        def loss(z, d):
            return objective.value(objective.natural(z), d, adjoint)

        def send(value, z):
            jax.debug.callback(self._dispatch, value, objective.natural(z), ordered=True)

        z, steps, status = self.optimiser.solve(residuals, loss, z0, data, steps=self.steps,
                                                report=send if report else None)
        return z, steps, status, loss(z, data)

    def _evaluate(self, z: jax.Array, data: Any):
        """The fitted values, the objective, and the curvature at `z` (in the fitted
        values' own coordinates; forward mode through the solves)."""
        objective = self.objective
        x = objective.natural(z)
        if objective.likelihood:
            def value(x):
                return objective.value(x, data, "forward")

            return x, value(x), jax.jacfwd(jax.jacfwd(value))(x), jnp.zeros(0)
        jac, r = jax.jacfwd(lambda x: (objective.residuals(x, data, "forward"),) * 2,
                            has_aux=True)(x)
        return x, jnp.sum(r * r), jac, r


def program_for(objective: Objective, optimiser: Optimiser, steps: int) -> FitProgram:
    """The compiled program of this objective, optimiser and budget: kept on the model
    and reused when the key matches (a new one, not kept, when the key is unhashable)."""
    key = objective.key()
    return kept(objective.model, None if key is None else ("fit", key, optimiser, steps),
                lambda: FitProgram(objective, optimiser, steps))


def kept(model: Any, key: tuple | None, make: Callable[[], Any]) -> Any:
    """What `make()` builds, kept on `model` under `key` (`fit`'s programs, `train`'s
    step); `key=None` or an unhashable key: made anew, not kept."""
    if key is not None:
        try:
            hash(key)
        except TypeError:
            key = None
    if key is None:
        return make()
    programs = getattr(model, _ATTRIBUTE, None)
    if programs is None:
        programs = {}
        setattr(model, _ATTRIBUTE, programs)
    if key not in programs:
        programs[key] = make()
    return programs[key]
