"""What fixes a compiled solve program: the options of one `simulate` configuration."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import diffrax

from .linear import Dense, LinearStrategy

if TYPE_CHECKING:
    from .exponential import ExponentialSetup

__all__ = ["SolveConfig"]


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
