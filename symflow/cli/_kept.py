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

The solve program returns the saved states only. The observed outputs that are
pure aliases of a state or a number (`solve/observed.py`) are read from the states
with NumPy, as the metadata lists them; the others (aliases of parameters among
them: a default may follow a `--set` value) come from a second kept program over
the saved states (`Simulator.given_observed_program`), kept under the key with
`-observed` added. A model with more than `KEEP_OBSERVED` such outputs (a large
component model) keeps no observed program: XLA's compile of thousands of small
outputs grows faster than their number (195 s for the 8,003 of a 1000-section RC
ladder, where evaluating them op by op takes 1.5 s), so its runs load the model,
take the solve from the kept program and compute the outputs op by op.
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

__all__ = ["KEEP_OBSERVED", "OBSERVED_SUFFIX", "SHOWN_ELEMENTS", "KeptRun", "final_value",
           "kept_run", "print_final", "run_kept", "shown_names",
           "solve_and_keep", "unpack"]

# added to a run's key: the kept program of its observed outputs
OBSERVED_SUFFIX = "-observed"
# the most computed observed outputs whose program a run keeps
KEEP_OBSERVED = 100


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
        "tspan": args.tspan, "saveat": saveat, "sets": sorted(sets),
        "allow_import": [os.path.realpath(d) for d in args.allow_import]}
    return KeptRun(program_key(model=model, settings=settings), sets)


def _store():
    from ..cache import cache_dir
    from ..programs import ProgramStore

    return ProgramStore(cache_dir() / "programs")


def run_kept(run: KeptRun) -> tuple[dict, dict[str, np.ndarray]] | None:
    """On a hit, the kept program's metadata and every state and observed output by
    name (time first); None on a miss, or where the kept programs cannot answer (a
    name they do not know, a value of another shape, a failed solve: the full run
    reports those)."""
    store = _store()
    with stage("reading the kept program"):
        program = store.get(run.key)
        observed = None
        if program is not None and program.meta["computed"]:
            if not program.meta["observed_kept"]:
                return None  # the full run computes them, op by op
            observed = store.get(run.key + OBSERVED_SUFFIX)
    if program is None or (program.meta["computed"] and observed is None):
        return None
    meta = program.meta
    arguments = _arguments(meta, run.sets)
    if arguments is None:
        return None
    with stage("importing JAX"):
        import jax  # noqa: F401  (timed as its own stage)
    with stage("loading the compiled program (XLA cache)"):
        compiled = program.callable().lower(*arguments).compile()
    with stage("solving"):
        flat = np.asarray(compiled(*arguments))
    if flat[meta["result_at"]] != 0:
        return None
    given, _, ts = arguments
    values = unpack(meta, flat)
    if observed is not None:
        ys = _states(meta, flat)
        with stage("loading the observed program (XLA cache)"):
            compiled = observed.callable().lower(given, ts, ys).compile()
        with stage("computing the observed outputs"):
            values.update(_unpack_layout(np.asarray(compiled(given, ts, ys)), len(ts),
                                         meta["computed"]))
    return dict(meta), values


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
    outputs = simulator.outputs
    # what the kept observed program computes: the solution's computed outputs, then
    # the aliases of parameters
    by_parameter = [k for k, a in outputs.aliases.items() if a.kind == "parameter"]
    computed = [*outputs.computed, *by_parameter]
    meta = _as_json({
        "model": m.name, "solver": config.solver, "parameters": list(m.generated.parameter_names),
        "states": states, "n_states": m.generated.n_states,
        "aliases": {name: a.as_json() for name, a in outputs.aliases.items()
                    if a.kind != "parameter"},
        "computed": [(name, list(outputs.shapes[name])) for name in computed],
        "observed_kept": len(computed) <= KEEP_OBSERVED,
        "names": shown_names(m),
        "given": sorted(given), "initial": sorted(start), "ts": ts.tolist(),
        # the saved states, then the state reached, then the result code
        "result_at": (len(ts) + 1) * m.generated.n_states})
    store = _store()
    sources = source_digests(system.sources)
    with stage("reading the kept program"):
        program = store.get(run.key)
    if program is None or program.meta != meta:
        try:
            with stage("tracing"):
                program = KeptProgram.export(simulator.given_program(config), given, start,
                                             ts, meta=meta, sources=sources)
        except NotImplementedError:  # host callbacks: not exportable
            return None
        store.put(run.key, program)
    with stage("compiling (XLA)"):
        compiled = program.callable().lower(given, start, ts).compile()
    with stage("solving"):
        flat = np.asarray(compiled(given, start, ts))
    params = m.complete_params(given)
    sol = simulator.solution_of(flat, ts, config, params=params, initial=start)
    if not computed or not meta["observed_kept"]:
        return sol, config.solver  # the solution computes them when read
    # the observed outputs through a kept program too: the next run reads them from
    # the XLA cache, and this one compiles them once (not again when they are read)
    ys = _states(meta, flat)
    key = run.key + OBSERVED_SUFFIX
    with stage("reading the kept program"):
        observed = store.get(key)
    if observed is None or observed.meta != meta:
        try:
            with stage("tracing the observed outputs"):
                observed = KeptProgram.export(simulator.given_observed_program(computed),
                                              given, ts, ys, meta=meta, sources=sources)
        except NotImplementedError:
            return sol, config.solver  # the solution computes them when read
        store.put(key, observed)
    with stage("compiling the observed outputs (XLA)"):
        compiled = observed.callable().lower(given, ts, ys).compile()
    with stage("computing the observed outputs"):
        values = _unpack_layout(np.asarray(compiled(given, ts, ys)), len(ts), meta["computed"])
    sol.remember_computed({k: values[k] for k in outputs.computed})
    return sol, config.solver


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
        print(f"  {name}({end:g}){final_value(np.asarray(values[name])[-1])}")


