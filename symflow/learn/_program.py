"""The compiled programs of a fit, made once per model and option set and kept.

(`kept` is the cache itself: `train` keeps its compiled step there too.)

A `FitProgram` holds an objective's optimisation, compiled a few steps at a time
(`_stepping.py`): `run(z0, data)` runs one local optimisation, or, with a batch
of starts as rows, all of them as one `jax.vmap`ped program (a multistart fit),
handing each call's objectives and best point to `on_chunk`. `evaluate(z, data)`
gives the fitted values, the objective and its curvature at the optimum (the
residuals' Jacobian, or the Hessian of a negative log-likelihood).
`program_for` keeps one on the model object (in an attribute, so it goes with the
model) per `Objective.key`, optimiser and step budget, so a second `fit` with new
data of the same layout runs without tracing or compiling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._objective import Objective
from ._optimisers import Optimiser, Problem
from ._stepping import Chunk, Stepping

__all__ = ["FitProgram", "program_for", "kept"]

_ATTRIBUTE = "_symflow_fit_programs"  # where a model keeps its compiled fits


class FitProgram:
    """One objective's compiled optimisation steps and evaluation."""

    def __init__(self, objective: Objective, optimiser: Optimiser, steps: int):
        self.objective = objective
        self.optimiser = optimiser
        self.steps = steps
        adjoint = optimiser.adjoint

        def residuals(z, d):
            return objective.residuals(objective.natural(z), d, adjoint)

        def loss(z, d):
            return objective.value(objective.natural(z), d, adjoint)

        self.stepping = Stepping(optimiser, Problem(residuals, loss), steps)
        self.evaluate = jax.jit(self._evaluate)

    def run(self, z0: jax.Array, data: Any, *,
            on_chunk: Callable[[Chunk], None] | None = None,
            mesh: jax.sharding.Mesh | None = None) -> tuple[np.ndarray, ...]:
        """Local optimisations from `z0` (one start, or a batch as rows, sharded over
        `mesh`'s devices if given): `(z, steps taken, status, objective at z)`;
        `on_chunk` sees the steps as they finish."""
        return self.stepping.run(z0, data, on_chunk=on_chunk, mesh=mesh)

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
