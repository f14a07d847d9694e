"""Solve stage: a generated model to solutions, with diffrax.

`Runner` holds the solve policy of one compiled model (`runner.py`); the ODE core
is `simulate.py` (one compiled program per `SolveConfig`), `solvers.py` (names to
diffrax solvers) and `solution.py`; the families live in folders: `adjoints/`,
`linear/` (structured implicit solves), `rosenbrock/`, `exponential/`, `stochastic/`,
`diffusion/`, `jumps/` (exact stochastic simulation of reaction networks). Steady
states and forward sensitivities sit beside them.
"""

from .adjoints import AdjointStrategy as AdjointStrategy
from .adjoints import adjoint_strategy as adjoint_strategy
from .config import SolveConfig as SolveConfig
from .jumps import AbstractJumpSolver as AbstractJumpSolver
from .jumps import Direct as Direct
from .jumps import JumpProgram as JumpProgram
from .jumps import TauLeaping as TauLeaping
from .jumps import simulate_jumps as simulate_jumps
from .linear import Banded as Banded
from .linear import Dense as Dense
from .linear import GridKrylov as GridKrylov
from .linear import Interleaved as Interleaved
from .linear import LinearStrategy as LinearStrategy
from .result_size import check_result_size as check_result_size
from .runner import CompiledModel as CompiledModel
from .runner import Runner as Runner
from .runner import Side as Side
from .sensitivity import Sensitivities as Sensitivities
from .sensitivity import sensitivities as sensitivities
from .sensitivity import split_names as split_names
from .simulate import Simulator as Simulator
from .simulate import save_times as save_times
from .solution import Solution as Solution
from .solvers import EXPLICIT as EXPLICIT
from .solvers import IMPLICIT as IMPLICIT
from .solvers import ROSENBROCK as ROSENBROCK
from .solvers import ROSENBROCK_MAX_STATES as ROSENBROCK_MAX_STATES
from .solvers import STIFFNESS_THRESHOLD as STIFFNESS_THRESHOLD
from .solvers import choose_auto as choose_auto
from .solvers import make_solver as make_solver
from .steady import SteadyState as SteadyState
from .steady import steady_state as steady_state
from .stochastic import SDE_SOLVER_INFO as SDE_SOLVER_INFO
from .stochastic import EnsembleConfig as EnsembleConfig
from .stochastic import EnsembleSimulator as EnsembleSimulator
from .stochastic import EnsembleSolution as EnsembleSolution
from .stochastic import auto_mesh as auto_mesh
from .stochastic import choose_sde_solver as choose_sde_solver
from .stochastic import mesh_context as mesh_context
from .stochastic import valid_sde_solvers as valid_sde_solvers
