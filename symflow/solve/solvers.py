"""ODE solver names to diffrax solvers, and the choice made by `solver = auto`.

The names are the catalogue's (`symflow.catalog`); each maps here to its diffrax
class, and a test checks that every catalogue name has one. Implicit solvers get
their root finder (and with it the linear solve) from a `LinearStrategy`: Newton
on a dense Jacobian by default, a chord iteration on a probed band for 1-D PDEs,
Newton-Krylov on 2-D/3-D grids. Rosenbrock methods (`rosenbrock/`) need no root
finder: one dense LU factorization per step. Each family gets its step-size
controller from `make_controller` (the growth and shrink limits of Hairer's codes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import diffrax
import jax

from .. import catalog
from ..errors import SymflowError
from .linear import STIFFNESS_THRESHOLD, Dense, LinearStrategy
from .rosenbrock import ROSENBROCK

__all__ = ["EXPLICIT", "IMPLICIT", "ROSENBROCK", "ROSENBROCK_MAX_STATES", "STEP_FACTORS",
           "STIFFNESS_THRESHOLD", "choose_auto", "is_fixed_step", "is_imex", "is_implicit",
           "is_rosenbrock", "is_stiff_solver", "make_controller", "make_solver", "solver_label",
           "takes_fixed_steps"]

# `auto` picks Rodas5P for a stiff model with at most this many states and no
# structured (banded, grid) linear solve; above it, Kvaerno5 with the model's
# linear strategy. A Rosenbrock step forms the dense Jacobian (n + 1 JVPs) and one
# dense LU (n³/3 flops) every step; at a few hundred states that is still below
# an ESDIRK step's Newton iterations on the same dense matrix (docs/stiff.md).
ROSENBROCK_MAX_STATES = 200


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
    """Methods that solve their stages with a root finder (and so a `LinearStrategy`)."""
    return name in IMPLICIT


def is_rosenbrock(name: str) -> bool:
    """Rosenbrock methods: a dense Jacobian and LU factorization per step."""
    return name in ROSENBROCK


def is_stiff_solver(name: str) -> bool:
    """Methods meant for stiff problems (implicit or Rosenbrock): what the adjoints
    must not integrate backwards with an explicit method."""
    return is_implicit(name) or is_rosenbrock(name)


def is_imex(name: str) -> bool:
    """KenCarp methods take a (non-stiff, stiff) pair of terms."""
    return name in catalog.IMEX_SOLVERS


def is_fixed_step(name: str, *, dt: float | None = None) -> bool:
    """Whether `name` takes a fixed step: methods with no embedded error estimate
    always (they need `dt`), Heun, midpoint and Ralston when `dt` is given."""
    return (name in catalog.FIXED_STEP_SOLVERS
            or (dt is not None and name in catalog.FIXED_WHEN_DT_SOLVERS))


def make_solver(name: str, *, linear: LinearStrategy = Dense(),
                derivatives: Callable | None = None) -> diffrax.AbstractSolver:
    """The diffrax solver for a name of the language (not `auto`); an implicit one
    solves its stages with the root finder of `linear`; a Rosenbrock one takes
    `derivatives(t, y, p) -> (f, df/dt, df/dy)` of the model's right-hand side if
    given (symbolic, from codegen), else differentiates it by autodiff."""
    if name in EXPLICIT:
        return EXPLICIT[name]()
    if name in IMPLICIT:
        return IMPLICIT[name](root_finder=linear.root_finder())
    if name in ROSENBROCK:
        return ROSENBROCK[name](derivatives=derivatives)
    raise SymflowError(f"unknown solver '{name}'",
                       help="known solvers: auto, " + ", ".join([*EXPLICIT, *IMPLICIT,
                                                                 *ROSENBROCK]))


# The step-size controller's limits per family, (factormin, factormax, safety): the
# next step is at least factormin and at most factormax times the last accepted
# one, and `safety` times the size the error estimate asks for. From Hairer's codes:
# RODAS (Rosenbrock) 0.2 .. 6, RADAU5 (implicit) 0.2 .. 8, DOPRI5 (explicit)
# 0.2 .. 10 (Hairer & Wanner, Solving ODEs II, section IV.8 and the codes' defaults).
# A stiff solver's error estimate is less reliable far from the last step (its
# stage values come from a linearization or a Newton iteration), hence the smaller
# growth cap. After a rejected step diffrax's `PIDController` forbids growth on its
# own (the next factor is at most `safety`), which is the classical codes' rule too;
# a restart with a smaller cap after repeated rejections it has no setting for.
STEP_FACTORS: dict[str, tuple[float, float, float]] = {
    "rosenbrock": (0.2, 6.0, 0.9), "implicit": (0.2, 8.0, 0.9), "explicit": (0.2, 10.0, 0.9)}


def make_controller(name: str, *, rtol: float, atol: float) -> diffrax.PIDController:
    """The adaptive step-size controller for solver `name` (a catalogue name, or
    `solver_label` of a solver object): diffrax's integral (I) controller with the
    family's limits of `STEP_FACTORS`."""
    family = ("rosenbrock" if is_rosenbrock(name) else "implicit" if is_implicit(name)
              else "explicit")
    factormin, factormax, safety = STEP_FACTORS[family]
    return diffrax.PIDController(rtol=rtol, atol=atol, factormin=factormin,
                                 factormax=factormax, safety=safety)


def choose_auto(rhs: Callable, t0: float, t1: float, y0: jax.Array,
                params: Mapping[str, Any], *,
                linear: LinearStrategy = Dense(), structured: bool = False) -> str:
    """`tsit5` if the problem does not look stiff at its initial point; if it does,
    `rodas5p` for at most `ROSENBROCK_MAX_STATES` states without a `structured`
    linear solve (a proven band, a grid of fields), else `kvaerno5` (which solves
    with that structure).

    Stiff means: an explicit solver would need many more steps for stability
    than the solution needs for accuracy (`LinearStrategy.is_stiff`, estimated as
    the Jacobian's structure allows). Why Rodas5P for the small and medium stiff
    systems: one linearization per step and no Newton iteration, so no Newton
    convergence test to fail (docs/stiff.md has the measurements).
    """
    if not linear.is_stiff(rhs, t0, t1, y0, params):
        return "tsit5"
    if not structured and y0.shape[0] <= ROSENBROCK_MAX_STATES:
        return "rodas5p"
    return "kvaerno5"


def solver_label(solver: diffrax.AbstractSolver) -> str:
    """The name of a diffrax solver object: the catalogue's name of its class
    (`diffrax.Kvaerno5(...)` is `kvaerno5`: implicit, with what that implies for the
    adjoints), else its class name."""
    for names in (EXPLICIT, IMPLICIT, ROSENBROCK):
        for name, cls in names.items():
            if type(solver) is cls:
                return name
    return type(solver).__name__


def takes_fixed_steps(solver: diffrax.AbstractSolver) -> bool:
    """Whether a diffrax solver object has no error estimate (needs a fixed `dt`)."""
    return not isinstance(solver, diffrax.AbstractAdaptiveSolver)
