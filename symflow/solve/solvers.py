"""ODE solver names to diffrax solvers, and the choice made by `solver = auto`.

The names are the catalogue's (`symflow.catalog`); each maps here to its diffrax
class, and a test checks that every catalogue name has one. Implicit solvers get
their root finder (and with it the linear solve) from a `LinearStrategy`: Newton
on a dense Jacobian by default, a chord iteration on a probed band for 1-D PDEs,
Newton-Krylov on 2-D/3-D grids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import diffrax
import jax

from .. import catalog
from ..errors import SymflowError
from .linear import STIFFNESS_THRESHOLD, Dense, LinearStrategy

__all__ = ["EXPLICIT", "IMPLICIT", "STIFFNESS_THRESHOLD", "choose_auto", "is_fixed_step",
           "is_imex", "is_implicit", "make_solver"]


EXPLICIT: dict[str, type[diffrax.AbstractSolver]] = {
    "tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5, "dopri8": diffrax.Dopri8,
    "bosh3": diffrax.Bosh3, "euler": diffrax.Euler, "heun": diffrax.Heun,
    "midpoint": diffrax.Midpoint, "ralston": diffrax.Ralston,
}
IMPLICIT: dict[str, type[diffrax.AbstractSolver]] = {
    "kvaerno3": diffrax.Kvaerno3, "kvaerno4": diffrax.Kvaerno4, "kvaerno5": diffrax.Kvaerno5,
    "kencarp3": diffrax.KenCarp3, "kencarp4": diffrax.KenCarp4, "kencarp5": diffrax.KenCarp5,
    "impliciteuler": diffrax.ImplicitEuler,
}


def is_implicit(name: str) -> bool:
    return name in IMPLICIT


def is_imex(name: str) -> bool:
    """KenCarp methods take a (non-stiff, stiff) pair of terms."""
    return name in catalog.IMEX_SOLVERS


def is_fixed_step(name: str) -> bool:
    """Methods with no embedded error estimate need a fixed step `dt`."""
    return name in catalog.FIXED_STEP_SOLVERS


def make_solver(name: str, *, linear: LinearStrategy = Dense()) -> diffrax.AbstractSolver:
    """The diffrax solver for a name of the language (not `auto`); an implicit one
    solves its stages with the root finder of `linear`."""
    if name in EXPLICIT:
        return EXPLICIT[name]()
    if name in IMPLICIT:
        return IMPLICIT[name](root_finder=linear.root_finder())
    raise SymflowError(f"unknown solver '{name}'",
                       help="known solvers: auto, " + ", ".join([*EXPLICIT, *IMPLICIT]))


def choose_auto(rhs: Callable, t0: float, t1: float, y0: jax.Array,
                params: Mapping[str, Any], *,
                linear: LinearStrategy = Dense()) -> str:
    """`kvaerno5` if the problem looks stiff at its initial point, else `tsit5`.

    Stiff means: an explicit solver would need many more steps for stability
    than the solution needs for accuracy (`LinearStrategy.is_stiff`, estimated as
    the Jacobian's structure allows).
    """
    return "kvaerno5" if linear.is_stiff(rhs, t0, t1, y0, params) else "tsit5"
