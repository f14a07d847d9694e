"""How an implicit solver solves its linear systems: one typed strategy per Jacobian shape.

The solve policy (`symflow.solve.runner`) picks the strategy once per model from
what the symbolic front end proved (a band of a 1-D PDE, a 2-D/3-D grid of
fields) and what probing found; the strategy then gives the implicit solver its
root finder, and `solver = auto` its stiffness test. Every structure is a value
(a frozen dataclass, hashable: part of the compiled configuration).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import diffrax
import jax
import optimistix as optx

from .banded import BandedLinearSolver
from .interleaved import Band, InterleavedBandedSolver
from .krylov import GridKrylovSolver
from .stiffness import (
    GRID_STIFFNESS_THRESHOLD,
    STIFFNESS_THRESHOLD,
    band_decay,
    dense_rates,
    spectral_radius,
)

__all__ = ["Banded", "Dense", "GridKrylov", "Interleaved", "LinearStrategy"]


class LinearStrategy(abc.ABC):
    """The linear algebra of an implicit solve, and the stiffness test that fits it."""

    @abc.abstractmethod
    def root_finder(self) -> optx.AbstractRootFinder:
        """The root finder the implicit solver's stages use (with diffrax's
        step-size tolerances)."""

    @abc.abstractmethod
    def decay_rate(self, rhs: Callable, t0: float, y0: jax.Array,
                   params: Mapping[str, Any]) -> float:
        """The fastest decay rate of the Jacobian at `(t0, y0)`, as this structure
        can afford to estimate it."""

    def is_stiff(self, rhs: Callable, t0: float, t1: float, y0: jax.Array,
                 params: Mapping[str, Any]) -> bool:
        """Whether an explicit solver would need many more steps for stability than
        the solution needs for accuracy: `decay * |t1 - t0| > STIFFNESS_THRESHOLD`."""
        return self.decay_rate(rhs, t0, y0, params) * abs(t1 - t0) > STIFFNESS_THRESHOLD


@dataclasses.dataclass(frozen=True)
class Dense(LinearStrategy):
    """A dense Jacobian and Newton's method (optimistix): small models. On
    Robertson's kinetics Kvaerno5 takes about 118 steps with Newton and over 1,200
    with diffrax's default chord iteration (benchmarks/README.md)."""

    def root_finder(self) -> optx.AbstractRootFinder:
        return diffrax.with_stepsize_controller_tols(optx.Newton)()

    def decay_rate(self, rhs: Callable, t0: float, y0: jax.Array,
                   params: Mapping[str, Any]) -> float:
        return dense_rates(rhs, t0, y0, params)[0]

    def is_stiff(self, rhs: Callable, t0: float, t1: float, y0: jax.Array,
                 params: Mapping[str, Any]) -> bool:
        """Also asks `decay > 10 * active`: the fast modes decay rather than drive
        the solution (the eigenvalues are at hand here)."""
        decay, active = dense_rates(rhs, t0, y0, params)
        return decay * abs(t1 - t0) > STIFFNESS_THRESHOLD and decay > 10 * active


@dataclasses.dataclass(frozen=True)
class Banded(LinearStrategy):
    """One non-periodic field of a 1-D PDE: a band of half-width `width`, probed with
    `2 width + 1` products and factored once per Jacobian (`BandedLinearSolver`)
    under diffrax's chord iteration."""

    width: int

    @property
    def band(self) -> Band:
        return Band(self.width)

    def root_finder(self) -> optx.AbstractRootFinder:
        chord = diffrax.with_stepsize_controller_tols(diffrax.VeryChord)
        return chord(linear_solver=BandedLinearSolver(self.width))

    def decay_rate(self, rhs: Callable, t0: float, y0: jax.Array,
                   params: Mapping[str, Any]) -> float:
        return band_decay(rhs, t0, y0, params, self.band)


@dataclasses.dataclass(frozen=True)
class Interleaved(LinearStrategy):
    """Several fields of a 1-D PDE in interleaved order, or a periodic one: a (cyclic)
    band of half-width `width` (`InterleavedBandedSolver`)."""

    width: int
    fields: int
    periodic: bool

    @property
    def band(self) -> Band:
        return Band(self.width, self.fields, self.periodic)

    def root_finder(self) -> optx.AbstractRootFinder:
        chord = diffrax.with_stepsize_controller_tols(diffrax.VeryChord)
        return chord(linear_solver=InterleavedBandedSolver(self.width, self.fields,
                                                          self.periodic))

    def decay_rate(self, rhs: Callable, t0: float, y0: jax.Array,
                   params: Mapping[str, Any]) -> float:
        return band_decay(rhs, t0, y0, params, self.band)


@dataclasses.dataclass(frozen=True)
class GridKrylov(LinearStrategy):
    """A PDE on a 2-D/3-D grid whose states are all fields: Newton with
    preconditioned GMRES on Jacobian-vector products (`GridKrylovSolver`); the
    Jacobian is never formed. `boundaries` (the boundary kinds of every field
    and axis) selects the DST/DCT preconditioner; empty, ADI or FFT."""

    shape: tuple[int, ...]
    fields: int
    periodic: tuple[bool, ...]
    boundaries: tuple = ()

    def linear_solver(self, **options: Any) -> GridKrylovSolver:
        """The GMRES solve of this grid (`options`: tolerances, restarts, fallback)."""
        return GridKrylovSolver(self.shape, self.fields, self.periodic, self.boundaries,
                                **options)

    def root_finder(self) -> optx.AbstractRootFinder:
        newton = diffrax.with_stepsize_controller_tols(optx.Newton)
        return newton(linear_solver=self.linear_solver())

    def decay_rate(self, rhs: Callable, t0: float, y0: jax.Array,
                   params: Mapping[str, Any]) -> float:
        return spectral_radius(rhs, t0, y0, params)

    def is_stiff(self, rhs: Callable, t0: float, t1: float, y0: jax.Array,
                 params: Mapping[str, Any]) -> bool:
        """Stiff enough that an implicit Newton–Krylov step pays for its cost:
        `decay * |t1 - t0| > GRID_STIFFNESS_THRESHOLD` (the measurement is beside it)."""
        return self.decay_rate(rhs, t0, y0, params) * abs(t1 - t0) > GRID_STIFFNESS_THRESHOLD


def band_strategy(band: Band) -> Banded | Interleaved:
    """The strategy of a probed band: `Banded` for one non-periodic field."""
    if band.fields == 1 and not band.periodic:
        return Banded(band.width)
    return Interleaved(band.width, band.fields, band.periodic)
