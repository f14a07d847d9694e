"""Loading generated source as a Python module.

The source is written to a file in symflow's cache folder and imported from
there, so what runs is exactly what `symflow compile` shows. The source is
made by `emit` from SymPy expressions over mangled names; no text of the model
file is in it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import pathlib
import tempfile
from collections.abc import Callable
from types import ModuleType

from ._emit import Layout

__all__ = ["GeneratedModel", "cache_dir", "import_source", "load_source"]


def cache_dir() -> pathlib.Path:
    """`$SYMFLOW_CACHE`, else `~/.cache/symflow` (a temporary folder if that is not writable)."""
    root = os.environ.get("SYMFLOW_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "symflow")
    path = pathlib.Path(root)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        path = pathlib.Path(tempfile.gettempdir()) / "symflow"
        path.mkdir(parents=True, exist_ok=True)
    return path


@dataclasses.dataclass(frozen=True)
class GeneratedModel:
    """The generated functions of one model, with the layout of its state vector."""

    source: str
    parameter_names: tuple[str, ...]
    states: tuple[Layout, ...]
    observed: tuple[tuple[str, tuple[int, ...]], ...]
    n_states: int
    parameter_defaults: Callable
    initial_values: Callable
    rhs: Callable
    observed_fn: Callable
    # SDEs and random initial values (absent from an ODE model's module):
    brownian: tuple[str, ...] = ()
    diffusion: Callable | None = None
    random_initial: tuple[tuple[str, str], ...] = ()
    initial_distributions: Callable | None = None
    # A DAE's invariants `invariants(t, y, p) -> {index: value}` (absent for an ODE model):
    invariants: Callable | None = None
    # Neural closures: `closure_io(t, y, p)`, their inputs and outputs by key
    # "name:in:k" / "name:out:k" (see codegen/_closures.py); None without closures.
    closure_io: Callable | None = None
    brownian_sizes: tuple[int, ...] = ()  # a Brownian field: its number of points
    noise: Callable | None = None  # (diffusion columns, dw) -> the noise of a step
    milstein: Callable | None = None  # the symbolic Milstein term, when derived


def import_source(source: str, *, kind: str) -> ModuleType:
    """Generated `source` as a module: written (atomically) to the cache folder as
    `<kind>_<digest>.py` and imported from there, under a name of its own."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    folder = cache_dir() / "generated"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}_{digest}.py"
    if not path.exists() or path.read_text() != source:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(f"symflow_{kind}_{digest}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_source(source: str) -> GeneratedModel:
    """A model's generated source, imported (`import_source`), as its callables."""
    module = import_source(source, kind="model")
    return GeneratedModel(
        source=source,
        parameter_names=tuple(module.PARAMETERS),
        states=tuple(Layout(n, a, b, tuple(s)) for n, a, b, s in module.STATES),
        observed=tuple((n, tuple(s)) for n, s in module.OBSERVED),
        n_states=module.N_STATES,
        parameter_defaults=module.parameter_defaults,
        initial_values=module.initial_values,
        rhs=module.rhs,
        observed_fn=module.observed,
        brownian=tuple(getattr(module, "BROWNIAN", ())),
        diffusion=getattr(module, "diffusion", None),
        random_initial=tuple(getattr(module, "RANDOM_INITIAL", ())),
        initial_distributions=getattr(module, "initial_distributions", None),
        invariants=getattr(module, "invariants", None),
        closure_io=getattr(module, "closure_io", None),
        brownian_sizes=tuple(getattr(module, "BROWNIAN_SIZES", ())),
        noise=getattr(module, "noise", None),
        milstein=getattr(module, "milstein", None),
    )
