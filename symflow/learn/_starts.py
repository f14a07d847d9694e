"""Where the starts of a multistart fit lie: space-filling samples inside the bounds.

A sampler (`START_SAMPLERS`, names in `symflow.catalog.START_SAMPLERS`) draws
`n` points of the unit cube, seeded: `lhs` (a Latin hypercube: every parameter's
range cut into `n` slices, one start in each) or `sobol` (a scrambled Sobol
sequence). `start_values` maps them onto each fitted value's bounds, uniformly,
or log-uniformly for a value fitted in log space, so that rate constants
spanning decades are sampled over the decades.
"""

from __future__ import annotations

import abc
import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from scipy.stats import qmc

from .. import catalog
from ..errors import SymflowError
from ._common import Bounds

__all__ = ["StartSampler", "LatinHypercube", "Sobol", "START_SAMPLERS", "sampler_named",
           "start_values"]


class StartSampler(abc.ABC):
    """Draws seeded points of the unit cube."""

    name: ClassVar[str]

    @abc.abstractmethod
    def unit(self, n: int, dimension: int, seed: int) -> np.ndarray:
        """`n` points of `[0, 1)^dimension`, shape `(n, dimension)`."""


@dataclasses.dataclass(frozen=True)
class LatinHypercube(StartSampler):
    """A Latin hypercube: each coordinate's range in `n` slices, one point in each."""

    name: ClassVar[str] = "lhs"

    def unit(self, n: int, dimension: int, seed: int) -> np.ndarray:
        return qmc.LatinHypercube(d=dimension, rng=np.random.default_rng(seed)).random(n)


@dataclasses.dataclass(frozen=True)
class Sobol(StartSampler):
    """A scrambled Sobol sequence (balanced for `n` a power of two)."""

    name: ClassVar[str] = "sobol"

    def unit(self, n: int, dimension: int, seed: int) -> np.ndarray:
        with warnings.catch_warnings():  # scipy warns when n is not a power of two
            warnings.simplefilter("ignore", UserWarning)
            return qmc.Sobol(d=dimension, rng=np.random.default_rng(seed)).random(n)


START_SAMPLERS: dict[str, type[StartSampler]] = {
    cls.name: cls for cls in (LatinHypercube, Sobol)}


def sampler_named(name: str) -> StartSampler:
    """The start sampler called `name`."""
    if name not in START_SAMPLERS:
        raise SymflowError(f"unknown start sampler {name!r}",
                           help="choose " + ", ".join(catalog.START_SAMPLERS))
    return START_SAMPLERS[name]()


def start_values(names: Sequence[str], transforms: Sequence[Bounds], unit: np.ndarray
                 ) -> np.ndarray:
    """The unit-cube points as values inside each name's bounds (log-uniform in log
    space); every sampled value needs finite bounds."""
    out = np.empty_like(unit)
    for i, (name, b) in enumerate(zip(names, transforms)):
        if not (math.isfinite(b.lo) and math.isfinite(b.hi)):
            raise SymflowError(
                f"multistart draws its starts inside the bounds, and {name!r} has none",
                help=f"declare `{name} = ... in [lo, hi]` in the model (a state: fit it "
                     "with one start, or give its parameter bounds)")
        u = unit[:, i]
        if b.log:
            if b.lo <= 0:
                raise SymflowError(f"{name!r} is fitted in log space: its lower bound must "
                                   f"be positive for log-uniform starts (it is {b.lo:g})")
            out[:, i] = np.exp(math.log(b.lo) + u * (math.log(b.hi) - math.log(b.lo)))
        else:
            out[:, i] = b.lo + u * (b.hi - b.lo)
    return out
