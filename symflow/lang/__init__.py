"""Parse stage: model text to an immutable AST with source spans, walks over that tree
(`ast.children`, `ast.walk`, `ast.transform`) and span-based rewriting of the text
(`edit`)."""

from . import ast as ast
from . import edit as edit
from ._parser import parse as parse

__all__ = ["ast", "edit", "parse"]
