"""SDEs and ensembles: solver choice by noise class, noise terms, vectorized, chunked
and sharded ensembles, and the ensemble side of `Model.simulate`."""

from .ensemble import EnsembleConfig as EnsembleConfig, EnsembleSimulator as EnsembleSimulator
from .solution import (
    DEFAULT_QUANTILES as DEFAULT_QUANTILES,
    EnsembleSolution as EnsembleSolution,
    batch_mean as batch_mean,
    batch_std as batch_std,
    ensemble_solution as ensemble_solution,
    quantiles_of as quantiles_of,
)
from .side import ENSEMBLE_OPTIONS as ENSEMBLE_OPTIONS, ModelEnsembles as ModelEnsembles
from .solvers import (
    ADAPTIVE_SDE_SOLVERS as ADAPTIVE_SDE_SOLVERS,
    SDE_SOLVER_INFO as SDE_SOLVER_INFO,
    SDESolverInfo as SDESolverInfo,
    choose_sde_solver as choose_sde_solver,
    make_sde_solver as make_sde_solver,
    valid_sde_solvers as valid_sde_solvers,
)
from .terms import NoiseTerm as NoiseTerm, SymbolicMilstein as SymbolicMilstein
