"""Solving a generated model with diffrax.

`Simulator` holds one jitted solve per static configuration (solver,
tolerances, number of save points, adjoint); parameters, initial values and
times are arguments, so new values never recompile. Failures (too many steps,
NaN, step-size collapse) come back as diffrax's result code with the time
reached, and are raised as `SolverError` once the result is concrete.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from ..codegen import GeneratedModel
from ..errors import SolverError, SymflowError
from . import solvers as _solvers
from .adjoints import ends_output, ends_saveat, make_interpolating_solve, make_replay_solve
from .config import SolveConfig
from .solution import Solution


__all__ = ["ADJOINTS", "Simulator", "save_times"]


ADJOINTS: dict[str, Callable[[], diffrax.AbstractAdjoint]] = {
    "checkpoint": diffrax.RecursiveCheckpointAdjoint,
    "backsolve": diffrax.BacksolveAdjoint,
    "forward": diffrax.ForwardMode,
    "direct": diffrax.DirectAdjoint,
}


def save_times(tspan: tuple[float, float], saveat: int | tuple[float, ...] | np.ndarray
               ) -> np.ndarray:
    """Save times for a span: `n` evenly spaced points, or the given times plus both ends."""
    t0, t1 = float(tspan[0]), float(tspan[1])
    if t0 == t1:
        raise SymflowError("the time span is empty: start and end are equal")
    if isinstance(saveat, (int, np.integer)):
        if saveat < 2:
            raise SymflowError("saveat needs at least 2 points")
        return np.linspace(t0, t1, int(saveat))
    ts = np.asarray(saveat, dtype=float).ravel()
    lo, hi = min(t0, t1), max(t0, t1)
    outside = ts[(ts < lo) | (ts > hi)]
    if outside.size:
        raise SymflowError(f"save time {outside[0]:g} is outside the span [{t0:g}, {t1:g}]")
    ts = np.unique(np.concatenate([ts, [t0, t1]]))
    return ts if t1 > t0 else ts[::-1]


class Simulator:
    """Runs a `GeneratedModel` with diffrax; one compiled program per `SolveConfig`."""

    def __init__(self, generated: GeneratedModel, *, grid: tuple = (),
                 fields: tuple[str, ...] = ()):
        self.generated = generated
        # a PDE's grid and fields, carried by every `Solution` (static: part of the
        # cached pytree structure, so a concrete call builds no new `Solution`)
        self.grid = grid
        self.fields = fields
        self._cache: dict = {}
        # (name, shape, elements per time) of every output, in packed order
        self._outputs = tuple(
            (name, tuple(shape), int(np.prod(shape, dtype=int)))
            for name, shape in [*((s.name, s.shape) for s in generated.states),
                                *generated.observed])

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

    def solve_fn(self, config: SolveConfig) -> Callable:
        """The jitted `(params, initial, ts) -> Solution` for one configuration.

        `params` is a complete parameter dict, `initial` a dict of initial values
        overriding the model's (often empty), `ts` the save times, whose first and
        last entries are the span of the configuration.
        """
        if config not in self._cache:
            self._cache[config] = jax.jit(self.solve_program(config))
        return self._cache[config]

    def solve_program(self, config: SolveConfig) -> Callable:
        """The solve. The span is part of the configuration: diffrax's step loop is
        about 1.3x slower per step, and compiles slower, when the ends of the span
        are traced values (benchmarks/README.md); a new span recompiles once."""
        g = self.generated
        exponential = config.exponential
        solver = None if exponential else _solvers.make_solver(config.solver,
                                                               linear=config.linear)
        rhs = g.rhs
        if exponential:  # the solver holds L; the term is the remainder N
            terms = exponential.term()
        elif _solvers.is_imex(config.solver):
            terms = diffrax.MultiTerm(diffrax.ODETerm(lambda t, y, p: jnp.zeros_like(y)),
                                      diffrax.ODETerm(lambda t, y, p: rhs(t, y, p)))
        else:
            terms = diffrax.ODETerm(lambda t, y, p: rhs(t, y, p))
        if _solvers.is_fixed_step(config.solver) or exponential:
            if config.dt0 is None:
                raise SymflowError(f"solver {config.solver} takes fixed steps: set dt",
                                   help="add `dt = ...` under simulate, or pass dt=")
            controller = diffrax.ConstantStepSize()
        else:
            controller = diffrax.PIDController(rtol=config.rtol, atol=config.atol)
        # The continuous adjoint along the forward interpolant (`_interpolating.py`):
        # `backsolve` with an implicit solver (stiff: the state must not be integrated
        # backwards), or asked for by name; forward in time, without dense output or
        # an exponential solver
        interpolating = (config.adjoint == "interpolating"
                         or (config.adjoint == "backsolve" and _solvers.is_implicit(config.solver)))
        if interpolating and (config.dense or not config.t1 > config.t0 or exponential):
            raise SymflowError(
                f"adjoint={config.adjoint!r} with solver {config.solver} needs a solve forward "
                "in time without dense output or an exponential solver",
                help="use adjoint='checkpoint' (the default), 'forward' or 'direct'")
        if interpolating and g.invariants is not None:
            # the forward solve is projected onto the DAE's constraints, which the adjoint
            # ODE does not see: parameters that enter only there (the pendulum's L) would
            # get a silently zero gradient
            raise SymflowError(
                f"adjoint={config.adjoint!r} with solver {config.solver} does not "
                "differentiate the projection onto this DAE's constraints",
                help="use adjoint='checkpoint' (the default), 'forward' or 'direct'")
        adjoint = (diffrax.RecursiveCheckpointAdjoint() if config.adjoint == "interpolating"
                   else ADJOINTS[config.adjoint]() if isinstance(config.adjoint, str)
                   else config.adjoint)
        progress = (diffrax.TqdmProgressMeter(refresh_steps=200) if config.progress
                    else diffrax.NoProgressMeter())
        backsolve = isinstance(adjoint, diffrax.BacksolveAdjoint) and not interpolating
        if g.invariants is not None and not backsolve:  # a DAE: stay on its constraints
            from .projection import project_onto_invariants
            solver = project_onto_invariants(solver, g.invariants, rtol=config.rtol,
                                              atol=config.atol)
        # `checkpoint` on an ODE solved forward in time: replay the accepted steps
        # (same gradient as diffrax's RecursiveCheckpointAdjoint, a fraction of the cost);
        # not for the projected DAE steps or the exponential solvers (built per call)
        # `ts` is `[t0, t1]`: saved without diffrax's loop over save times
        ends_only = config.n_save == 2
        replay = (make_replay_solve(terms, solver, controller, t0=config.t0, t1=config.t1,
                                    dt0=config.dt0, max_steps=config.max_steps,
                                    progress_meter=progress, ends_only=ends_only)
                  if config.adjoint == "checkpoint" and not config.dense
                  and config.t1 > config.t0 and exponential is None
                  and g.invariants is None else None)
        if interpolating:
            backward_solver = _solvers.make_solver(config.solver)  # a dense Newton solve
            replay = make_interpolating_solve(
                rhs, terms, solver, backward_solver, controller, t0=config.t0, t1=config.t1,
                dt0=config.dt0, max_steps=config.max_steps,
                imex=_solvers.is_imex(config.solver), progress_meter=progress)
        # a fixed dt dividing the span: every exponential step has the same size
        n_steps = (abs(config.t1 - config.t0) / abs(config.dt0)
                   if exponential and config.dt0 else 0.5)
        equal_steps = abs(n_steps - round(n_steps)) < 1e-9 * max(n_steps, 1.0)
        state_names = tuple(s.name for s in g.states)
        observed_names = tuple(n for n, _ in g.observed)

        def solve(params, initial, ts):
            values0 = dict(g.initial_values(params))
            values0.update(initial)
            y0 = self.pack(values0)
            if replay is not None:
                ys, t_reached, y_last, result = replay(params, y0, ts)
            else:
                if backsolve:  # BacksolveAdjoint takes no `subs`: the last finite save
                    saveat = diffrax.SaveAt(ts=ts, dense=config.dense)  # time is the one reached
                elif ends_only:
                    saveat = ends_saveat(dense=config.dense)
                else:
                    saveat = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts),
                                                  diffrax.SubSaveAt(t1=True)],
                                            dense=config.dense)
                sol = diffrax.diffeqsolve(
                    terms, exponential.state_solver(params, config.t0,
                                                    equal_steps=equal_steps)
                    if exponential else solver,
                    t0=config.t0, t1=config.t1, dt0=config.dt0,
                    y0=exponential.to_state(y0) if exponential else y0,
                    args=params, saveat=saveat, stepsize_controller=controller,
                    adjoint=adjoint, max_steps=config.max_steps, throw=False,
                    progress_meter=progress,
                )
                result = sol.result._value
                if backsolve:
                    ys = sol.ys
                    reached = jnp.isfinite(sol.ts)
                    t_reached = (jnp.max(jnp.where(reached, sol.ts, -jnp.inf))
                                 if config.t1 > config.t0
                                 else jnp.min(jnp.where(reached, sol.ts, jnp.inf)))
                    y_last = jnp.where(reached[:, None], ys, 0.0)
                elif ends_only:
                    ys, t_reached, y_last = ends_output(sol.ts, sol.ys, config.t1)
                else:
                    ys, t_reached, y_last = sol.ys[0], sol.ts[1][0], sol.ys[1][0]
                if exponential:  # its state may be in Fourier space
                    ys, y_last = exponential.from_state(ys), exponential.from_state(y_last)
            values = self.unpack(ys)
            values.update(jax.vmap(lambda t, y: g.observed_fn(t, y, params))(ts, ys))
            return Solution(
                t=ts, values=values, result=result,
                t_reached=t_reached,
                size_reached=jnp.max(jnp.abs(y_last), initial=0.0),
                initial_size=jnp.max(jnp.abs(y0), initial=0.0),
                dense=sol if config.dense else None,
                state_names=state_names, observed_names=observed_names,
                _unpack=self.unpack, grid=self.grid, fields=self.fields,
            )

        return solve

    def packed_fn(self, config: SolveConfig) -> Callable:
        """The jitted `(params, initial, ts) -> one flat array` holding a whole solution.

        The path for concrete calls: every output buffer of a jitted call costs
        dispatch time (eight outputs cost about a third of a 0.3 ms Lotka–Volterra
        solve), so it returns one array, which `run` slices with NumPy.
        """
        key = ("packed", config)
        if key not in self._cache:
            solve = self.solve_program(config)

            def packed(params, initial, ts):
                sol = solve(params, initial, ts)
                scalars = jnp.stack([sol.result.astype(sol.t_reached.dtype), sol.t_reached,
                                     sol.size_reached, sol.initial_size])
                return jnp.concatenate([*(jnp.ravel(sol.values[n]) for n in sol.names),
                                        scalars])

            self._cache[key] = jax.jit(packed)
        return self._cache[key]

    def _from_packed(self, flat: np.ndarray, ts: np.ndarray, config: SolveConfig) -> Solution:
        """The `Solution` of a packed output: NumPy views of `flat`, unflattened into a
        kept pytree structure (which skips equinox's `__init__`). The layout is worked
        out once per configuration: this is on the path of every concrete call."""
        key = ("layout", config)
        layout = self._cache.get(key)
        if layout is None:
            n, pieces, offset = config.n_save, {}, 0
            for name, shape, width in self._outputs:
                pieces[name] = (offset, offset + n * width, (n, *shape))
                offset += n * width
            values = {k: flat[a:b].reshape(shape) for k, (a, b, shape) in pieces.items()}
            result, t_reached, size_reached, initial_size = flat[offset:offset + 4]
            structure = jax.tree.structure(Solution(
                t=ts, values=values, result=result.astype(np.int32), t_reached=t_reached,
                size_reached=size_reached, initial_size=initial_size,
                state_names=tuple(s.name for s in self.generated.states),
                observed_names=tuple(n for n, _ in self.generated.observed),
                _unpack=self.unpack, grid=self.grid, fields=self.fields))
            # the leaves' order: `t`, the values by sorted name, then the scalars
            layout = (structure, tuple(pieces[k] for k in sorted(pieces)), offset)
            self._cache[key] = layout
        structure, pieces, offset = layout
        result, t_reached, size_reached, initial_size = flat[offset:offset + 4]
        return jax.tree.unflatten(structure, [
            ts, *(flat[a:b].reshape(shape) for a, b, shape in pieces),
            result.astype(np.int32), t_reached, size_reached, initial_size])

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
        traced = any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((params, initial)))
        whole = traced or config.dense  # a Solution pytree, not one packed array
        fn = self.solve_fn(config) if whole else self.packed_fn(config)
        args = (params, initial, ts if whole else self._device_times(ts))
        if timings is not None and not traced:
            start = time.perf_counter()
            lowered = fn.lower(*args)
            timings["trace"] = time.perf_counter() - start
            start = time.perf_counter()
            fn = lowered.compile()
            timings["xla compile"] = time.perf_counter() - start
            start = time.perf_counter()
            out = jax.block_until_ready(fn(*args))
            timings["solve"] = time.perf_counter() - start
        else:
            out = fn(*args)
        if not whole:  # `out` is still traced when an outer jit calls with constants
            out = self._from_packed(out if isinstance(out, jax.core.Tracer) else np.asarray(out),
                                    ts, config)
        sol = out
        _raise_on_failure(sol, config)
        return sol


def _raise_on_failure(sol: Solution, config: SolveConfig) -> None:
    if isinstance(sol.result, jax.core.Tracer):
        return  # inside a trace: the caller reads `Solution.result`
    code = int(sol.result)
    if code == 0:
        return
    t = float(sol.t_reached)
    messages = diffrax.RESULTS._index_to_message  # noqa: SLF001 - the only public map
    reason = messages[code] if 0 <= code < len(messages) else "unknown failure"
    reason = reason.split("\n")[0]
    help = None
    size, scale = float(sol.size_reached), float(sol.initial_size)
    if not np.isfinite(size) or code == diffrax.RESULTS.nonfinite._value:
        help = "the solution became NaN or infinite: check the model and its parameters"
    elif size > 1e8 * max(1.0, scale):
        help = (f"the solution grows without bound (|y| = {size:.3g} at t = {t:.6g}): "
                "the model may blow up in finite time here")
    elif code == diffrax.RESULTS.max_steps_reached._value:
        help = (f"raise max_steps (now {config.max_steps})"
                + ("" if _solvers.is_implicit(config.solver)
                   else ", or use an implicit solver (kvaerno5) if the model is stiff"))
    raise SolverError(f"the solver failed at t = {t:.6g}: {reason}", t, help=help)

