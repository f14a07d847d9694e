"""python-libsbml, imported on first use: symflow itself imports without it."""

from __future__ import annotations

import functools
from typing import Any

from ..errors import SymflowError

__all__ = ["libsbml"]


@functools.cache
def libsbml() -> Any:
    """The `libsbml` module, or a `SymflowError` that says how to install it."""
    try:
        import libsbml as module
    except ImportError:
        raise SymflowError(
            "SBML import needs python-libsbml: pip install 'symflow[sbml]'") from None
    return module
