"""Solve stage: generated callables to solutions, with diffrax."""

from ._simulate import (
    ADJOINTS as ADJOINTS,
    SolveConfig as SolveConfig,
    Simulator as Simulator,
    save_times as save_times,
)
from ._ensemble import (
    EnsembleConfig as EnsembleConfig,
    EnsembleSimulator as EnsembleSimulator,
    EnsembleSolution as EnsembleSolution,
)
from ._sde_solvers import (
    SDE_SOLVER_INFO as SDE_SOLVER_INFO,
    choose_sde_solver as choose_sde_solver,
    valid_sde_solvers as valid_sde_solvers,
)
from ._solution import Solution as Solution
from ._solvers import (
    EXPLICIT as EXPLICIT,
    IMPLICIT as IMPLICIT,
    STIFFNESS_THRESHOLD as STIFFNESS_THRESHOLD,
    choose_auto as choose_auto,
    make_solver as make_solver,
    stiffness as stiffness,
)
from ._sensitivity import Sensitivities as Sensitivities, sensitivities as sensitivities
from ._steady import SteadyState as SteadyState, steady_state as steady_state
