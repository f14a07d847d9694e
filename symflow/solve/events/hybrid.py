"""The hybrid solve: one loop over the solver's steps, with events inside it.

Each iteration either fires the timed (`at`/`every`) events due at the current
time, or takes one step of the diffrax solver from t towards the next timed event
(never past it), with diffrax's step-size controller. On an accepted step the
`when` conditions are searched for a crossing (`locate.py`: interior samples of
the dense output, Illinois root finding); a rejected step fires nothing. Where an
event fires, the step is cut at the event time, the save points before it are
filled from the step's interpolant, and the affects run:

1. the events of the instant run in file order; each affect's right side sees the
   state after the earlier events of the instant, and `pre(x)` the state before
   the instant;
2. a `when` condition that the jumps of step 1 carried across zero in its
   direction fires too, once (one more round, no further cascade);
3. the solver restarts: a fresh initial step size, its first-same-as-last stage
   dropped.

Save times are right-continuous: a save time equal to an event time holds the
state after the event; the event log holds the states just before and after
each event. `terminate` stops the solve at the event; save times after it are
NaN. Events that accumulate (`ZENO_EVENTS` in a row, each within
`ZENO_WINDOW` x the span of the one before) stop the solve with an error naming
the event and the time, rather than creeping on.

The loop is `equinox`'s checkpointed while loop (as diffrax's
`RecursiveCheckpointAdjoint`), so `jax.grad` differentiates through it:
discretise-then-optimise through steps, event times (their implicit-function
derivative, `locate.py`) and affects. `loop="lax"` is the plain loop, for
forward mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax

from ...errors import SymflowError
from .._compat import buffer_at_set, result_code, while_loop
from ..adjoints import Problem, with_controller_tols
from ..projection import reinitialize
from .locate import locate
from .program import EventProgram

__all__ = ["EVENT_RESULTS", "HybridOutput", "ZENO_EVENTS", "ZENO_WINDOW",
           "make_hybrid_solve"]

ZENO_EVENTS = 10
ZENO_WINDOW = 1e-9
# Result codes of the hybrid loop beyond diffrax's own.
_ZENO, _OVERFLOW = 101, 102
EVENT_RESULTS = {_ZENO: "events accumulate (Zeno behaviour)",
                 _OVERFLOW: "more events than max_events"}


class HybridOutput(NamedTuple):
    """What the hybrid solve returns: the trajectory at the save times, where it
    stopped, the result code, and the event log (`count` events recorded, padded
    with NaN times and index -1)."""

    ys: jax.Array
    t_reached: jax.Array
    y_last: jax.Array
    result: jax.Array
    event_t: jax.Array
    event_index: jax.Array
    event_pre: jax.Array
    event_post: jax.Array
    event_count: jax.Array


class _State(NamedTuple):
    t: jax.Array
    y: jax.Array
    tnext: jax.Array
    solver_state: Any
    controller_state: Any
    made_jump: jax.Array
    g: jax.Array  # the `when` conditions at t
    counts: jax.Array  # the times of each timed event already passed
    next_time: jax.Array  # the next time of any timed event (inf: none), from `counts`
    save_index: jax.Array
    ys: Any  # a buffer of the loop; None inside the step's conds
    n_events: jax.Array
    # the event log, one row per event: [t, event number, state before, state after]
    # (one buffer: each write into a loop's buffer costs, on every step)
    log: Any  # a buffer of the loop; None inside the step's conds
    num_steps: jax.Array
    result: jax.Array
    terminated: jax.Array
    zeno: jax.Array  # events in a row, each close to the one before
    last_event: jax.Array


class _Entries(NamedTuple):
    """The event log's entries of one instant, before they are written: for each
    (event, round) whether it `fired`, its number, and the states around it."""

    fired: jax.Array
    event: jax.Array
    before: jax.Array
    after: jax.Array
    t: jax.Array


class _Saving(NamedTuple):
    """What one iteration saves: the save times in [t, `t_end`) from `interp`, if
    the step was accepted (`keep`)."""

    interp: Any
    t_end: jax.Array
    keep: jax.Array


class _Instant(NamedTuple):
    """An instant to handle now (`fires`): at `t`, from the state `y_pre`, the events
    of `mask` (by event number; possibly none, where a comparison of a compound
    condition crossed without making it true); `crossed`: which comparisons of the
    `when` conditions crossed zero there, `positive`: the side each crossed to."""

    fires: jax.Array
    t: jax.Array
    y_pre: jax.Array
    mask: jax.Array
    crossed: jax.Array
    positive: jax.Array


def _buffers(s: _State):
    return s.ys, s.log


def make_hybrid_solve(problem: Problem, program: EventProgram, *,
                      loop: Literal["lax", "checkpointed"], nested: bool = False,
                      max_events: int, samples: int) -> Callable:
    """`(params, y0, ts) -> HybridOutput` for an ODE `problem` with events.

    `nested`: steps in an inner loop over the small state (`step`'s docstring),
    several times faster to run; without it, one loop (reverse mode differentiates
    it at half the cost of the nested one: for calls that may be differentiated).

    Long because the loop's step, its event firing and its restart share the
    closure of one solve (the parameters and the times of the timed events).
    """
    assert problem.solver is not None
    solver = with_controller_tols(problem.solver, problem.controller)
    if problem.project is not None:  # a DAE: every step, and every reset, projected
        solver = problem.project(solver)
    invariants = getattr(solver, "invariants", None)
    if loop == "lax" and getattr(solver, "scan_kind", "") is None:
        # a Runge-Kutta method's stage loop, for forward mode (as diffrax's ForwardMode)
        solver = eqx.tree_at(lambda s: s.scan_kind, solver, "lax", is_leaf=lambda x: x is None)
    terms, controller = problem.terms, problem.controller
    t0, t1 = float(problem.t0), float(problem.t1)
    if not t1 > t0:
        raise SymflowError("a model with events is solved forward in time",
                           help="give a span with t1 > t0")
    error_order = solver.error_order(terms)
    directions, triggers = program.directions, program.triggers
    when, timed = program.when, program.timed
    n_kinds = len(program.kinds)
    window = ZENO_WINDOW * (t1 - t0)
    max_steps_code = result_code(diffrax.RESULTS.max_steps_reached)  # type: ignore[arg-type]

    def solve(params, y0, ts) -> HybridOutput:
        """The solve (module docstring).

        Long because the loop's pieces (a step, the timed instant, firing, saving)
        are closures over this solve's parameters and timed-event tables."""
        tables = program.time_tables(params, t0)

        def next_timed(counts):
            if not timed:
                return jnp.asarray(jnp.inf), jnp.zeros((0,))
            times = program.next_times(tables, counts)
            return jnp.min(times), times

        def restart(t, y, t_stop):
            tnext, cs = controller.init(terms, t, t_stop, y, problem.dt0, params,
                                        solver.func, error_order)
            tnext = t + lax.stop_gradient(tnext - t)
            return tnext, solver.init(terms, t, tnext, y, params), cs

        def run_affects(s: _State, t, y_pre, y, mask) -> tuple[_State, jax.Array, list]:
            """The affects of the events of `mask`, in file order; the log's entries
            (`fired`, event, before, after) are returned, not written (`log`)."""
            entries = []
            for k in range(n_kinds):  # file order
                after = jnp.where(mask[k], program.affects[k](t, y, y_pre, params), y)
                entries.append((mask[k], k, y, after))
                s = s._replace(terminated=s.terminated | (mask[k] & program.terminates[k]))
                y = after
            return s, y, entries

        def sides(g, g_pre, instant: _Instant):
            """The `when` comparisons' values `g` at an instant, as the loop keeps them:
            a comparison that crossed there and that the affects left as it was (as
            `g_pre`) is put on the side it crossed to, so it does not fire again from
            there (a crossing located to the last bit can leave g at exactly 0 or a
            rounding on the near side); the others are settled (`triggers.py`)."""
            tiny = jnp.finfo(g.dtype).tiny
            far = jnp.where(instant.positive, jnp.maximum(g, tiny), jnp.minimum(g, 0.0))
            return jnp.where(instant.crossed & (g == g_pre), far, triggers.settle(g))

        def fire(s: _State, instant: _Instant) -> tuple[_State, _Entries]:
            """Run the events of `mask` at `t` from `y_pre`, then the `when` events the
            jumps made true, then restart the solver. Returns the log's entries."""
            t, y_pre, mask = instant.t, instant.y_pre, instant.mask
            s, y, entries = run_affects(s, t, y_pre, y_pre, mask)
            g = jnp.zeros((0,))
            if when:
                g_pre = program.conditions(t, y_pre, params)
                g_post = program.conditions(t, y, params)
                already = jnp.stack([mask[k] for k in when])
                jumped = triggers.jumps(sides(g_pre, g_pre, instant),
                                        sides(g_post, g_pre, instant)) & ~already
                second = jnp.zeros(n_kinds, bool).at[jnp.asarray(when)].set(jumped)
                s, y, more = run_affects(s, t, y_pre, y, second)
                entries += more
            fired = jnp.stack([e[0] for e in entries])
            after = jnp.stack([e[3] for e in entries])
            if invariants is not None:  # a DAE's state made consistent after the jumps
                y = reinitialize(invariants, t, y_pre, y, params)
                # the last entry's "after" is the consistent state
                last = fired.shape[0] - 1 - jnp.argmax(fired[::-1])
                after = after.at[last].set(y)
            log = _Entries(fired, jnp.asarray([e[1] for e in entries], dtype=jnp.int32),
                           jnp.stack([e[2] for e in entries]), after, t)
            if when:
                g = sides(program.conditions(t, y, params), g_pre, instant)
            t_disc = s.next_time
            tnext, solver_state, cs = restart(t, y, jnp.minimum(t_disc, t1))
            # (an instant where only a comparison crossed fires nothing: not counted)
            any_fired = jnp.any(fired)
            close = (t - s.last_event) <= window
            zeno = jnp.where(any_fired, jnp.where(close, s.zeno + 1, 0), s.zeno)
            return s._replace(
                t=t, y=y, tnext=tnext, solver_state=solver_state, controller_state=cs,
                made_jump=jnp.asarray(True), g=g,
                zeno=zeno, last_event=jnp.where(any_fired, t, s.last_event),
                result=jnp.where((zeno >= ZENO_EVENTS) & (s.result == 0), _ZENO, s.result)
            ), log

        def write_log(s: _State, log: _Entries) -> _State:
            """The entries of one instant into the event log (outside any `lax.cond`:
            a buffer passed through one is copied whole). An entry that did not fire
            is written to the log's spare last row: an unconditional write is done in
            place, where a conditional one (read, select, write) made XLA copy the
            whole log on every step."""
            for i in range(log.fired.shape[0]):
                room = s.n_events < max_events
                pred = log.fired[i] & room
                row = jnp.where(pred, s.n_events, max_events)
                entry = jnp.concatenate([jnp.stack([log.t, log.event[i].astype(log.t.dtype)]),
                                         log.before[i], log.after[i]])
                s = s._replace(
                    log=buffer_at_set(s.log, row, entry),
                    n_events=s.n_events + jnp.where(pred, 1, 0),
                    result=jnp.where(log.fired[i] & ~room & (s.result == 0), _OVERFLOW,
                                     s.result))
            return s

        no_crossing = jnp.zeros(directions.shape[0], bool)

        def timed_instant(s: _State) -> tuple[_State, _Instant, _Saving]:
            """The timed events due now (their times passed, whether or not their
            checks hold); nothing to save."""
            _, times = next_timed(s.counts)
            due = times <= s.t
            checks = program.checks(s.t, s.y, params).astype(bool)
            mask = jnp.zeros(n_kinds, bool).at[jnp.asarray(timed)].set(due & checks)
            counts = s.counts + due.astype(s.counts.dtype)
            s = s._replace(counts=counts, next_time=next_timed(counts)[0])
            return (s, _Instant(jnp.any(mask), s.t, s.y, mask, no_crossing, no_crossing),
                    idle_saving(s.t))

        def idle_saving(t) -> _Saving:
            """Nothing to save (an interpolant of the right structure, never read)."""
            idle = solver.interpolation_cls(t0=t, t1=t, **jax.tree.map(
                lambda x: jnp.zeros(x.shape, x.dtype), dense_shape))
            return _Saving(idle, t, jnp.asarray(False))

        def save(s: _State, saving: _Saving) -> _State:
            """The save times in [t, t_end) of an accepted step, from its interpolant."""
            def cond(c):
                i, _ = c
                index = jnp.minimum(i, ts.shape[0] - 1)
                return saving.keep & (i < ts.shape[0]) & (ts[index] < saving.t_end)

            def body(c):
                i, ys = c
                return i + 1, buffer_at_set(ys, i, saving.interp.evaluate(ts[i]))

            i, ys = while_loop(cond, body, (s.save_index, s.ys), max_steps=ts.shape[0],
                               buffers=lambda c: c[1], kind=loop)
            return s._replace(save_index=i, ys=ys)

        def take_step(s: _State) -> tuple[_State, _Instant, _Saving]:
            """One step from s.t; where a `when` condition crosses inside it, the
            state is moved to the step's end all the same and the instant of the
            crossing is returned, for `fire` to put the state there; the save times
            up to the crossing (or the step's end) are returned to be saved."""
            t_disc = s.next_time
            t_stop = jnp.minimum(t_disc, t1)
            tnext = jnp.minimum(s.tnext, t_stop)
            # no sliver of a step left before a stop (as diffrax clips near t1)
            tnext = jnp.where(t_stop - tnext <= 64 * jnp.finfo(tnext.dtype).eps
                              * jnp.maximum(jnp.abs(t_stop), 1.0), t_stop, tnext)
            y1, y_err, dense, solver_state, solver_result = solver.step(
                terms, s.t, tnext, s.y, params, s.solver_state, s.made_jump)
            if y_err is not None:  # (a fixed-step SDE solver has no error estimate)
                y_err = jnp.where(jnp.isnan(y_err), jnp.inf, y_err)
            # (the controller's next start is the step's end, or a hair past it when the
            # step stopped at a jump in the vector field: `jump_ts`, as in diffrax)
            keep, start_new, tnext_new, made_jump, cs, controller_result = \
                controller.adapt_step_size(s.t, tnext, s.y, y1, params, y_err, error_order,
                                           s.controller_state)
            interp = solver.interpolation_cls(t0=s.t, t1=tnext, **dense)
            if when:
                crossing = locate(program.conditions, directions, interp, s.t, tnext, y1,
                                  s.g, params, samples=samples)
                event = keep & crossing.found
                t_end = jnp.where(event, crossing.t, tnext)
            else:
                event, t_end = jnp.asarray(False), tnext
            saving = _Saving(interp, t_end, jnp.asarray(keep))
            failed = jnp.where(keep, result_code(solver_result), 0)
            failed = jnp.where(failed == 0, result_code(controller_result), failed)
            s = s._replace(num_steps=s.num_steps + 1,
                           result=jnp.where(s.result == 0, failed, s.result))
            moved = s._replace(
                t=jnp.where(keep, jnp.minimum(start_new, t_stop), s.t),
                y=jnp.where(keep, y1, s.y),
                tnext=jnp.asarray(tnext_new),
                solver_state=jax.tree.map(lambda a, b: jnp.where(keep, a, b), solver_state,
                                          s.solver_state),
                controller_state=cs, made_jump=jnp.asarray(keep & made_jump),
                g=jnp.where(keep, crossing.g_end, s.g) if when else s.g)
            if not when:
                return moved, _Instant(jnp.asarray(event), t_end, y1, jnp.zeros(n_kinds, bool),
                                       no_crossing, no_crossing), saving
            crossed = crossing.fire & keep
            fires = triggers.fires(s.g, crossed, crossing.positive) & keep
            mask = jnp.zeros(n_kinds, bool).at[jnp.asarray(when)].set(fires)
            return moved, _Instant(jnp.asarray(event), crossing.t, interp.evaluate(crossing.t),
                                   mask, crossed, crossing.positive), saving

        entries = n_kinds * (2 if when else 1)  # (first round, jump round) x events

        def no_fire(s: _State, instant: _Instant) -> tuple[_State, _Entries]:
            n = instant.y_pre.shape[0]
            return s, _Entries(jnp.zeros(entries, bool), jnp.zeros(entries, jnp.int32),
                               jnp.zeros((entries, n), instant.y_pre.dtype),
                               jnp.zeros((entries, n), instant.y_pre.dtype), instant.t)

        def advance(core: _State) -> tuple[_State, _Instant, _Saving]:
            """One iteration of the inner loop: the timed instant due now, or a step."""
            if timed:
                t_disc = core.next_time
                return lax.cond(t_disc <= core.t, timed_instant, take_step, core)
            return take_step(core)

        def pending(core: _State, instant: _Instant, saving: _Saving):
            """Whether the last iteration has events to fire or save times to fill."""
            index = jnp.minimum(core.save_index, ts.shape[0] - 1)
            return instant.fires | (saving.keep & (core.save_index < ts.shape[0])
                                    & (ts[index] < saving.t_end))

        def step(s: _State) -> _State:
            """The outer loop's iteration: steps (the inner loop, over the small state
            only) until one has events to fire or save times to fill; then those.

            Two loops because XLA on CPU runs a loop's body inline only when every
            buffer it touches is small (512 bytes); a body that touches the save
            buffer or the event log on every step is handed to a thread pool on
            every step, which cost several times the step itself
            (benchmarks/README.md, "Events"). The buffers also stay out of the
            `lax.cond`s: a buffer passed through one is copied whole."""
            buffers = _buffers(s)
            core = s._replace(ys=None, log=None)
            if nested:
                # (the inner loop's start: nothing pending)
                quiet = (_Instant(jnp.asarray(False), core.t, core.y,
                                  jnp.zeros(n_kinds, bool), no_crossing, no_crossing),
                         idle_saving(core.t))
                core, instant, saving = while_loop(
                    lambda c: running(c[0]) & ~pending(*c), lambda c: advance(c[0]),
                    (core, *quiet), max_steps=problem.max_steps, kind=loop)
            else:
                core, instant, saving = advance(core)
            core, log = lax.cond(instant.fires, fire, no_fire, core, instant)
            s = core._replace(ys=buffers[0], log=buffers[1])
            return write_log(save(s, saving), log)

        def running(s: _State):
            t_disc = s.next_time
            return (((s.t < t1) | (t_disc <= s.t)) & (s.result == 0) & ~s.terminated
                    & (s.num_steps < problem.max_steps))

        y0 = jnp.asarray(y0, dtype=float)
        n, n_save = y0.shape[0], ts.shape[0]
        t_start = jnp.asarray(t0, dtype=y0.dtype)
        t_disc0 = jnp.min(program.next_times(tables, program.first_counts(tables, t0))) \
            if timed else jnp.inf
        tnext0, solver_state0, cs0 = restart(t_start, y0, jnp.minimum(t_disc0, t1))
        dense_shape = eqx.filter_eval_shape(solver.step, terms, t_start, tnext0, y0, params,
                                            solver_state0, False)[2]
        init = _State(
            t=t_start, y=y0, tnext=tnext0, solver_state=solver_state0, controller_state=cs0,
            made_jump=jnp.asarray(False),
            # (a condition true at the start does not fire: exact zeros settled)
            g=triggers.settle(program.conditions(t_start, y0, params)) if when
            else jnp.zeros((0,)),
            counts=program.first_counts(tables, t0), save_index=jnp.asarray(0),
            next_time=jnp.asarray(t_disc0, dtype=y0.dtype),
            ys=jnp.full((n_save, n), jnp.nan), n_events=jnp.asarray(0),
            # (+ the spare row, `write_log`); the event number -1 where there is none
            log=jnp.full((max_events + 1, 2 + 2 * n), jnp.nan).at[:, 1].set(-1.0),
            num_steps=jnp.asarray(0), result=jnp.asarray(0, jnp.int32),
            terminated=jnp.asarray(False), zeno=jnp.asarray(0),
            last_event=jnp.asarray(-jnp.inf))
        final = while_loop(running, step, init, max_steps=problem.max_steps + max_events + 1,
                           buffers=_buffers, kind=loop)
        result = jnp.where((final.result == 0) & ~final.terminated & (final.t < t1),
                           max_steps_code, final.result)
        index = jnp.arange(n_save)
        ys = jnp.where(((index >= final.save_index) & (ts <= final.t))[:, None], final.y,
                       final.ys)
        rows = final.log[:max_events]  # (without the spare row)
        return HybridOutput(ys, final.t, final.y, result, rows[:, 0],
                            rows[:, 1].astype(jnp.int32), rows[:, 2:2 + n], rows[:, 2 + n:],
                            final.n_events)

    return solve
