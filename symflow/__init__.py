"""symflow: a modeling compiler from model text to fast, differentiable JAX programs.

Importing symflow turns on JAX's float64 for the whole process (models are
scientific; it is JAX's global `jax_enable_x64` flag, so other JAX code in the
process computes in float64 too). To compute in float32 instead, set the
environment variable `SYMFLOW_X64=0` before importing; `symflow.precision()` says
which is in force.

Importing symflow imports neither JAX nor the API: the API is imported on first
use, so that `symflow check` never loads JAX (docs/performance.md) and the
`symflow` command can configure JAX and Equinox before they load. Float64 is
turned on through JAX's own environment variable when JAX is not loaded yet.
"""

import os as _os
import sys as _sys
from typing import TYPE_CHECKING as _TYPE_CHECKING

from .errors import SolverError as SolverError
from .errors import Span as Span
from .errors import SymflowError as SymflowError

if _os.environ.get("SYMFLOW_X64", "1") != "0":
    if "jax" in _sys.modules:
        _sys.modules["jax"].config.update("jax_enable_x64", True)
    else:  # read by JAX when it is imported
        _os.environ["JAX_ENABLE_X64"] = "1"

if _TYPE_CHECKING:
    from .api import Model as Model
    from .api import load as load
    from .api import loads as loads
    from .learn import Experiment as Experiment
    from .learn import FitError as FitError
    from .learn import FitResult as FitResult
    from .learn import load_data as load_data
    from .solve import EnsembleSolution as EnsembleSolution
    from .solve import Sensitivities as Sensitivities
    from .solve import Solution as Solution
    from .solve import SteadyState as SteadyState


__version__ = "0.1.0"
__all__ = ["EnsembleSolution", "Experiment", "FitError", "FitResult", "Model",
           "Sensitivities", "Solution", "SolverError", "Span", "SteadyState", "SymflowError",
           "load", "load_data", "loads", "precision"]


def precision() -> str:
    """The floating-point type JAX computes in by default in this process, `"float64"`
    or `"float32"` (symflow turns on float64 at import unless `SYMFLOW_X64=0`;
    docs/usage.md, "Precision"). Imports JAX."""
    import jax

    return "float64" if jax.config.read("jax_enable_x64") else "float32"


def __getattr__(name: str):
    if name in ("Model", "load", "loads"):
        from . import api

        return getattr(api, name)
    if name in ("Experiment", "FitError", "FitResult", "load_data"):
        from . import learn

        return getattr(learn, name)
    if name in ("Solution", "EnsembleSolution", "Sensitivities", "SteadyState"):
        from . import solve

        return getattr(solve, name)
    raise AttributeError(f"module 'symflow' has no attribute {name!r}")