# an array of more values than this is summarised (shape, min, max), not printed whole
SHOWN_ELEMENTS = 8


def final_value(value: np.ndarray) -> str:
    """` = value` for a scalar or a short array; for a field or a long array its
    shape and range (the whole array goes to `-o`)."""
    if value.size <= SHOWN_ELEMENTS:
        return " = " + np.array2string(value, precision=8)
    shape = "x".join(map(str, value.shape))
    return (f": {shape} values, min {np.min(value):.8g}, max {np.max(value):.8g}, "
            f"mean {np.mean(value):.8g}")


def shown_names(m: Any) -> list[str]:
    """The names a run's summary shows: the model's own variables and observed
    outputs, in the order it declares them, without what the compiler added
    (`der_x`, `der2_y` of index reduction and order reduction); all names if the
    model declares none of them."""
    names = {*m.state_names, *m.observed_names}
    declared = [v.name for v in (*m.built.variables, *m.built.observed)]
    shown = list(dict.fromkeys(n for n in declared if n in names))
    return shown or [*m.state_names, *m.observed_names]


def _states(meta: Mapping[str, Any], flat: np.ndarray) -> np.ndarray:
    """The saved states `(times, flat state vector)` of a kept solve's output."""
    n_saved = len(meta["ts"]) * meta["n_states"]
    return flat[:n_saved].reshape(len(meta["ts"]), meta["n_states"])


def unpack(meta: Mapping[str, Any], flat: np.ndarray) -> dict[str, np.ndarray]:
    """The states of a kept solve's output and the observed outputs that are aliases
    of a state or a number (`solve/observed.py`: `[kind, source, sign, value]` each),
    by name, time first."""
    ys = _states(meta, flat)
    out: dict[str, np.ndarray] = {}
    offset = 0
    for name, shape in meta["states"]:
        width = int(np.prod(shape, dtype=int))
        out[name] = (ys[:, offset] if not shape else
                     ys[:, offset:offset + width].reshape(len(ys), *shape))
        offset += width
    for name, (kind, source, sign, value) in meta["aliases"].items():
        out[name] = sign * out[source] if kind == "state" else np.full(len(ys), value)
    return out


def _unpack_layout(flat: np.ndarray, n: int, layout: Sequence[Sequence[Any]]
                   ) -> dict[str, np.ndarray]:
    """Outputs by name from one flat array holding each over `n` times in turn, in
    the order and with the shapes of `layout` (`[name, shape]` each): views."""
    offset, out = 0, {}
    for name, shape in layout:
        width = n * int(np.prod(shape, dtype=int))
        out[name] = flat[offset:offset + width].reshape(n, *shape)
        offset += width
    return out
