"""Imports of a model file: the models and connectors visible from it.

`import electrical` reads the standard library (`symflow/library/electrical.sf`),
`import "lib.sf"` another file, relative to the importing one; each file is read
once, and an import cycle or a missing file is an error at the import line.

A model file is data, and so is what it imports: an import reaches only regular
`.sf` files inside the *search path*, which is the folder of the file that was
loaded (the top-level model file; the current folder for model text without a
file), the standard library, and the folders the user added (`--allow-import
DIR`, `allow_import=`). Paths are compared after resolving symbolic links, so
neither `../`, an absolute path nor a link leads out of it. A file larger than
`files.MODEL_LIMIT`, imports nested deeper than `MAX_DEPTH` and cycles are
refused, each at the import line.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable

from ...errors import SymflowError
from ...files import MODEL_LIMIT, InputError, decode_text, read_regular
from ...lang import ast, parse

__all__ = ["LIBRARY", "MAX_DEPTH", "Namespace", "load_namespace", "search_path"]

LIBRARY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "library")

MAX_DEPTH = 64  # imports nested deeper than this are refused (a chain, not a model)


@dataclasses.dataclass
class Namespace:
    """The models and connectors visible from a file (its own and its imports)."""

    models: dict[str, ast.Model]
    connectors: dict[str, ast.Connector]
    # the files imported (absolute paths): read once each, and a model's sources
    files: set[str] = dataclasses.field(default_factory=set)


def search_path(file: str, allow_import: Iterable[str | os.PathLike] = ()) -> tuple[str, ...]:
    """The folders imports of `file` may read from (symbolic links resolved): its
    own folder (the current one for `<string>` text), the standard library, and
    the folders of `allow_import`."""
    own = os.getcwd() if file.startswith("<") else os.path.dirname(os.path.abspath(file))
    return tuple(os.path.realpath(os.fspath(d)) for d in (own, LIBRARY, *allow_import))


def load_namespace(program: ast.Program, extra_imports: tuple[ast.Import, ...] = (), *,
                   allow_import: Iterable[str | os.PathLike] = ()) -> Namespace:
    """The models and connectors of `program` and of everything it imports, from
    the search path of `program.file` widened by `allow_import`."""
    ns = Namespace({}, {})
    roots = search_path(program.file, allow_import)
    own = program.file if program.file.startswith("<") else os.path.realpath(program.file)
    _load_into(ns, program, [own], extra_imports, roots)
    return ns


def _load_into(ns: Namespace, program: ast.Program, stack: list[str],
               extra: tuple[ast.Import, ...], roots: tuple[str, ...]) -> None:
    imports = list(program.imports) + [i for m in program.models for i in m.imports]
    imports += list(extra)
    for imp in imports:
        key = _resolve(program.file, imp, roots)
        if key in stack:
            cycle = " -> ".join(os.path.basename(p) for p in stack[stack.index(key):] + [key])
            raise SymflowError(f"import cycle: {cycle}", imp.span,
                               help="a file cannot import itself, directly or through others")
        if key in ns.files:
            continue
        if len(stack) > MAX_DEPTH:
            raise SymflowError(
                f"imports nested more than {MAX_DEPTH} deep", imp.span,
                help="a chain of imports this long is not a model; import the parts "
                     "from one file instead")
        if not os.path.exists(key):
            raise SymflowError(f"cannot import {_what(imp)}: "
                               + (f"{key} does not exist" if imp.is_file else "no such library"),
                               imp.span, help=_help(imp))
        try:
            data = read_regular(key, what="model file", limit=MODEL_LIMIT)
            text = decode_text(data, key)
        except InputError as e:
            raise SymflowError(f"cannot import {_what(imp)}: {e.message}", imp.span,
                               help=e.help) from None
        except SymflowError as e:  # not text, not UTF-8: shown where, and imported from where
            raise SymflowError(e.message, e.span, help=e.help,
                               notes=((imp.span, "imported here"),)) from None
        ns.files.add(key)
        _load_into(ns, parse(text, key), stack + [key], (), roots)
    for c in program.connectors:
        ns.connectors.setdefault(c.name, c)
    for m in program.models:
        ns.models[m.name] = m


def _resolve(importer: str, imp: ast.Import, roots: tuple[str, ...]) -> str:
    """The real path of the file `imp` names, if it lies in the search path."""
    if not imp.is_file:
        return os.path.realpath(os.path.join(LIBRARY, imp.target + ".sf"))
    base = os.getcwd() if importer.startswith("<") else os.path.dirname(importer)
    target = imp.target.strip('"')
    real = os.path.realpath(os.path.join(base, target))
    if not any(os.path.commonpath([real, root]) == root for root in roots):
        raise SymflowError(
            f"cannot import {_what(imp)}: it lies outside the folders imports may read",
            imp.span,
            help="imports read .sf files in the model's folder (and below it) and the "
                 "standard library; to import from another folder, allow it: "
                 f"--allow-import {os.path.dirname(real)} (Python: allow_import=[...])")
    if not real.endswith(".sf"):
        raise SymflowError(f"cannot import {_what(imp)}: only model files (.sf) can be "
                           "imported", imp.span,
                           help='name a model file, as in import "parts.sf"')
    return real


def _what(imp: ast.Import) -> str:
    return f"'{imp.target}'" if imp.is_file else f"library '{imp.target}'"


def _help(imp: ast.Import) -> str:
    return ("the path is relative to the importing file" if imp.is_file else
            "known libraries: " + ", ".join(_libraries()))


def _libraries() -> list[str]:
    try:
        return sorted(f[:-3] for f in os.listdir(LIBRARY) if f.endswith(".sf"))
    except OSError:
        return []
