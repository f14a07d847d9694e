"""Solving a generated model with diffrax.

`Simulator` holds one jitted solve per static configuration (solver,
tolerances, number of save points, adjoint); parameters, initial values and
times are arguments, so new values never recompile. Failures (too many steps,
NaN, step-size collapse) come back as diffrax's result code with the time
reached, and are raised as `SolverError` once the result is concrete.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from ..codegen import GeneratedModel
from ..errors import SymflowError
from ..progress import stage
from . import solvers as _solvers
from .adjoints import Problem, adjoint_strategy
from .config import SolveConfig
from .events import EventLog, EventProgram, make_hybrid_solve
from .failures import raise_on_failure, vanished_pivot
from .inputs import check_input_span, inside_span, stop_at_knots
from .observed import Alias, Outputs
from .projection import project_onto_invariants
from .solution import Solution
from .step_limit import component_names, limiting_state

__all__ = ["MAX_SAVE_POINTS", "Simulator", "save_times"]

# The most evenly spaced save points a solve takes (80 MB of save times; every
# output adds as much again per element).
MAX_SAVE_POINTS = 10_000_000


def save_times(tspan: tuple[float, float], saveat: int | Sequence[float] | np.ndarray
               ) -> np.ndarray:
    """Save times for a span: `n` evenly spaced points, or the given times plus both ends.
    A non-finite end or save time, or more than `MAX_SAVE_POINTS` points, is refused
    before anything is allocated."""
    t0, t1 = float(tspan[0]), float(tspan[1])
    if not (np.isfinite(t0) and np.isfinite(t1)):
        raise SymflowError(f"the time span [{t0:g}, {t1:g}] must have finite ends")
    if t0 == t1:
        raise SymflowError("the time span is empty: start and end are equal")
    if isinstance(saveat, (int, np.integer)):
        if saveat < 2:
            raise SymflowError("saveat needs at least 2 points")
        if saveat > MAX_SAVE_POINTS:
            raise SymflowError(
                f"saveat = {int(saveat):,} points would take {8 * int(saveat) / 2**30:.3g} "
                "GiB for the save times alone, before any solution is stored",
                help=f"at most {MAX_SAVE_POINTS:,} points: save fewer, or list the times "
                     "you need")
        return even_times(t0, t1, int(saveat))
    ts = np.asarray(saveat, dtype=float).ravel()
    if not np.all(np.isfinite(ts)):
        raise SymflowError(f"save time {ts[~np.isfinite(ts)][0]:g} is not a finite number")
    lo, hi = min(t0, t1), max(t0, t1)
    outside = ts[(ts < lo) | (ts > hi)]
    if outside.size:
        raise SymflowError(f"save time {outside[0]:g} is outside the span [{t0:g}, {t1:g}]")
    ts = np.unique(np.concatenate([ts, [t0, t1]]))
    return ts if t1 > t0 else ts[::-1]


def even_times(t0: float, t1: float, n: int) -> np.ndarray:
    """`n` evenly spaced times from `t0` to `t1`, each the float nearest its decimal
    where the ends are whole numbers: `(t0*(n-1-i) + t1*i) / (n-1)` divides exact
    integers once, where `np.linspace` adds `i` steps (`3 * 0.1` is
    `0.30000000000000004`, which a CSV file would then show)."""
    i = np.arange(n, dtype=float)
    ts = (t0 * (n - 1 - i) + t1 * i) / (n - 1)
    ts[0], ts[-1] = t0, t1
    return ts


class Simulator:
    """Runs a `GeneratedModel` with diffrax; one compiled program per `SolveConfig`."""

    def __init__(self, generated: GeneratedModel, *, grid: tuple = (),
                 fields: tuple[str, ...] = (),
                 derivatives: Callable[[], Callable | None] | None = None,
                 aliases: Mapping[str, Alias] | None = None,
                 docs: Mapping[str, str] | None = None):
        self.generated = generated
        # `derivatives()`: the model's symbolic `(f, df/dt, df/dy)` for the Rosenbrock
        # solvers, generated when first asked for (codegen.load_derivatives), or None
        self.derivatives = derivatives
        # a PDE's grid and fields, carried by every `Solution` (static: part of the
        # cached pytree structure, so a concrete call builds no new `Solution`)
        self.grid = grid
        self.fields = fields
        self._cache: dict = {}
        # how a solution's observed outputs come from its states: the pure `aliases`
        # (`observed.observed_aliases`) as views, the others from one program
        self.outputs = Outputs(generated, dict(aliases or {}))
        # the static fields of every `Solution` of this model (its pytree structure)
        self._static = dict(state_names=tuple(s.name for s in generated.states),
                            observed_names=tuple(n for n, _ in generated.observed),
                            outputs=self.outputs, _unpack=self.unpack, grid=grid,
                            fields=fields, docs=tuple((docs or {}).items()))

    # ------------------------------------------------------------ layout

    def pack(self, initial: dict[str, jax.Array]) -> jax.Array:
        parts = [jnp.ravel(jnp.broadcast_to(jnp.asarray(initial[s.name], dtype=float),
                                            s.shape)) for s in self.generated.states]
        return jnp.concatenate(parts) if parts else jnp.zeros((0,))

    def unpack(self, y: jax.Array) -> dict[str, jax.Array]:
        """States by name from flat vector(s) `y` (time along the first axis, if any)."""
        out = {}
        for s in self.generated.states:
            out[s.name] = y[..., s.start] if s.shape == () else y[..., s.start:s.stop]
        return out

    # ------------------------------------------------------------ solving

    def solve_fn(self, config: SolveConfig) -> jax.stages.Wrapped:
        """The jitted `(params, initial, ts) -> Solution` for one configuration.

        `params` is a complete parameter dict, `initial` a dict of initial values
        overriding the model's (often empty), `ts` the save times, whose first and
        last entries are the span of the configuration.
        """
        if config not in self._cache:
            self._cache[config] = jax.jit(self.solve_program(config))
        return self._cache[config]

    def primal_fn(self, config: SolveConfig) -> jax.stages.Wrapped:
        """The jitted `(params, initial, ts) -> Solution` of a call that nothing
        differentiates: for a model with events, the nested loop (several times
        faster to run, `events/hybrid.py`); otherwise `solve_fn`."""
        if not self.generated.events:
            return self.solve_fn(config)
        key = ("primal", config)
        if key not in self._cache:
            self._cache[key] = jax.jit(self._hybrid_program(config, nested=True))
        return self._cache[key]

    def solve_program(self, config: SolveConfig) -> Callable:
        """The solve, unjitted: `(params, initial, ts) -> Solution`. The span is part of
        the configuration: diffrax's step loop is about 1.3x slower per step, and
        compiles slower, when the ends of the span are traced values
        (benchmarks/README.md); a new span recompiles once."""
        g = self.generated
        if g.events:
            return self._hybrid_program(config, nested=False)
        trajectory = adjoint_strategy(config.adjoint).make_solve(self.problem(config))

        def solve(params, initial, ts):
            params, y0 = self._start(params, initial)
            ys, t_reached, y_last, result, dense = trajectory(params, y0, ts)
            # the states only: `run` attaches the parameters, from which the
            # solution computes its observed outputs when they are read
            return Solution(
                t=ts, ys=ys, result=result,
                t_reached=t_reached,
                size_reached=jnp.max(jnp.abs(y_last), initial=0.0),
                initial_size=jnp.max(jnp.abs(y0), initial=0.0), y_reached=y_last,
                dense=dense, **self._static,
            )

        return solve

    def _start(self, params, initial) -> tuple[dict, jax.Array]:
        """The parameters a solve runs with (what the input tables need computed once,
        not every step) and the packed initial state (`initial` overriding the
        model's initial values)."""
        g = self.generated
        if g.prepare is not None:
            params = g.prepare(params)
        if g.initial_vector is None:
            values0 = dict(g.initial_values(params))
            values0.update(initial)
            return params, self.pack(values0)
        # one array expression per run of like states (a model of repeated components:
        # not thousands of scalars assembled in the program), then the overrides
        y0 = jnp.asarray(g.initial_vector(params), dtype=float)
        for s in g.states:
            if s.name in initial:
                value = jnp.broadcast_to(jnp.asarray(initial[s.name], dtype=float), s.shape)
                y0 = y0.at[s.start:s.stop].set(jnp.ravel(value))
        return params, y0

    def _hybrid_program(self, config: SolveConfig, *, nested: bool) -> Callable:
        """The solve of a model with events (`events/hybrid.py`), unjitted; `nested`
        for calls that are not differentiated (faster to run, slower to
        differentiate)."""
        g = self.generated
        loop = _hybrid_loop(config)
        hybrid = make_hybrid_solve(self.problem(config), EventProgram.from_generated(g),
                                   loop=loop, nested=nested, max_events=config.max_events,
                                   samples=config.event_samples)
        labels = tuple(e[3] for e in g.events)

        def solve(params, initial, ts):
            params, y0 = self._start(params, initial)
            out = hybrid(params, y0, ts)
            # states only, as `solve_program`: the log computes observed outputs
            # around the events when they are read
            return Solution(
                t=ts, ys=out.ys, result=out.result, t_reached=out.t_reached,
                size_reached=jnp.max(jnp.abs(out.y_last), initial=0.0),
                initial_size=jnp.max(jnp.abs(y0), initial=0.0), y_reached=out.y_last,
                events=EventLog(out.event_t, out.event_index, out.event_pre, out.event_post,
                                out.event_count, labels=labels, outputs=self.outputs),
                **self._static,
            )

        return solve

    def problem(self, config: SolveConfig) -> Problem:
        """The pieces of one solve (terms, solver, step-size controller, span) that an
        adjoint strategy assembles."""
        g = self.generated
        if g.inputs:  # a span the tables do not cover is refused here, before compiling
            check_input_span(g.inputs, config.t0, config.t1)
        exponential = config.exponential
        name = config.solver
        # the symbolic derivatives (of `g.rhs`; a model with input tables has none)
        derivatives = (self.derivatives() if self.derivatives is not None
                       and _solvers.is_rosenbrock(name) else None)
        custom = config.custom.solver if config.custom is not None else None
        solver = custom if custom is not None else None if exponential else (
            _solvers.make_solver(name, linear=config.linear, derivatives=derivatives))
        rhs = inside_span(g.rhs, g.inputs, config.t0, config.t1) if g.inputs else g.rhs
        terms: diffrax.AbstractTerm
        if exponential:  # the solver holds L; the term is the remainder N
            terms = exponential.term()
        elif _solvers.is_imex(name):
            terms = diffrax.MultiTerm(diffrax.ODETerm(lambda t, y, p: jnp.zeros_like(y)),
                                      diffrax.ODETerm(lambda t, y, p: rhs(t, y, p)))
        else:
            terms = diffrax.ODETerm(lambda t, y, p: rhs(t, y, p))
        if (_solvers.takes_fixed_steps(custom) if custom is not None
                else _solvers.is_fixed_step(name, dt=config.dt0) or exponential):
            if config.dt0 is None:
                raise SymflowError(f"solver {name} takes fixed steps: set dt",
                                   help="add `dt = ...` under simulate, or pass dt=")
            controller: diffrax.AbstractStepSizeController = diffrax.ConstantStepSize()
        else:
            controller = _solvers.make_controller(
                _solvers.solver_label(custom) if custom is not None else name,
                rtol=config.rtol, atol=config.atol)
        # inputs read from tables: step onto their knots (solve/inputs.py)
        controller = stop_at_knots(controller, g.inputs, config.t0, config.t1)
        # a fixed dt dividing the span: every exponential step has the same size
        n_steps = (abs(config.t1 - config.t0) / abs(config.dt0)
                   if exponential and config.dt0 else 0.5)
        invariants = g.invariants
        return Problem(
            rhs=rhs, terms=terms, solver=solver, controller=controller, solver_name=name,
            t0=config.t0, t1=config.t1, dt0=config.dt0, max_steps=config.max_steps,
            n_save=config.n_save, dense=config.dense,
            progress_meter=(diffrax.TqdmProgressMeter(refresh_steps=200) if config.progress
                            else diffrax.NoProgressMeter()),
            implicit=(_solvers.is_stiff_solver(name) or
                      isinstance(custom, diffrax.AbstractImplicitSolver)),
            imex=_solvers.is_imex(name),
            # a dense Newton solve (a solver given as an object: that object)
            backward_solver=(lambda: custom) if custom is not None else (
                lambda: _solvers.make_solver(name)),
            exponential=exponential,
            equal_steps=abs(n_steps - round(n_steps)) < 1e-9 * max(n_steps, 1.0),
            project=None if invariants is None else lambda s: project_onto_invariants(
                s, invariants, rtol=config.rtol, atol=config.atol))

    def packed_fn(self, config: SolveConfig) -> jax.stages.Wrapped:
        """The jitted `(params, initial, ts) -> one flat array` holding a whole solution.

        The path for concrete calls: every output buffer of a jitted call costs
        dispatch time (eight outputs cost about a third of a 0.3 ms Lotka–Volterra
        solve), so it returns one array, which `run` slices with NumPy.
        """
        key = ("packed", config)
        if key not in self._cache:
            self._cache[key] = jax.jit(self._packed_program(config))
        return self._cache[key]

    def given_program(self, config: SolveConfig) -> Callable:
        """`(given, initial, ts) -> one flat array`, unjitted: the packed solve with only
        the parameters `given` by name, the others taking their defaults inside the
        program (a default written as an expression follows the given values). The
        program a run keeps across processes (`symflow.programs`)."""
        packed = self._packed_program(config)
        defaults = self.generated.parameter_defaults
        return lambda given, initial, ts: packed(defaults(given), initial, ts)

    def given_observed_program(self, names: Sequence[str]) -> Callable:
        """`(given, ts, ys) -> one flat array` of the observed outputs `names`, in this
        order, over the saved states `ys`, unjitted, with the parameters completed as
        `given_program` does: the observed program a run keeps."""
        values = self.outputs.unjitted(packed=True, names=names)
        defaults = self.generated.parameter_defaults
        return lambda given, ts, ys: values(ts, ys, defaults(given))

    def _packed_program(self, config: SolveConfig) -> Callable:
        """`(params, initial, ts) -> [saved states (times x states, row-major), the
        state reached, result, t_reached, size_reached, initial_size]`: the states
        only (observed outputs are computed from them when read, `observed.py`)."""
        solve = self.solve_program(config)

        def packed(params, initial, ts):
            sol = solve(params, initial, ts)
            scalars = jnp.stack([sol.result.astype(sol.t_reached.dtype), sol.t_reached,
                                 sol.size_reached, sol.initial_size])
            return jnp.concatenate([jnp.ravel(sol.ys), sol.y_reached, scalars])

        return packed

    def solution_of(self, flat: np.ndarray, ts: np.ndarray, config: SolveConfig, *,
                    params: dict, initial: dict | None = None,
                    computed: Mapping[str, np.ndarray] | None = None) -> Solution:
        """The `Solution` of a packed output computed elsewhere (a kept program, run
        with these complete parameters and initial values), with its computed observed
        outputs if they were computed elsewhere too (`computed`: every one, by name);
        raises `SolverError` if it records a failure."""
        sol = self._from_packed(np.asarray(flat), np.asarray(ts, dtype=float), params)
        raise_on_failure(sol, config, params=params, initial=initial,
                          singular=lambda t: self._singular(sol, t, params, initial),
                          limiting=lambda: self._limiting(sol, config, params, initial))
        if computed is not None:
            sol.remember_computed(computed)
        return sol

    def _singular(self, sol: Solution, t: float, params: dict, initial: dict | None
                  ) -> str | None:
        """After a failure at `t`: a DAE's divisor that vanished there (`failures.py`)."""
        if self.generated.pivots is None:
            return None
        _, y0 = self._start(params, initial or {})
        return vanished_pivot(self.generated, t, np.asarray(sol.t), np.asarray(sol.ys),
                              params, np.asarray(y0))

    def _limiting(self, sol: Solution, config: SolveConfig, params: dict,
                  initial: dict | None) -> str | None:
        """After a failure: which state limits the step where the solve stopped
        (`step_limit.py`), said in words; None when it cannot be said."""
        if sol.y_reached is None or config.exponential is not None:
            return None
        p = self.problem(config)
        if p.solver is None or isinstance(p.controller, diffrax.ConstantStepSize):
            return None
        prepared, _ = self._start(params, initial or {})
        names = component_names(self.generated.states, self.generated.n_states)
        tolerances = _solvers.make_controller(p.solver_name, rtol=config.rtol,
                                              atol=config.atol)
        limit = limiting_state(p.solver, p.terms, tolerances, names,
                               float(sol.t_reached), p.t1, np.asarray(sol.y_reached),
                               prepared, rtol=config.rtol, atol=config.atol)
        return None if limit is None else limit.describe()

    def _from_packed(self, flat: np.ndarray | jax.Array, ts: np.ndarray, params: Any
                     ) -> Solution:
        """The `Solution` of a packed output: the saved states a view of `flat`, nothing
        read per state or output (a solution reads them when asked). On the path of
        every concrete call."""
        n, width = len(ts), self.generated.n_states
        end = n * width
        result, t_reached, size_reached, initial_size = flat[end + width:end + width + 4]
        return Solution.assemble(
            t=ts, ys=flat[:end].reshape(n, width), result=result.astype(np.int32),
            t_reached=t_reached, size_reached=size_reached, initial_size=initial_size,
            y_reached=flat[end:end + width], params=params, **self._static)

    def _device_times(self, ts: np.ndarray) -> jax.Array:
        """`ts` on the device, kept per save grid: a numpy argument of a jitted call is
        transferred anew on every call (about 20 us)."""
        key = ("times", ts.tobytes())
        times = self._cache.get(key)
        if times is None:
            with jax.ensure_compile_time_eval():  # a constant even inside an outer trace
                times = self._cache[key] = jnp.asarray(ts)
        return times

    def run(self, config: SolveConfig, params: dict, initial: dict, ts: np.ndarray,
            *, timings: dict[str, float] | None = None) -> Solution:
        """Solve; raise `SolverError` on failure unless called inside a trace."""
        ts = np.asarray(ts, dtype=float)
        traced = _any_traced(params) or _any_traced(initial)
        # a Solution pytree, not one packed array
        whole = traced or config.dense or bool(self.generated.events)
        fn = self.solve_fn(config) if whole else self.packed_fn(config)
        if self.generated.events and not traced:  # nothing here can differentiate it
            fn = self.primal_fn(config)
        args = (params, initial, ts if whole else self._device_times(ts))
        if timings is not None and not traced:  # each stage timed (and announced)
            start = time.perf_counter()
            with stage("tracing"):
                lowered = fn.lower(*args)
            timings["trace"] = time.perf_counter() - start
            start = time.perf_counter()
            with stage("compiling (XLA)"):
                compiled = lowered.compile()
            timings["xla compile"] = time.perf_counter() - start
            start = time.perf_counter()
            with stage("solving"):
                out = jax.block_until_ready(compiled(*args))
            timings["solve"] = time.perf_counter() - start
        else:
            out = _call(fn, args, config) if traced else fn(*args)
        if whole:
            sol = out.with_params(params)
        else:  # `out` is still traced when an outer jit calls with constants
            sol = self._from_packed(
                out if isinstance(out, jax.core.Tracer) else np.asarray(out), ts, params)
        raise_on_failure(sol, config, params=params, initial=initial,
                          singular=lambda t: self._singular(sol, t, params, initial),
                          limiting=lambda: self._limiting(sol, config, params, initial))
        return sol


def _call(fn: Callable, args: tuple, config: SolveConfig) -> Any:
    """`fn(*args)` under an outer trace, with JAX's refusal of forward-mode autodiff
    through a reverse-mode adjoint (a `custom_vjp`, under `jax.jacfwd` or `jax.jvp`)
    turned into a message that says which adjoint to pass."""
    try:
        return fn(*args)
    except TypeError as error:
        if "forward-mode" not in str(error) or "custom_vjp" not in str(error):
            raise
        adjoint = config.adjoint if isinstance(config.adjoint, str) else (
            type(config.adjoint).__name__)
        raise SymflowError(
            f"adjoint {adjoint!r} differentiates in reverse mode only (jax.grad, jax.vjp, "
            "jax.jacrev); jax.jacfwd and jax.jvp need forward mode",
            help='pass adjoint="forward" to simulate (forward-mode differentiation '
                 "through the solver's steps)") from None


# the types of most parameter values: a set look-up, faster than `isinstance`
_CONCRETE = frozenset({type(jnp.zeros(())), np.ndarray, np.float64, float, int})


def _any_traced(values: Mapping[str, Any]) -> bool:
    """Whether a dict of arrays (or of pytrees of them) holds a tracer: one pass over
    its values, a pytree flattened only where a value is not an array (on every
    call's path, with a parameter per component of a large model)."""
    for value in values.values():
        if type(value) in _CONCRETE:
            continue
        if isinstance(value, jax.core.Tracer):
            return True
        if not isinstance(value, (jax.Array, np.ndarray, float, int)) and any(
                isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(value)):
            return True
    return False


def _hybrid_loop(config: SolveConfig) -> Literal["lax", "checkpointed"]:
    """How the loop of a solve with events is differentiated: checkpointed (reverse
    mode) or plain (forward mode); adjoints that cannot see events are refused."""
    adjoint = config.adjoint
    name = adjoint if isinstance(adjoint, str) else type(adjoint).__name__
    if config.dense or config.exponential is not None or config.t1 < config.t0:
        raise SymflowError(
            "a model with events is solved forward in time, without dense output or an "
            "exponential solver")
    if adjoint in ("checkpoint", "direct") or isinstance(
            adjoint, (diffrax.RecursiveCheckpointAdjoint, diffrax.DirectAdjoint)):
        return "checkpointed"
    if adjoint == "forward" or isinstance(adjoint, diffrax.ForwardMode):
        return "lax"
    raise SymflowError(
        f"adjoint {name!r} does not differentiate through events",
        help="use adjoint='checkpoint' (the default, reverse mode through the event "
             "loop) or 'forward' (forward mode)")
