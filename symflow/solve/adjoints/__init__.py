"""Gradients through a solve: programs that replace diffrax's own adjoints where a
cheaper one gives the same gradient (`replay`: the accepted steps replayed under
`checkpoint`; `interpolating`: the continuous adjoint along the forward solution)."""

from .interpolating import make_interpolating_solve as make_interpolating_solve
from .replay import (
    ends_output as ends_output,
    ends_saveat as ends_saveat,
    make_replay_solve as make_replay_solve,
)
from .strategy import (
    AdjointStrategy as AdjointStrategy,
    Backsolve as Backsolve,
    Checkpoint as Checkpoint,
    DiffraxAdjoint as DiffraxAdjoint,
    Interpolating as Interpolating,
    Problem as Problem,
    Trajectory as Trajectory,
    adjoint_strategy as adjoint_strategy,
)
