"""Parse stage: model text to an immutable AST with source spans."""

from . import _ast as ast
from ._parser import parse as parse


__all__ = ["ast", "parse"]
