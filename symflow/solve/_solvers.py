"""Solver names to diffrax solvers, and the choice made by `solver = auto`.

Implicit solvers get an `optimistix.Newton` root finder instead of diffrax's
default chord iteration: on Robertson's kinetics Kvaerno5 takes about 118
steps with Newton and over 1,200 with `VeryChord` (benchmarks/README.md).
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ..errors import SymflowError


__all__ = ["EXPLICIT", "IMPLICIT", "FIXED_STEP", "make_solver", "is_implicit", "is_imex", "choose_auto",
           "STIFFNESS_THRESHOLD"]


EXPLICIT = {
    "tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5, "dopri8": diffrax.Dopri8,
    "bosh3": diffrax.Bosh3, "euler": diffrax.Euler, "heun": diffrax.Heun,
    "midpoint": diffrax.Midpoint, "ralston": diffrax.Ralston,
}
IMPLICIT = {
    "kvaerno3": diffrax.Kvaerno3, "kvaerno4": diffrax.Kvaerno4, "kvaerno5": diffrax.Kvaerno5,
    "kencarp3": diffrax.KenCarp3, "kencarp4": diffrax.KenCarp4, "kencarp5": diffrax.KenCarp5,
    "impliciteuler": diffrax.ImplicitEuler,
}
# Solvers with no embedded error estimate: they need a fixed step `dt`.
FIXED_STEP = frozenset({"euler"})

# `auto` picks an implicit solver when the fastest decay rate of the Jacobian at the
# initial point times the span exceeds this (see `choose_auto`).
STIFFNESS_THRESHOLD = 1e3


def is_implicit(name: str) -> bool:
    return name in IMPLICIT


def is_imex(name: str) -> bool:
    """KenCarp methods take a (non-stiff, stiff) pair of terms."""
    return name.startswith("kencarp")


def make_solver(name: str, *, bandwidth=None,
                grid: tuple | None = None) -> diffrax.AbstractSolver:
    """The diffrax solver for a name of the language (not `auto`).

    With `bandwidth` (a banded Jacobian, from a 1-D PDE), an implicit solver gets
    diffrax's `VeryChord` root finder (one Jacobian per step) with a banded linear
    solve probed by `2*bandwidth + 1` JVPs, instead of a dense Jacobian: an `int`
    for one non-periodic field, a `_interleaved_band.Band` for several fields
    (interleaved) or a periodic dimension (cyclic band). With
    `grid = (shape, fields)` (a PDE on a 2-D or 3-D grid), Newton's linear
    systems are solved matrix-free by preconditioned GMRES (`_krylov.py`).
    """
    if name in EXPLICIT:
        return EXPLICIT[name]()
    if name in IMPLICIT and bandwidth is not None:
        from ._banded import BandedLinearSolver
        from ._interleaved_band import InterleavedBandedSolver

        if isinstance(bandwidth, int):
            linear = BandedLinearSolver(bandwidth)
        else:  # a `_interleaved_band.Band`: several fields, or a periodic dimension
            linear = InterleavedBandedSolver(bandwidth.width, bandwidth.fields,
                                             bandwidth.periodic)
        chord = diffrax.with_stepsize_controller_tols(diffrax.VeryChord)(linear_solver=linear)
        return IMPLICIT[name](root_finder=chord)
    if name in IMPLICIT and grid is not None:
        from ._krylov import GridKrylovSolver

        newton = diffrax.with_stepsize_controller_tols(optx.Newton)(
            linear_solver=GridKrylovSolver(*grid))
        return IMPLICIT[name](root_finder=newton)
    if name in IMPLICIT:
        newton = diffrax.with_stepsize_controller_tols(optx.Newton)()
        return IMPLICIT[name](root_finder=newton)
    raise SymflowError(f"unknown solver '{name}'",
                       help="known solvers: auto, " + ", ".join([*EXPLICIT, *IMPLICIT]))


def stiffness(rhs, t0: float, t1: float, y0, params) -> tuple[float, float]:
    """The decay and activity rates of the Jacobian at the initial point.

    `decay` is the fastest decay rate, max(-Re λ): it bounds the step of an
    explicit solver by stability. `active` is the fastest rate at which the
    solution itself moves, max(Re λ, |Im λ|) (growth and oscillation): it bounds
    the step of any solver by accuracy.
    """
    jac = jax.jacfwd(rhs, argnums=1)(jnp.asarray(t0), y0, params)
    jac = np.asarray(jac, dtype=float)
    if jac.size == 0:
        return 0.0, 0.0
    if not np.all(np.isfinite(jac)):
        return float("inf"), 0.0
    eig = np.linalg.eigvals(jac)
    decay = float(max(0.0, np.max(-eig.real)))
    active = float(max(0.0, np.max(np.maximum(eig.real, np.abs(eig.imag)))))
    return decay, active


def choose_auto(rhs, t0: float, t1: float, y0, params) -> str:
    """`kvaerno5` if the problem looks stiff at its initial point, else `tsit5`.

    Stiff means: an explicit solver would need many more steps for stability
    than the solution needs for accuracy. At the initial point that is read as
    `decay * |t1 - t0| > STIFFNESS_THRESHOLD` (many stability-limited steps) and
    `decay > 10 * active` (the fast modes decay rather than drive the solution).
    """
    decay, active = stiffness(rhs, t0, t1, y0, params)
    stiff = decay * abs(t1 - t0) > STIFFNESS_THRESHOLD and decay > 10 * active
    return "kvaerno5" if stiff else "tsit5"
