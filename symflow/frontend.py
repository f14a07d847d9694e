"""Model text to equations and generated source, without JAX.

The stages before any array exists: parse (Lark), build (SymPy), the passes, and
codegen's emission of Python source. `symflow check`, `show` and `compile` need
nothing more, so they run through here and never import JAX or diffrax (about a
second of every command's start: docs/performance.md). `api.loads` continues
from a `Compiled` by loading its source into callables.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable

from . import codegen, passes, symbolic
from .files import MODEL_LIMIT, open_regular, read_text
from .lang import parse
from .progress import stage
from .symbolic import System

__all__ = ["Compiled", "compile_file", "compile_system", "compile_text", "interpreted",
           "read_model_text"]


@dataclasses.dataclass(frozen=True)
class Compiled:
    """One model through the passes and codegen's emission.

    `built` is the system as built from the file, `system` after every pass,
    `source` the generated module, `network` the built system whose reaction
    network other interpretations are compiled from, `timings` the seconds each
    stage took (`parse`, `build`, `passes`, `codegen`).
    """

    built: System
    system: System
    source: str
    network: System
    interpretation: str
    timings: dict[str, float]


def read_model_text(path: str | os.PathLike) -> str:
    """The text of a model file; an SBML file (`.xml`, `.sbml`) is imported first
    (docs/sbml.md). Only a regular file of at most `files.MODEL_LIMIT` bytes of
    UTF-8 text is read (a byte-order mark is dropped)."""
    path = os.fspath(path)
    if path.lower().endswith((".xml", ".sbml")):
        from .sbml import read_sbml

        open_regular(path, what="model file").close()  # no named pipe, no device
        return read_sbml(path).text
    return read_text(path, what="model file", limit=MODEL_LIMIT)


def compile_file(path: str | os.PathLike, *, model: str | None = None,
                 allow_import: Iterable[str | os.PathLike] = ()) -> Compiled:
    """`compile_text` of a file's model."""
    return compile_text(read_model_text(path), file=os.fspath(path), model=model,
                        allow_import=allow_import)


def compile_text(text: str, *, file: str = "<string>", model: str | None = None,
                 allow_import: Iterable[str | os.PathLike] = ()) -> Compiled:
    """Parse, build, simplify and emit one model of `text` (`model` picks one of
    several; by default the last). Its imports read `.sf` files in the folder of
    `file` (the current folder for `<string>`), the standard library and the
    folders of `allow_import` (docs/language.md, imports)."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with stage("parsing"):
        program = parse(text, file)
    timings["parse"] = time.perf_counter() - start

    start = time.perf_counter()
    with stage("building the equations"):
        built = symbolic.build(program, model, allow_import=tuple(allow_import))
    timings["build"] = time.perf_counter() - start
    interpretation = built.settings.interpretation
    system = built if interpretation == "ode" else interpreted(built, interpretation)
    return compile_system(system, timings=timings, interpretation=interpretation,
                          network=built)


def interpreted(network: System, interpretation: str) -> System:
    """The built ODE system of a reaction network, read as `interpretation`
    (`langevin`: the chemical Langevin SDE; `jump`: jump rates; `ode`: itself)."""
    settings = dataclasses.replace(network.settings, interpretation=interpretation)
    system = dataclasses.replace(network, settings=settings)
    if interpretation == "langevin":
        return passes.to_langevin(system)
    if interpretation == "jump":
        return passes.to_jump_rates(system)
    return system


def compile_system(built: System, *, timings: dict[str, float] | None = None,
                   interpretation: str = "ode", network: System | None = None) -> Compiled:
    """A built system through the passes and codegen's emission."""
    timings = dict(timings or {})
    start = time.perf_counter()
    with stage(f"simplifying {len(built.equations):,} equations"):
        final = passes.simplify(built)
    timings["passes"] = time.perf_counter() - start

    start = time.perf_counter()
    with stage("generating code"):
        source = codegen.emit(final)
    timings["codegen"] = time.perf_counter() - start
    return Compiled(built, final, source, network if network is not None else built,
                    interpretation, timings)
