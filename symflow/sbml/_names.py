"""The model's names for SBML ids: the ids themselves, except where an id is a word
the language reserves (`t`, `in`, `end`, `exp`, ...), which gets a suffix `_`."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["RESERVED", "NameTable"]

# Keywords of the grammar and of the reaction-network sections, section names, built-in
# functions and constants, and the names the language gives a meaning (`t`, `der`,
# `pre`, `d`, `dt`): none may be declared.
RESERVED = frozenset("""
model end connector import extends parameters constants variables functions equations
observed simulate domain boundary brownian closures components ports connections discrete
events inputs in at if then else and or not potential flow when every from until terminate
compartments species reactions amount constant
t pi e der pre sum dot grad diff laplacian table d dt
sin cos tan asin acos atan atan2 sec csc cot sinh cosh tanh sech csch coth asinh acosh
atanh exp log sqrt abs sign min max floor ceiling ceil
""".split())

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class NameTable:
    """SBML id -> model name, with the renamings kept for the header comment."""

    def __init__(self, ids: Iterable[str]):
        ids = list(ids)
        taken = set(ids) | RESERVED
        self.names: dict[str, str] = {}
        self.renamed: dict[str, str] = {}
        for sid in ids:
            if sid in RESERVED or not _IDENT.match(sid):
                new = re.sub(r"\W", "_", sid) + "_"
                while new in taken or new in RESERVED:
                    new += "_"
                taken.add(new)
                self.renamed[sid] = new
                self.names[sid] = new
            else:
                self.names[sid] = sid

    def __call__(self, sid: str) -> str:
        return self.names.get(sid, sid)

    def fresh(self, base: str) -> str:
        """A new name for the import's own use (a function's argument), unused so far."""
        new = base if base not in RESERVED else base + "_"
        used = set(self.names.values())
        while new in used or new in RESERVED:
            new += "_"
        self.names.setdefault(f" {new}", new)
        return new
