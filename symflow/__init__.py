"""symflow: a modeling compiler from model text to fast, differentiable JAX programs.

Importing symflow turns on JAX's float64 (models are scientific). To compute in
float32 instead, set the environment variable `SYMFLOW_X64=0` before importing.
"""

import os as _os

import jax as _jax


if _os.environ.get("SYMFLOW_X64", "1") != "0":
    _jax.config.update("jax_enable_x64", True)

from .api import Model as Model, load as load, loads as loads  # noqa: E402
from .errors import SolverError as SolverError, Span as Span, SymflowError as SymflowError  # noqa: E402
from .solve import Solution as Solution  # noqa: E402


__version__ = "0.1.0"
__all__ = ["Model", "Solution", "SolverError", "Span", "SymflowError", "load", "loads"]
