"""`symflow run` with compiled programs kept across processes (`symflow.programs`).

A plain run (one ODE solve, printed or written) is keyed by the model's text and
the options that shape its program. On a hit (`run_kept`) the model is neither
parsed nor built, traced nor compiled: its kept program runs with only JAX
loaded, and the final values print as a full run prints them. On a miss the
model is loaded as usual and `solve_and_keep` exports its solve, keeps it, and
runs that export, so XLA's persistent cache holds the machine code the next
process will look up.

Parameters and initial values set with `--set` are inputs of the program (their
names are part of the key, their values are not), so new values reuse it.
`solver = auto` keeps the choice made when the program was compiled.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..progress import stage
from ._common import parse_saveat

__all__ = ["KeptRun", "kept_run", "print_final", "run_kept", "solve_and_keep", "unpack"]


@dataclasses.dataclass(frozen=True)
class KeptRun:
    """A run that may use a kept program: its key and the `--set` values by name."""

    key: str
    sets: dict[str, float | list[float]]


def kept_run(args: argparse.Namespace) -> KeptRun | None:
    """The kept-program key of this run, or None where a run cannot keep its
    program: ensembles, samplers, steady states, closures' weights, a plot, or a
    progress bar (a host callback, which cannot be exported) asked for, or a model
    file that cannot be read (the full run reports it)."""
    if (args.interpretation not in (None, "ode") or args.steady or args.weights
            or args.plot or args.progress or args.trajectories or args.sweep
            or args.seed is not None or args.noise or args.stats_only
            or args.chunk_size or args.steps or args.grid or args.grid_exponent
            or os.environ.get("SYMFLOW_KEEP", "1") == "0"):
        return None
    sets: dict[str, float | list[float]] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        try:
            value = value.strip()
            sets[name.strip()] = ([float(x) for x in value[1:-1].split(",") if x.strip()]
                                  if value.startswith("[") else float(value))
        except ValueError:
            return None  # the full run reports the bad value
        if not sep:
            return None
    try:
        saveat = parse_saveat(args.saveat) if args.saveat is not None else None
    except Exception:
        return None
    try:
        with open(args.file, "rb") as f:
            model = f.read()
    except OSError:
        return None
    from ..programs import program_key

    settings = {
        "command": "run", "file": os.path.abspath(args.file), "model": args.model,
        "interpretation": args.interpretation, "solver": args.solver, "rtol": args.rtol,
        "atol": args.atol, "dt": args.dt, "max_steps": args.max_steps,
        "tspan": args.tspan, "saveat": saveat, "sets": sorted(sets)}
    return KeptRun(program_key(model=model, settings=settings), sets)


def _store():
    from ..cache import cache_dir
    from ..programs import ProgramStore

    return ProgramStore(cache_dir() / "programs")


def run_kept(run: KeptRun) -> tuple[dict, np.ndarray] | None:
    """On a hit, the kept program's metadata and its packed output; None on a miss,
    or where the kept program cannot answer (a name it does not know, a value of
    another shape, a failed solve: the full run reports those)."""
    with stage("reading the kept program"):
        program = _store().get(run.key)
    if program is None:
        return None
    meta = program.meta
    arguments = _arguments(meta, run.sets)
    if arguments is None:
        return None
    with stage("importing JAX"):
        import jax  # noqa: F401  (timed as its own stage)
    with stage("loading the compiled program (XLA cache)"):
        fn = program.callable()
        compiled = fn.lower(*arguments).compile()
    with stage("solving"):
        flat = np.asarray(compiled(*arguments))
    if flat[meta["result_at"]] != 0:
        return None
    return dict(meta), flat


def _arguments(meta: Mapping[str, Any], sets: Mapping[str, Any]) -> tuple | None:
    """The program's arguments `(given, initial, ts)` for these `--set` values, shaped
    as when it was exported; None if a value does not fit."""
    shapes = {name: tuple(shape) for name, shape in meta["states"]}
    given, initial = {}, {}
    for name, value in sets.items():
        if name in meta["parameters"] and not isinstance(value, list):
            given[name] = np.asarray(value, dtype=np.float64)
        elif name in shapes:
            try:
                initial[name] = np.broadcast_to(np.asarray(value, dtype=np.float64),
                                                shapes[name]).copy()
            except ValueError:
                return None
        else:
            return None
    if sorted(given) != meta["given"] or sorted(initial) != meta["initial"]:
        return None
    return given, initial, np.asarray(meta["ts"], dtype=np.float64)


def solve_and_keep(run: KeptRun, m, params: dict, initial: dict, options: dict):
    """Solve model `m` through an exported program and keep it under `run.key`; the
    `Solution` and the solver's name, or None where the model's solve cannot be
    kept (events, noise, closures, a program with host callbacks)."""
    from ..programs import KeptProgram, source_digests

    system = m.system
    if (system.events or system.is_sde or system.closures or m.interpretation != "ode"
            or m.settings.trajectories != 1 or m.generated.random_initial):
        return None
    plan_options = {"tspan": None, "saveat": None, "rtol": None, "atol": None, "dt": None,
                    "max_steps": None, "adjoint": "checkpoint", "dense": False,
                    "progress": False, "initial": initial, **options}
    solver = plan_options.pop("solver", None)
    if solver in _not_kept_solvers():
        return None
    with stage("choosing the solver"):
        config, ts, _, checked = m.runner.ode.plan(params, solver, plan_options)
    simulator = m.runner.simulator
    states = [(s.name, list(s.shape)) for s in m.generated.states]
    given = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    shapes = dict((name, tuple(shape)) for name, shape in states)
    start = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), shapes[k]).copy()
             for k, v in checked.items()}
    ts = np.asarray(ts, dtype=np.float64)
    layout = [(name, list(shape)) for name, shape, _ in simulator.outputs]
    meta = _as_json({
        "model": m.name, "solver": config.solver, "parameters": list(m.generated.parameter_names),
        "states": states, "outputs": layout, "names": [*m.state_names, *m.observed_names],
        "given": sorted(given), "initial": sorted(start), "ts": ts.tolist(),
        "result_at": sum(len(ts) * int(np.prod(s, dtype=int)) for _, s in layout)})
    store = _store()
    with stage("reading the kept program"):
        program = store.get(run.key)
    if program is None or program.meta != meta:
        try:
            with stage("tracing"):
                program = KeptProgram.export(
                    simulator.given_program(config), given, start, ts, meta=meta,
                    sources=source_digests(system.sources))
        except NotImplementedError:  # host callbacks: not exportable
            return None
        store.put(run.key, program)
    with stage("compiling (XLA)"):
        compiled = program.callable().lower(given, start, ts).compile()
    with stage("solving"):
        flat = np.asarray(compiled(given, start, ts))
    return (simulator.solution_of(flat, ts, config, params=given, initial=start),
            config.solver)


def _as_json(value: Any) -> Any:
    """`value` as it reads back from JSON (tuples become lists), to compare with a
    kept program's metadata."""
    return json.loads(json.dumps(value))


def _not_kept_solvers() -> tuple[str, ...]:
    from .. import catalog

    return (*catalog.SAMPLERS, *catalog.EXPONENTIAL_SOLVERS)


def print_final(model: str, solver: str, t: np.ndarray, values: Mapping[str, np.ndarray],
                names: Sequence[str], *, end: float | None = None,
                between: Sequence[str] = ()) -> None:
    """The summary line of a run (then the lines `between`) and the last value of
    every state and output, at `end` (default: the end of the span)."""
    print(f"{model}: solved with {solver} on [{t[0]:g}, {t[-1]:g}], {len(t)} saved points")
    for line in between:
        print(line)
    end = float(t[-1]) if end is None else end
    for name in names:
        value = np.asarray(values[name])[-1]
        print(f"  {name}({end:g}) = {np.array2string(np.asarray(value), precision=8)}")


def unpack(meta: Mapping[str, Any], flat: np.ndarray) -> dict[str, np.ndarray]:
    """The outputs of a packed program output, by name (time first)."""
    n, offset, out = len(meta["ts"]), 0, {}
    for name, shape in meta["outputs"]:
        width = n * int(np.prod(shape, dtype=int))
        out[name] = flat[offset:offset + width].reshape(n, *shape)
        offset += width
    return out
