"""Gradients through a solve: programs that replace diffrax's own adjoints where a
cheaper one gives the same gradient (`replay`: the accepted steps replayed under
`checkpoint`; `interpolating`: the continuous adjoint along the forward solution)."""

from .interpolating import make_interpolating_solve as make_interpolating_solve
from .replay import ends_output as ends_output
from .replay import ends_saveat as ends_saveat
from .replay import make_replay_solve as make_replay_solve
from .replay import with_controller_tols as with_controller_tols
from .strategy import AdjointStrategy as AdjointStrategy
from .strategy import Backsolve as Backsolve
from .strategy import Checkpoint as Checkpoint
from .strategy import DiffraxAdjoint as DiffraxAdjoint
from .strategy import Interpolating as Interpolating
from .strategy import Problem as Problem
from .strategy import Trajectory as Trajectory
from .strategy import adjoint_strategy as adjoint_strategy
