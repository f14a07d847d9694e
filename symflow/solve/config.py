"""What fixes a compiled solve program: the options of one `simulate` configuration."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Union

import diffrax
import numpy as np

from ..errors import SymflowError
from .linear import Dense, LinearStrategy

if TYPE_CHECKING:
    from .exponential import ExponentialSetup

__all__ = ["SolveConfig", "SolverArg", "SolverObject", "check_options"]

# the `solver` of `simulate`: a name, a diffrax solver object, or None (the model's)
SolverArg = Union[str, diffrax.AbstractSolver, None]


def check_options(*, rtol: float | None = None, atol: float | None = None,
                  dt: float | None = None, max_steps: int | None = None) -> None:
    """Refuse solver options given to `simulate` (or on the command line) that no
    solve can use, before anything compiles: tolerances and steps must be positive
    finite numbers, `max_steps` a positive whole number. (A model file's settings
    are checked where they are read, with the same rules.)"""
    for name, value in (("rtol", rtol), ("atol", atol), ("dt", dt)):
        if value is None:
            continue
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise SymflowError(f"{name} must be a number, not {value!r}") from None
        if not (math.isfinite(x) and x > 0):
            raise SymflowError(f"{name} must be a positive finite number, not {x:g}",
                               help="rtol and atol are the step-size controller's relative "
                                    "and absolute tolerances; dt the (initial) step")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(
            max_steps, (int, np.integer)) or max_steps < 1):
        raise SymflowError(f"max_steps must be a positive whole number, not {max_steps!r}")


class SolverObject:
    """A diffrax solver given as an object to `simulate` (`solver=diffrax.Tsit5()`): the
    key of its compiled program. Solvers that hash (those holding numbers and
    functions, as diffrax's own do) compare by value, so `diffrax.Kvaerno5()` made
    anew for each call reuses one program; the others (holding arrays, which compare
    elementwise) by identity: the same object reuses its program."""

    __slots__ = ("_hash", "solver")

    def __init__(self, solver: diffrax.AbstractSolver):
        self.solver = solver
        try:
            self._hash: int | None = hash(solver)
        except TypeError:
            self._hash = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SolverObject):
            return False
        if other.solver is self.solver:
            return True
        if self._hash is None or other._hash is None or type(self.solver) is not type(
                other.solver):
            return False
        try:
            return bool(self.solver == other.solver)
        except Exception:  # a field that does not compare to one truth value
            return False

    def __hash__(self) -> int:
        return self._hash if self._hash is not None else id(self.solver)

    def __repr__(self) -> str:
        return f"SolverObject({self.solver!r})"


@dataclasses.dataclass(frozen=True)
class SolveConfig:
    """What fixes the compiled program: changing any of these recompiles.

    `linear` is how an implicit solver solves its linear systems (a dense Newton
    solve, a probed band of a 1-D PDE, Newton-Krylov on a 2-D/3-D grid; explicit
    solvers ignore it). `exponential` is the semilinear set-up of an exponential
    integrator (`symflow.solve.exponential.ExponentialSetup`), `None` otherwise.
    """

    solver: str
    t0: float
    t1: float
    rtol: float
    atol: float
    dt0: float | None
    max_steps: int
    n_save: int
    adjoint: str | diffrax.AbstractAdjoint = "checkpoint"
    dense: bool = False
    progress: bool = False
    linear: LinearStrategy = Dense()
    exponential: ExponentialSetup | None = None
    max_events: int = 1000  # a model with events: the size of the event log
    event_samples: int = 3  # a model with events: interior checks per step (events/locate.py)
    # a diffrax solver object given to `simulate` (then `solver` is its label,
    # `solvers.solver_label`), used as given; None: the solver is made from its name
    custom: SolverObject | None = None
