"""Loading generated source as a Python module.

The source is written to a file in symflow's cache folder and imported from
there, so what runs is exactly what `symflow compile` shows. The source is
made by `emit` from SymPy expressions over mangled names; no text of the model
file is in it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.abc
import importlib.util
import os
from collections.abc import Callable
from types import CodeType, ModuleType
from typing import Any

from ..cache import cache_dir, trusted_file
from ..collector import gc_paused
from ._layout import Layout

__all__ = ["GeneratedModel", "InputTable", "import_source", "load_source"]


@dataclasses.dataclass(frozen=True)
class InputTable:
    """An input read from a table, as the generated module describes it (`INPUTS`,
    `INPUT_KNOTS`): what the solve needs to stop at its knots and to refuse a span
    the table does not cover. `file` is the table's name as the model wrote it
    (sanitized)."""

    name: str
    interpolation: str
    extrapolation: str
    file: str
    knots: tuple[float, ...]

    @property
    def span(self) -> tuple[float, float]:
        """The times the table covers."""
        return self.knots[0], self.knots[-1]


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
    # A DAE's divisors that may vanish `pivots(t, y, p) -> {index: value}`, and what
    # each determines (from the system: the module holds no text of the model)
    pivots: Callable | None = None
    pivot_labels: tuple[str, ...] = ()
    # Neural closures: `closure_io(t, y, p)`, their inputs and outputs by key
    # "name:in:k" / "name:out:k" (see codegen/_closures.py); None without closures.
    closure_io: Callable | None = None
    brownian_sizes: tuple[int, ...] = ()  # a Brownian field: its number of points
    noise: Callable | None = None  # (diffusion columns, dw) -> the noise of a step
    milstein: Callable | None = None  # the symbolic Milstein term, when derived
    # Events (see codegen/_emit_events.py): `(kind, direction, terminate, label)` each,
    # and their functions; empty / None without events.
    events: tuple[tuple[str, int, bool, str], ...] = ()
    # the comparisons of the `when` conditions (event, comparison, direction), and the
    # logic of the compound ones, `(event number, logic)` (symbolic/events.py)
    event_relations: tuple[tuple[int, int, int], ...] = ()
    event_logic: tuple[tuple[int, Any], ...] = ()
    event_conditions: Callable | None = None
    event_checks: Callable | None = None
    event_schedule: Callable | None = None
    affects: tuple[Callable, ...] = ()
    inputs: tuple[InputTable, ...] = ()  # inputs read from tables (codegen/_inputs.py)
    # `prepare(p)`: `p` with what a solve computes once before it steps (the curvatures
    # of cubic input splines, a network's rate factors); None when there is nothing
    prepare: Callable | None = None
    # `initial_vector(p)`: the initial values packed as y0 (absent from sources
    # generated before it existed)
    initial_vector: Callable | None = None
    # a field-major layout (codegen's `layout_fields`): state i of the model's order
    # is point i // fields of field i % fields; 1: one after the other
    fields: int = 1


def import_source(source: str, *, kind: str) -> ModuleType:
    """Generated `source` as a module, compiled from this string in memory.

    The source is also written (atomically) to the cache folder as
    `<kind>_<digest>.py`, for reading and for the line numbers of tracebacks, but
    what runs is never read back from disk: no file, and no `.pyc` beside it, that
    someone else put there can run in its place.
    """
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    folder = cache_dir() / "generated"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{kind}_{digest}.py"
    if not trusted_file(path) or not path.exists() or path.read_text() != source:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)
    loader = _VerifiedSource(source, str(path))
    spec = importlib.util.spec_from_loader(f"symflow_{kind}_{digest}", loader,
                                           origin=str(path))
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class _VerifiedSource(importlib.abc.InspectLoader):
    """A loader of one module from a source string held in memory."""

    def __init__(self, source: str, path: str):
        self._source = source
        self._path = path

    def get_source(self, fullname: str) -> str:
        return self._source

    def get_code(self, fullname: str) -> CodeType:
        return compile(self._source, self._path, "exec", dont_inherit=True)


@gc_paused
def load_source(source: str, *, event_labels: tuple[str, ...] = (),
                pivot_labels: tuple[str, ...] = ()) -> GeneratedModel:
    """A model's generated source, imported (`import_source`), as its callables.
    `event_labels`: each event as written, `pivot_labels`: each divisor that may
    vanish (`Pivot.label`), for messages and output (the module holds no text of
    the model)."""
    module = import_source(source, kind="model")
    table = tuple(getattr(module, "EVENTS", ()))
    labels = tuple(event_labels) + tuple(f"event {k}" for k in range(len(event_labels),
                                                                      len(table)))
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
        pivots=getattr(module, "pivots", None),
        pivot_labels=tuple(pivot_labels),
        closure_io=getattr(module, "closure_io", None),
        brownian_sizes=tuple(getattr(module, "BROWNIAN_SIZES", ())),
        noise=getattr(module, "noise", None),
        milstein=getattr(module, "milstein", None),
        events=tuple((*entry, label) for entry, label in zip(table, labels)),
        event_relations=tuple(getattr(module, "EVENT_RELATIONS", ())),
        event_logic=tuple(sorted(getattr(module, "EVENT_LOGIC", {}).items())),
        event_conditions=getattr(module, "event_conditions", None),
        event_checks=getattr(module, "event_checks", None),
        event_schedule=getattr(module, "event_schedule", None),
        affects=tuple(getattr(module, f"affect_{k}")
                      for k in range(len(getattr(module, "EVENTS", ())))),
        inputs=tuple(InputTable(name, kind, extrapolation, file,
                                tuple(module.INPUT_KNOTS[name]))
                     for name, kind, extrapolation, file in getattr(module, "INPUTS", ())),
        prepare=getattr(module, "prepare", None),
        initial_vector=getattr(module, "initial_vector", None),
        fields=int(getattr(module, "FIELDS", 1)),
    )
