"""Imports of a model file: the models and connectors visible from it.

`import electrical` reads the standard library (`symflow/library/electrical.sf`),
`import "lib.sf"` another file, relative to the importing one; each file is read
once, and an import cycle or a missing file is an error at the import line.
"""

from __future__ import annotations

import dataclasses
import os

from ...errors import SymflowError
from ...lang import ast, parse

__all__ = ["LIBRARY", "Namespace", "load_namespace"]

LIBRARY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "library")


@dataclasses.dataclass
class Namespace:
    """The models and connectors visible from a file (its own and its imports)."""

    models: dict[str, ast.Model]
    connectors: dict[str, ast.Connector]
    # the files imported (absolute paths): read once each, and a model's sources
    files: set[str] = dataclasses.field(default_factory=set)


def load_namespace(program: ast.Program, extra_imports: tuple[ast.Import, ...] = ()
                   ) -> Namespace:
    """The models and connectors of `program` and of everything it imports."""
    ns = Namespace({}, {})
    _load_into(ns, program, [os.path.abspath(program.file)], extra_imports)
    return ns


def _load_into(ns: Namespace, program: ast.Program, stack: list[str],
               extra: tuple[ast.Import, ...]) -> None:
    imports = list(program.imports) + [i for m in program.models for i in m.imports]
    imports += list(extra)
    for imp in imports:
        path = _import_path(program.file, imp)
        key = os.path.abspath(path)
        if key in stack:
            cycle = " -> ".join(os.path.basename(p) for p in stack[stack.index(key):] + [key])
            raise SymflowError(f"import cycle: {cycle}", imp.span,
                               help="a file cannot import itself, directly or through others")
        if key in ns.files:
            continue
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            what = f"'{imp.target}'" if imp.is_file else f"library '{imp.target}'"
            help_ = ("the path is relative to the importing file" if imp.is_file else
                     "known libraries: " + ", ".join(_libraries()))
            raise SymflowError(f"cannot import {what}: {e.strerror}", imp.span,
                               help=help_) from None
        ns.files.add(key)
        _load_into(ns, parse(text, path), stack + [key], ())
    for c in program.connectors:
        ns.connectors.setdefault(c.name, c)
    for m in program.models:
        ns.models[m.name] = m


def _libraries() -> list[str]:
    try:
        return sorted(f[:-3] for f in os.listdir(LIBRARY) if f.endswith(".sf"))
    except OSError:
        return []


def _import_path(importer: str, imp: ast.Import) -> str:
    if imp.is_file:
        base = os.getcwd() if importer.startswith("<") else os.path.dirname(importer)
        return os.path.join(base, imp.target.strip('"'))
    return os.path.join(LIBRARY, imp.target + ".sf")


