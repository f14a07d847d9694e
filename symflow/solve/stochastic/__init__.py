"""SDEs and ensembles: solver choice by noise class, noise terms, vectorized, chunked
and sharded ensembles, and the ensemble side of `Model.simulate`."""

from .ensemble import EnsembleConfig as EnsembleConfig
from .ensemble import EnsembleSimulator as EnsembleSimulator
from .ensemble import auto_mesh as auto_mesh
from .ensemble import mesh_context as mesh_context
from .side import ENSEMBLE_OPTIONS as ENSEMBLE_OPTIONS
from .side import ModelEnsembles as ModelEnsembles
from .solution import DEFAULT_QUANTILES as DEFAULT_QUANTILES
from .solution import EnsembleSolution as EnsembleSolution
from .solution import batch_mean as batch_mean
from .solution import batch_std as batch_std
from .solution import ensemble_solution as ensemble_solution
from .solution import moments as moments
from .solution import moments_jit as moments_jit
from .solution import quantiles_of as quantiles_of
from .solvers import ADAPTIVE_SDE_SOLVERS as ADAPTIVE_SDE_SOLVERS
from .solvers import SDE_SOLVER_INFO as SDE_SOLVER_INFO
from .solvers import SDESolverInfo as SDESolverInfo
from .solvers import choose_sde_solver as choose_sde_solver
from .solvers import make_sde_solver as make_sde_solver
from .solvers import valid_sde_solvers as valid_sde_solvers
from .terms import NoiseTerm as NoiseTerm
from .terms import SymbolicMilstein as SymbolicMilstein
