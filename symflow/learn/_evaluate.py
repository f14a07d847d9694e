"""The objective of a fit at given values, without fitting: the sum of squares, or with
noise models the negative log-likelihood (with its constants: ½ log 2π per point and
the log σ terms), as `fit` would minimise it. Used to compare a problem's likelihood
with a published value (docs/petab.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from ._fit import prepare
from ._model import SimulatedModel
from ._noise import NoiseModel

__all__ = ["objective_value"]


def objective_value(model: SimulatedModel, data: Any, values: Mapping[str, float], *,
                    noise: Mapping[str, NoiseModel | str] | None = None,
                    **options: Any) -> float:
    """The objective at `values` (fitted names: parameters or states, for initial values;
    the others at the model's defaults), on `data` (as `fit` takes it); `options` go to
    `simulate` (`tspan=`, `solver=`, `solve_rtol=`...)."""
    names: Sequence[str] = tuple(values)
    setup = prepare(model, data, names, log=(), scale="none", noise=noise, options=options)
    objective = setup.objective
    x = jnp.asarray([float(values[n]) for n in objective.names], dtype=float)
    value = jax.jit(lambda x, d: objective.value(x, d, "checkpoint"))(x, setup.data)
    return float(value)
