"""Exact and approximate stochastic simulation of reaction networks (docs/jumps.md).

A `JumpProgram` (propensities and a state-change matrix, `program.py`) is
simulated one trajectory at a time by a compiled loop (`trajectory.py`) that
asks a solver strategy for its moves (`solvers.py`: Gillespie's direct method,
tau-leaping), and in vectorized, chunked or sharded ensembles (`ensemble.py`).
"""

from .ensemble import simulate_jumps as simulate_jumps
from .program import JumpProgram as JumpProgram
from .program import check_initial_counts as check_initial_counts
from .program import depends_on_time as depends_on_time
from .side import JUMP_OPTIONS as JUMP_OPTIONS
from .side import ModelJumps as ModelJumps
from .solvers import JUMP_RESULTS as JUMP_RESULTS
from .solvers import JUMP_SOLVERS as JUMP_SOLVERS
from .solvers import AbstractJumpSolver as AbstractJumpSolver
from .solvers import Direct as Direct
from .solvers import Proposal as Proposal
from .solvers import TauLeaping as TauLeaping
from .solvers import make_jump_solver as make_jump_solver
from .trajectory import Trajectory as Trajectory
from .trajectory import trajectories as trajectories
from .trajectory import trajectory as trajectory
