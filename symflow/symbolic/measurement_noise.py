"""The noise models of a model file's `fit` section, as the `System` holds them.

`x ~ normal(sigma = s_x)` says how a measurement of the observable `x` scatters
around the model's value: which distribution (a name of
`symflow.catalog.NOISE_MODELS`) and its values, each a positive number or the
name of a declared parameter (fitted when it is among the fitted names). The
builder checks them (`builder/fit.py`), so `symflow check` reports a mistake in
the section; `symflow.learn` turns them into noise model objects for a fit.
"""

from __future__ import annotations

import dataclasses

from ..errors import Span

__all__ = ["MeasurementNoise"]


@dataclasses.dataclass(frozen=True)
class MeasurementNoise:
    """The noise model of one observable: a state, an observed output, or an
    element of an array one (`z[0]`)."""

    observable: str
    distribution: str
    values: tuple[tuple[str, float | str], ...]  # (role, number or parameter name)
    span: Span | None = None
