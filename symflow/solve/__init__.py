"""Solve stage: a generated model to solutions, with diffrax.

`Runner` holds the solve policy of one compiled model (`runner.py`); the ODE core
is `simulate.py` (one compiled program per `SolveConfig`), `solvers.py` (names to
diffrax solvers) and `solution.py`; the families live in folders: `adjoints/`,
`linear/` (structured implicit solves), `exponential/`, `stochastic/`,
`diffusion/`. Steady states and forward sensitivities sit beside them.
"""

from .config import SolveConfig as SolveConfig
from .linear import (
    Banded as Banded,
    Dense as Dense,
    GridKrylov as GridKrylov,
    Interleaved as Interleaved,
    LinearStrategy as LinearStrategy,
)
from .runner import CompiledModel as CompiledModel, Runner as Runner, Side as Side
from .adjoints import AdjointStrategy as AdjointStrategy, adjoint_strategy as adjoint_strategy
from .simulate import Simulator as Simulator, save_times as save_times
from .solution import Solution as Solution
from .solvers import (
    EXPLICIT as EXPLICIT,
    IMPLICIT as IMPLICIT,
    STIFFNESS_THRESHOLD as STIFFNESS_THRESHOLD,
    choose_auto as choose_auto,
    make_solver as make_solver,
)
from .stochastic import (
    SDE_SOLVER_INFO as SDE_SOLVER_INFO,
    EnsembleConfig as EnsembleConfig,
    EnsembleSimulator as EnsembleSimulator,
    EnsembleSolution as EnsembleSolution,
    choose_sde_solver as choose_sde_solver,
    valid_sde_solvers as valid_sde_solvers,
)
from .sensitivity import (
    Sensitivities as Sensitivities,
    sensitivities as sensitivities,
    split_names as split_names,
)
from .steady import SteadyState as SteadyState, steady_state as steady_state
