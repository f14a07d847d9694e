"""Events: symflow's hybrid solve against a hand-written diffrax twin and scipy.

    python benchmarks/events.py [part ...] [--repeats N] [--compile-repeats K]
                                [--sample-ms MS] [--json PATH | --no-save]
    python -m benchmarks.events ...      (the same, from the repository root)

Parts: `ball`, `compile`, `pk` (the default: all three, about 2.5 minutes) and
`profile` (where symflow's time goes, about 3 more minutes).

Problems, with their example files' settings (Tsit5, rtol 1e-10, atol 1e-12):

* **ball**: `examples/bouncing_ball.sf`, r = 0.95 on [0, 55.356]: exactly 100
  bounces (the 100th at t = 55.348, a 101st would be at 55.365). The last flight
  lasts 0.017, 3e5 times symflow's Zeno window (1e-9 x span): no Zeno stop.
  Saved on the file's grid of 2001 points, or minimally (`saveat = 2`: t0 and t1,
  plus the event log every solve keeps).
* **pk**: `examples/multidose_pk.sf` (tau = 12, D = 100, CL = 2, V = 20) on
  [0, 594]: 50 doses at 0, 12, ..., 588. Saved hourly (595 points), or minimally.

Contenders, all solving the same problem: same solver, tolerances, parameters and
state vector (the ball's includes the discrete state `bounces`, as symflow's does,
so that the error norms agree), the same initial step at every (re)start, hence
the same steps (asserted: equal right-hand-side evaluation counts), the same save
times, right-continuous at events:

* **symflow**: `m.simulate(params=..., tspan=..., saveat=..., rtol=..., atol=...)`
  per call (Python included), and its bare jitted solve (`primal_fn(config)`: the
  program of a call nothing differentiates, with the arguments `simulate` passes,
  as in run.py).
* **hand-written twin** (`jax.jit`, parameters as an array argument):
  - ball: a `jax.lax.while_loop` over `diffrax.diffeqsolve` segments, each from the
    last bounce towards t1 with `diffrax.Event(h, direction=False,
    root_finder=optimistix.Newton(1e-13, 1e-13))`; at the event v = -r v,
    bounces + 1, and the next segment starts. Full grid: `SaveAt(ts=)` of a window
    of the grid from the segment's start (`ball_window`: 101 slots, the most save
    times a flight can span, from the physics; padded with t1), masked to the
    times before the event. Minimal: `SaveAt(t1=True)` only (the state at the
    event, or at t1).
  - pk: a `jax.lax.while_loop` over the dosing intervals: A += D at t_k = k tau,
    `diffeqsolve` from t_k to min(t_{k+1}, t1); full grid `SaveAt(ts=)` of a
    13-slot window masked to [t_k, t_{k+1}); minimal `SaveAt(t1=True)`.
  - both keep the event times and the states before and after each event (symflow's
    event log), and take the initial step of every segment from the PID
    controller's heuristic, as symflow does (`initial_step`: `diffeqsolve` with
    dt0=None would take 0.01 in diffrax 0.7.2).
  - gradients: the same segments in a loop bounded for reverse mode: ball
    `equinox.internal.while_loop(kind="checkpointed", max_steps=128)` (at most 128
    segments), pk `jax.lax.scan` over its 50 intervals; each `diffeqsolve` with
    diffrax's default `RecursiveCheckpointAdjoint`; the bounce time's derivative
    from optimistix's implicit-function adjoint of the root find.
* **scipy** `solve_ivp`, RK45 (the order of Tsit5) and DOP853, same rtol/atol: ball
  a loop of terminal events (direction -1, on h): reset, restart; pk one
  `solve_ivp` per dosing interval; `t_eval` for the grid. Its gradient column is
  central differences (2 solves per parameter), for scale only.

Checks, asserted before timing: the same number of events everywhere; symflow's
event times and saved states within 1e-8 of the twin's (ball: absolute; pk: the
concentration, relative) and of scipy's within 1e-5; the gradients within 1e-6
(relative) of the twin's and, for the ball, of the exact derivative.

Loss for the gradients: the sum of the saved trajectory on the full grid (ball: h,
w.r.t. r; pk: C, w.r.t. CL and V), `jax.jit(jax.grad(loss))`.

Timing, as run.py: compile apart from run. Compile: trace+lower and XLA compile,
timed apart, of a freshly loaded model (`simulate(timings=...)`) and of freshly
built twin functions (`jax.jit(...).lower(...)`, `.compile()`), in
`--compile-repeats` alternating rounds after the checks (which compiled everything
once: the warm-up). Run: the median over `--repeats` rounds, the contenders shuffled
each round, one sample the mean of back-to-back calls lasting about `--sample-ms`.
`compile`: the ball compiled for 10 bounces (tspan [0, 22.3]) and for 100; only the
span changes.

`profile`: the bare solve under settings a user can change (`event_samples`,
`max_events`, `adjoint="forward"`, which runs the plain `lax.while_loop`), two
ablations that skip the event log's writes (symflow's `buffer_at_set` patched in
memory while tracing; not a usable solve), the twin with diffrax's own initial
step, the copies of event-log-sized buffers in the optimized HLO, and the
right-hand-side evaluations per solve.

Output: Markdown tables on stdout; every number as JSON in
`benchmarks/results/<UTC date>-events.json` (or `--json PATH`; `--no-save`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import platform
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import equinox.internal as eqxi  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optimistix as optx  # noqa: E402
from jax import lax  # noqa: E402
from run import calibrate, fmt_s, per_call  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

import symflow  # noqa: E402

RTOL, ATOL = 1e-10, 1e-12  # both example files' own
PARTS = ["ball", "compile", "pk", "profile"]
DEFAULT_PARTS = ["ball", "compile", "pk"]
SEGMENT_MAX_STEPS = 4096  # each twin segment's diffeqsolve (diffrax's default)
NEWTON_TOL = 1e-13  # the twin's root finder on the event time (rtol and atol)

# ----------------------------------------------------------------------- problems

BALL_FILE = os.path.join(ROOT, "examples", "bouncing_ball.sf")
PK_FILE = os.path.join(ROOT, "examples", "multidose_pk.sf")

BALL_P = {"g": 9.81, "r": 0.95, "h0": 10.0}
BALL_T1 = {100: 55.356, 10: 22.3}  # between the Nth bounce and the next
BALL_NSAVE = 2001  # the file's own grid
BALL_MAX_SEGMENTS = 128  # the gradient twin's bound on its outer loop

PK_P = {"CL": 2.0, "V": 20.0, "D": 100.0, "tau": 12.0}
PK_DOSES = 50
PK_T1 = 12.0 * 49.5  # 594: doses at 0, 12, ..., 588
PK_NSAVE = 595  # hourly


def ball_bounce_times(p=BALL_P, n=200):
    """The exact bounce times (free fall from h0, speed times r at each bounce)."""
    g, r, h0 = p["g"], p["r"], p["h0"]
    v0 = np.sqrt(2 * g * h0)
    times = [np.sqrt(2 * h0 / g)]
    for k in range(1, n):
        times.append(times[-1] + 2 * v0 * r ** k / g)
    return np.array(times)


def ball_exact_loss(r, ts, g=BALL_P["g"], h0=BALL_P["h0"], bounces=200):
    """The sum of the exact heights at `ts` (JAX: its `jax.grad` is the exact
    derivative the solvers' gradients are checked against)."""
    v0 = jnp.sqrt(2 * g * h0)
    k = jnp.arange(1, bounces)
    first = jnp.sqrt(2 * h0 / g)
    tb = jnp.concatenate([first[None], first + jnp.cumsum(2 * v0 * r ** k / g)])
    i = jnp.searchsorted(lax.stop_gradient(tb), ts, side="right")
    s = ts - jnp.where(i > 0, tb[jnp.maximum(i - 1, 0)], 0.0)
    h = jnp.where(i > 0, v0 * r ** i * s - g * s * s / 2, h0 - g * ts * ts / 2)
    return jnp.sum(h)


def model_text(path, **settings):
    """The example's text with `settings` added to (or replacing) its `simulate` section."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        key = line.strip().split(" ")[0]
        if key in settings:
            continue
        out.append(line)
        if line.strip() == "simulate":
            out += [f"    {k} = {v}" for k, v in settings.items()]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------- twins


def initial_step(term, solver, controller, how="heuristic"):
    """`(t0, t1, y0, args) -> dt0`: the PID controller's initial-step heuristic (Hairer's),
    called on the bare `ODETerm` as symflow's loop calls it at every (re)start. Passing
    `dt0=None` to `diffeqsolve` would not run it: diffrax 0.7.2 wraps the terms in a
    `WrapTerm` before `PIDController.init`, which then takes dt0 = 0.01 (it runs the
    heuristic only for an `ODETerm`); the steps would differ from symflow's (the ball:
    284 steps instead of 381). The step is not differentiated (as in symflow)."""
    order = solver.error_order(term)

    def dt0(t0, t1, y0, args):
        if how == "diffrax":
            return None
        tnext, _ = controller.init(term, t0, t1, y0, None, args, solver.func, order)
        return lax.stop_gradient(tnext - t0)

    return dt0


def _ball_rhs(t, y, p):
    return jnp.stack([y[1], -p[0], jnp.zeros_like(y[2])])


def _ball_cond(t, y, args, **kwargs):
    return y[0]


def ball_window(ts, p=BALL_P):
    """The most save times one segment of the ball can hold, from the physics: no
    flight lasts longer than the longer of the fall from h0 and the first flight
    after a bounce (2 r v0 / g), plus two."""
    g, r, h0 = p["g"], p["r"], p["h0"]
    longest = max(np.sqrt(2 * h0 / g), 2 * r * np.sqrt(2 * g * h0) / g)
    return int(np.ceil(longest / np.min(np.diff(ts)))) + 2


def ball_twin(ts, t1, *, save="grid", loop="lax", max_segments=BALL_MAX_SEGMENTS,
              dt0="heuristic", window=None):
    """`p = [g, r, h0] -> (ys (n, 3), event times, states before, states after, count,
    final state)` of the bouncing ball, by hand (module docstring). `loop`: `lax`
    (forward) or `checkpointed` (reverse mode, at most `max_segments` segments).
    Every call builds new functions (nothing is reused from an earlier trace).
    `dt0="diffrax"`: pass `dt0=None` to `diffeqsolve` instead (see `initial_step`).
    `window`: the save times one segment's `SaveAt(ts=)` holds (`ball_window`; the
    whole grid, `len(ts)`, is correct without knowing the physics, and slower: each
    segment then carries, and the last interpolates, 2001 save slots)."""
    ts_np = np.asarray(ts, dtype=float)
    n = len(ts_np)
    w = ball_window(ts_np) if window is None else window
    ts_j = jnp.asarray(ts_np)
    ts_pad = jnp.concatenate([ts_j, jnp.full((w,), t1)])
    term = diffrax.ODETerm(lambda t, y, p: _ball_rhs(t, y, p))
    solver = diffrax.Tsit5()
    controller = diffrax.PIDController(rtol=RTOL, atol=ATOL)
    event = diffrax.Event(lambda t, y, args, **kw: _ball_cond(t, y, args, **kw),
                          root_finder=optx.Newton(rtol=NEWTON_TOL, atol=NEWTON_TOL),
                          direction=False)
    zero = jnp.int64(0)
    first_step = initial_step(term, solver, controller, dt0)

    def solve(p):
        y0 = jnp.stack([p[2], jnp.zeros_like(p[2]), jnp.zeros_like(p[2])])

        def body(c):
            t, y, ysbuf, k, ev_t, ev_pre, ev_post, done = c
            if save == "grid":
                start = jnp.searchsorted(ts_j, t, side="left").astype(jnp.int64)
                ts_seg = lax.dynamic_slice(ts_pad, (start,), (w,))
                saveat = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts_seg),
                                              diffrax.SubSaveAt(t1=True)])
            else:
                saveat = diffrax.SaveAt(t1=True)
            sol = diffrax.diffeqsolve(term, solver, t, t1, first_step(t, t1, y, p), y, args=p,
                                      saveat=saveat, stepsize_controller=controller,
                                      event=event, max_steps=SEGMENT_MAX_STEPS, throw=False)
            if save == "grid":
                t_end, y_end = sol.ts[1][-1], sol.ys[1][-1]
                # keep the saves before the event (a save at the event time holds the
                # state after it: the next segment's first)
                limit = jnp.where(sol.event_mask, t_end, jnp.inf)
                keep = (ts_seg < limit) & (start + jnp.arange(w) < n)
                old = lax.dynamic_slice(ysbuf, (start, zero), (w, 3))
                ysbuf = lax.dynamic_update_slice(
                    ysbuf, jnp.where(keep[:, None], sol.ys[0], old), (start, zero))
            else:
                t_end, y_end = sol.ts[-1], sol.ys[-1]
            hit = sol.event_mask
            after = jnp.stack([y_end[0], -p[1] * y_end[1], y_end[2] + 1.0])
            y_next = jnp.where(hit, after, y_end)
            ev_t = ev_t.at[k].set(jnp.where(hit, t_end, ev_t[k]))
            ev_pre = ev_pre.at[k].set(jnp.where(hit, y_end, ev_pre[k]))
            ev_post = ev_post.at[k].set(jnp.where(hit, after, ev_post[k]))
            return (t_end, y_next, ysbuf, k + jnp.where(hit, 1, 0), ev_t, ev_pre, ev_post,
                    ~hit)

        nbuf = n + w if save == "grid" else 1
        init = (jnp.asarray(float(ts_np[0])), y0, jnp.full((nbuf, 3), jnp.nan), jnp.asarray(0),
                jnp.full((max_segments,), jnp.nan), jnp.full((max_segments, 3), jnp.nan),
                jnp.full((max_segments, 3), jnp.nan), jnp.asarray(False))
        if loop == "lax":
            out = lax.while_loop(lambda c: ~c[-1], body, init)
        else:
            out = eqxi.while_loop(lambda c: ~c[-1], body, init, max_steps=max_segments,
                                  kind="checkpointed")
        t_end, y_end, ysbuf, count, ev_t, ev_pre, ev_post, _ = out
        ys = ysbuf[:n] if save == "grid" else jnp.stack([y0, y_end])
        return ys, ev_t, ev_pre, ev_post, count

    return solve


def _pk_rhs(t, y, p):
    return jnp.stack([-y[0] * p[0] / p[1]])  # symflow's generated expression, same rounding


def pk_window(ts, tau, t1):
    """The most save times one dosing interval [t_k, t_{k+1}) holds (t1 counted in the last)."""
    ts = np.asarray(ts)
    k = np.minimum(np.floor(ts / tau), np.floor((t1 - 1e-12) / tau)).astype(int)
    return int(np.bincount(k).max())


def pk_twin(ts, t1, *, save="grid", loop="lax", doses=PK_DOSES, tau=PK_P["tau"],
            dt0="heuristic"):
    """`p = [CL, V, D, tau] -> (ys (n, 1), dose times, before, after, count)` of the
    multi-dose model, by hand (module docstring): one segment per dosing interval.
    `loop`: `lax` (`lax.while_loop`, forward) or `scan` (`lax.scan` over the
    `doses` intervals, reverse mode). The dose times are k * p[3]; `tau` fixes the
    static window of save times per interval."""
    ts_np = np.asarray(ts, dtype=float)
    n = len(ts_np)
    w = pk_window(ts_np, tau, t1)
    ts_j = jnp.asarray(ts_np)
    ts_pad = jnp.concatenate([ts_j, jnp.full((w,), t1)])
    term = diffrax.ODETerm(lambda t, y, p: _pk_rhs(t, y, p))
    solver = diffrax.Tsit5()
    controller = diffrax.PIDController(rtol=RTOL, atol=ATOL)
    zero = jnp.int64(0)
    first_step = initial_step(term, solver, controller, dt0)

    def solve(p):
        def segment(c, k):
            y, ysbuf, ev_t, ev_pre, ev_post = c
            t = k * p[3]
            t_next = jnp.minimum((k + 1) * p[3], t1)
            after = y + p[2]
            ev_t = ev_t.at[k].set(t)
            ev_pre = ev_pre.at[k].set(y)
            ev_post = ev_post.at[k].set(after)
            if save == "grid":
                start = jnp.searchsorted(ts_j, t, side="left").astype(jnp.int64)
                ts_seg = jnp.minimum(lax.dynamic_slice(ts_pad, (start,), (w,)), t_next)
                saveat = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts_seg),
                                              diffrax.SubSaveAt(t1=True)])
            else:
                saveat = diffrax.SaveAt(t1=True)
            sol = diffrax.diffeqsolve(term, solver, t, t_next, first_step(t, t_next, after, p),
                                      after, args=p, saveat=saveat,
                                      stepsize_controller=controller,
                                      max_steps=SEGMENT_MAX_STEPS, throw=False)
            if save == "grid":
                y_end = sol.ys[1][-1]
                last = t_next >= t1
                keep = (((ts_seg < t_next) | (last & (ts_seg <= t1)))
                        & (start + jnp.arange(w) < n))
                old = lax.dynamic_slice(ysbuf, (start, zero), (w, 1))
                ysbuf = lax.dynamic_update_slice(
                    ysbuf, jnp.where(keep[:, None], sol.ys[0], old), (start, zero))
            else:
                y_end = sol.ys[-1]
            return (y_end, ysbuf, ev_t, ev_pre, ev_post)

        nbuf = n + w if save == "grid" else 1
        y0 = jnp.zeros((1,))
        c0 = (y0, jnp.full((nbuf, 1), jnp.nan), jnp.full((doses,), jnp.nan),
              jnp.full((doses, 1), jnp.nan), jnp.full((doses, 1), jnp.nan))
        if loop == "lax":
            def body(c):
                k, inner = c
                return k + 1, segment(inner, k)
            _, out = lax.while_loop(lambda c: c[0] * p[3] < t1, body, (jnp.asarray(0), c0))
        else:
            out, _ = lax.scan(lambda c, k: (segment(c, k), None), c0, jnp.arange(doses))
        y_end, ysbuf, ev_t, ev_pre, ev_post = out
        # right-continuous: the save at t0 holds the state after the first dose
        ys = ysbuf[:n] if save == "grid" else jnp.stack([y0 + p[2], y_end])
        return ys, ev_t, ev_pre, ev_post, jnp.asarray(doses)

    return solve


# ----------------------------------------------------------------------- scipy


def ball_scipy(ts, t1, p=BALL_P, *, save="grid", method="RK45"):
    """The ball with `solve_ivp`: terminal event on h (falling), reset, restart.
    Returns (ys (n, 3) or the final state, event times)."""
    g, r = p["g"], p["r"]

    def rhs(t, y):
        return [y[1], -g, 0.0]

    def hit(t, y):
        return y[0]

    hit.terminal, hit.direction = True, -1
    ts = np.asarray(ts, dtype=float)
    ys = np.full((len(ts), 3), np.nan)
    t, y, events = float(ts[0]), np.array([p["h0"], 0.0, 0.0]), []
    while True:
        if save == "grid":
            sel = np.nonzero(ts >= t)[0]
            sol = solve_ivp(rhs, (t, t1), y, method=method, events=hit, t_eval=ts[sel],
                            rtol=RTOL, atol=ATOL)
            if len(sol.t):  # none when the flight holds no save time
                ys[sel[:len(sol.t)]] = np.asarray(sol.y).T
        else:
            sol = solve_ivp(rhs, (t, t1), y, method=method, events=hit, rtol=RTOL,
                            atol=ATOL)
        if sol.status != 1:
            y = sol.y[:, -1]
            break
        t = float(sol.t_events[0][0])
        pre = sol.y_events[0][0]
        events.append(t)
        y = np.array([pre[0], -r * pre[1], pre[2] + 1.0])
    if save == "grid":
        return ys, np.array(events)
    return y, np.array(events)


def pk_scipy(ts, t1, p=PK_P, *, save="grid", method="RK45"):
    """Multi-dose PK with one `solve_ivp` per dosing interval. Returns (ys or final A,
    dose times)."""
    k_el = p["CL"] / p["V"]

    def rhs(t, y):
        return -k_el * y

    ts = np.asarray(ts, dtype=float)
    ys = np.full((len(ts), 1), np.nan)
    a, times, k = 0.0, [], 0
    while k * p["tau"] < t1:
        t, t_next = k * p["tau"], min((k + 1) * p["tau"], t1)
        a += p["D"]
        times.append(t)
        if save == "grid":
            last = t_next >= t1
            sel = np.nonzero((ts >= t) & ((ts < t_next) | (last & (ts <= t1))))[0]
            t_eval = np.append(ts[sel], t_next) if ts[sel[-1]] < t_next else ts[sel]
            sol = solve_ivp(rhs, (t, t_next), [a], method=method, t_eval=t_eval,
                            rtol=RTOL, atol=ATOL)
            ys[sel] = sol.y.T[:len(sel)]
        else:
            sol = solve_ivp(rhs, (t, t_next), [a], method=method, rtol=RTOL, atol=ATOL)
        a = float(sol.y[0, -1])
        k += 1
    return (ys if save == "grid" else np.array([a])), np.array(times)


# ----------------------------------------------------------------------- helpers


def capture_call(m, kwargs):
    """Run `m.simulate(**kwargs)` once and capture what it hands to the jitted solve
    (run.py's `capture_call`, with the parameters inside `kwargs`)."""
    seen = {}
    original = m.runner.simulator.run

    def spy(config, params, initial, ts, *, timings=None):
        seen.update(config=config, params=params, initial=initial, ts=ts)
        return original(config, params, initial, ts, timings=timings)

    m.runner.simulator.run = spy  # an instance attribute, removed below
    try:
        m.simulate(**kwargs)
    finally:
        del m.runner.simulator.run
    return seen


def median(xs):
    return statistics.median(xs)


def rel(a, b, floor=1e-300):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


def interleaved(fns, repeats, sample_s, rng):
    """Median (and min, max) per-call seconds of each of `fns`, shuffled every round."""
    numbers = {k: calibrate(f, sample_s) for k, f in fns.items()}
    samples = {k: [] for k in fns}
    order = list(fns)
    for _ in range(repeats):
        rng.shuffle(order)
        for k in order:
            samples[k].append(per_call(fns[k], numbers[k]))
    return {k: {"median_s": median(v), "min_s": min(v), "max_s": max(v),
                "calls_per_sample": numbers[k]} for k, v in samples.items()}


def lower_compile(fn, *args):
    """(trace+lower s, XLA compile s, compiled) of `jax.jit(fn)` at `args`."""
    start = time.perf_counter()
    lowered = jax.jit(fn).lower(*args)
    mid = time.perf_counter()
    compiled = lowered.compile()
    return mid - start, time.perf_counter() - mid, compiled


def compile_rounds(contenders, repeats):
    """Each contender: a function returning (trace+lower s, XLA compile s), all of them
    already compiled once in this process (the checks before the timing are run.py's
    discarded warm-up round: JAX's and diffrax's first-use costs are paid), every call
    on freshly built functions. `repeats` rounds, the order reversed every other round;
    medians of each part and of their sum."""
    names = list(contenders)
    pairs = {k: [] for k in names}
    for i in range(repeats):
        for k in (names if i % 2 == 0 else names[::-1]):
            pairs[k].append(contenders[k]())
    return {k: {"trace_s": median([a for a, _ in v]), "xla_s": median([b for _, b in v]),
                "total_s": median([a + b for a, b in v]),
                "rounds": [list(p) for p in v]} for k, v in pairs.items()}


def symflow_compile(text, kwargs):
    """trace+lower and XLA compile of `simulate` on a freshly loaded model."""
    m = symflow.loads(text)
    tm = {}
    m.simulate(timings=tm, **kwargs)
    return tm["trace"], tm["xla compile"]


def symflow_grad_compile(text, loss_of_model, args):
    m = symflow.loads(text)
    a, b, _ = lower_compile(jax.grad(loss_of_model(m), argnums=tuple(range(len(args)))), *args)
    return a, b


def twin_compile(make, args):
    a, b, _ = lower_compile(make(), *args)
    return a, b


# ----------------------------------------------------------------------- ball


def ball_kwargs(t1, nsave):
    return dict(params={"r": BALL_P["r"]}, tspan=(0.0, t1), saveat=nsave, rtol=RTOL,
                atol=ATOL)


def ball_loss_of_model(t1):
    def of(m):
        def loss(r):
            sol = m.simulate(params={"r": r}, tspan=(0.0, t1), saveat=BALL_NSAVE, rtol=RTOL,
                             atol=ATOL)
            return jnp.sum(sol["h"])
        return loss
    return of


def ball_twin_loss(ts, t1):
    solve = ball_twin(ts, t1, save="grid", loop="checkpointed")

    def loss(r):
        return jnp.sum(solve(jnp.stack([jnp.asarray(BALL_P["g"]), r,
                                        jnp.asarray(BALL_P["h0"])]))[0][:, 0])
    return loss


def bench_ball(repeats, compile_repeats, sample_s, rng, log):
    t1, nb = BALL_T1[100], 100
    text = model_text(BALL_FILE)
    m = symflow.loads(text)
    exact = ball_bounce_times()
    r = {"problem": "bouncing ball, 100 bounces", "t1": t1, "n_save": BALL_NSAVE}
    p = jnp.array([BALL_P["g"], BALL_P["r"], BALL_P["h0"]])
    variants = {"grid": BALL_NSAVE, "minimal": 2}
    fns, checks = {}, {}
    for save, nsave in variants.items():
        kwargs = ball_kwargs(t1, nsave)
        sol = m.simulate(**kwargs)
        ts = np.asarray(sol.t)
        seen = capture_call(m, kwargs)
        assert np.array_equal(np.asarray(seen["ts"]), ts)
        twin = jax.jit(ball_twin(ts, t1, save=save))
        out = jax.block_until_ready(twin(p))
        n_tw = int(out[4])
        sym_t = np.asarray(sol.events.times)
        tw_t = np.asarray(out[1])[:n_tw]
        sym_y = np.stack([np.asarray(sol[k]) for k in ("h", "v", "bounces")], axis=1)
        tw_y = np.asarray(out[0])
        sp_y, sp_t = ball_scipy(ts, t1, save=save)
        c = {
            "events symflow / twin / scipy / exact": (len(sol.events), n_tw, len(sp_t),
                                                      int(np.sum(exact < t1))),
            "bounce times max |symflow - twin|": float(np.max(np.abs(sym_t - tw_t))),
            "bounce times max |symflow - exact|": float(np.max(np.abs(sym_t - exact[:nb]))),
            "bounce times max |scipy - symflow|": float(np.max(np.abs(sp_t - sym_t))),
            "states before events max |symflow - twin|": float(np.max(np.abs(
                np.asarray(sol.events.pre)[:nb] - np.asarray(out[2])[:nb]))),
            "saved states max |symflow - twin|": float(np.max(np.abs(sym_y - tw_y))),
            "saved h max |scipy - symflow|": float(np.max(np.abs(
                (sp_y[:, 0] if save == "grid" else sp_y[0]) - sym_y[-1 if save != "grid"
                                                                    else slice(None), 0]))),
            "smallest gap between bounces / Zeno window": float(
                np.min(np.diff(sym_t)) / (1e-9 * t1)),
        }
        assert len(sol.events) == n_tw == len(sp_t) == nb, c
        assert c["bounce times max |symflow - twin|"] < 1e-8, c
        assert c["saved states max |symflow - twin|"] < 1e-8, c
        assert c["bounce times max |scipy - symflow|"] < 1e-5, c
        checks[save] = c
        log(f"  ball, {save} saves ({nsave} points): " + _describe(c))
        fns.update(_contenders(save, m, kwargs, seen, twin, p,
                               lambda ts=ts, s=save, mt="RK45": ball_scipy(
                                   ts, t1, save=s, method=mt)))
    steps = steps_check("ball", text, ball_kwargs(t1, 2), t1, log)
    checks["rhs evaluations"] = steps
    r["checks"] = checks

    # gradients (loss = sum of h over the 2001-point grid, w.r.t. r)
    ts = np.asarray(m.simulate(**ball_kwargs(t1, BALL_NSAVE)).t)
    r0 = jnp.asarray(BALL_P["r"])
    sym_grad = jax.jit(jax.grad(ball_loss_of_model(t1)(m)))
    tw_grad = jax.jit(jax.grad(ball_twin_loss(ts, t1)))
    gs, gt = float(sym_grad(r0)), float(tw_grad(r0))
    ge = float(jax.grad(ball_exact_loss)(r0, jnp.asarray(ts)))
    h = 1e-6
    loss_sp = lambda rr: float(np.sum(ball_scipy(ts, t1, p={**BALL_P, "r": rr})[0][:, 0]))  # noqa: E731
    g_fd = (loss_sp(BALL_P["r"] + h) - loss_sp(BALL_P["r"] - h)) / (2 * h)
    r["gradient"] = {"symflow": gs, "twin": gt, "exact": ge, "scipy central difference": g_fd}
    log(f"  ball d(sum h)/dr: symflow {gs:.10g}, twin {gt:.10g} (rel {abs(gs - gt) / abs(gt):.1e}),"
        f" exact {ge:.10g} (rel {abs(gs - ge) / abs(ge):.1e}); scipy central difference "
        f"(h = 1e-6) {g_fd:.6g}: the loss has a kink wherever a save time crosses a bounce, "
        "so differences of it are not its derivative")
    assert abs(gs - gt) <= 1e-6 * abs(gt), r["gradient"]
    assert abs(gs - ge) <= 1e-6 * abs(ge), r["gradient"]
    fns["symflow gradient"] = lambda: jax.block_until_ready(sym_grad(r0))
    fns["twin gradient"] = lambda: jax.block_until_ready(tw_grad(r0))
    fns["scipy central difference (2 solves)"] = lambda: (loss_sp(BALL_P["r"] + h),
                                                          loss_sp(BALL_P["r"] - h))

    r["run"] = interleaved(fns, repeats, sample_s, rng)

    # compile: forward (both save variants) and gradient, fresh functions every round
    kw_grid, kw_min = ball_kwargs(t1, BALL_NSAVE), ball_kwargs(t1, 2)
    ts_min = np.array([0.0, t1])
    r["compile"] = compile_rounds({
        "symflow simulate, grid": lambda: symflow_compile(text, kw_grid),
        "twin, grid": lambda: twin_compile(lambda: ball_twin(ts, t1, save="grid"), (p,)),
        "symflow simulate, minimal": lambda: symflow_compile(text, kw_min),
        "twin, minimal": lambda: twin_compile(lambda: ball_twin(ts_min, t1, save="minimal"),
                                              (p,)),
        "symflow gradient": lambda: symflow_grad_compile(text, ball_loss_of_model(t1), (r0,)),
        "twin gradient": lambda: twin_compile(lambda: ball_twin_loss(ts, t1), (r0,)),
    }, compile_repeats)
    return r


def bench_ball_compile_vs_events(compile_repeats, log):
    """Compile of the ball for 10 and for 100 bounces: only the span changes."""
    text = model_text(BALL_FILE)
    out = {}
    for nb, t1 in sorted(BALL_T1.items()):
        m = symflow.loads(text)
        sol = m.simulate(**ball_kwargs(t1, BALL_NSAVE))
        assert len(sol.events) == nb, (nb, len(sol.events))
        out[nb] = {"t1": t1, "events": len(sol.events)}
    res = compile_rounds({
        f"symflow simulate, {nb} bounces": (
            lambda t1=t1: symflow_compile(text, ball_kwargs(t1, BALL_NSAVE)))
        for nb, t1 in sorted(BALL_T1.items())}, compile_repeats)
    for nb in out:
        out[nb].update(res[f"symflow simulate, {nb} bounces"])
    log("  ball compile vs events: " + ", ".join(
        f"{nb} bounces {fmt_s(v['total_s'])} (trace {fmt_s(v['trace_s'])}, XLA "
        f"{fmt_s(v['xla_s'])})" for nb, v in out.items()))
    return out


# ----------------------------------------------------------------------- pk


def pk_kwargs(nsave):
    return dict(tspan=(0.0, PK_T1), saveat=nsave, rtol=RTOL, atol=ATOL)


def pk_loss_of_model(m):
    def loss(cl, v):
        sol = m.simulate(params={"CL": cl, "V": v}, **pk_kwargs(PK_NSAVE))
        return jnp.sum(sol["C"])
    return loss


def pk_twin_loss(ts):
    solve = pk_twin(ts, PK_T1, save="grid", loop="scan")

    def loss(cl, v):
        p = jnp.stack([cl, v, jnp.asarray(PK_P["D"]), jnp.asarray(PK_P["tau"])])
        return jnp.sum(solve(p)[0][:, 0] / v)
    return loss


def bench_pk(repeats, compile_repeats, sample_s, rng, log):
    text = model_text(PK_FILE)
    m = symflow.loads(text)
    r = {"problem": "multi-dose PK, 50 doses", "t1": PK_T1, "n_save": PK_NSAVE}
    p = jnp.array([PK_P["CL"], PK_P["V"], PK_P["D"], PK_P["tau"]])
    fns, checks = {}, {}
    for save, nsave in {"grid": PK_NSAVE, "minimal": 2}.items():
        kwargs = pk_kwargs(nsave)
        sol = m.simulate(**kwargs)
        ts = np.asarray(sol.t)
        seen = capture_call(m, kwargs)
        twin = jax.jit(pk_twin(ts, PK_T1, save=save))
        out = jax.block_until_ready(twin(p))
        sym_c = np.asarray(sol["C"])
        tw_c = np.asarray(out[0])[:, 0] / PK_P["V"]
        sp_y, sp_t = pk_scipy(ts, PK_T1, save=save)
        sp_c = (sp_y[:, 0] if save == "grid" else sp_y) / PK_P["V"]
        # the exact concentration: a sum of decaying doses
        k_el = PK_P["CL"] / PK_P["V"]
        exact = np.array([sum(PK_P["D"] * np.exp(-k_el * (t - d)) for d in
                              np.arange(PK_DOSES) * PK_P["tau"] if d <= t) for t in ts])
        exact /= PK_P["V"]
        c = {
            "doses symflow / twin / scipy": (len(sol.events), int(out[4]), len(sp_t)),
            "dose times max |symflow - twin|": float(np.max(np.abs(
                np.asarray(sol.events.times) - np.asarray(out[1])))),
            "C max rel |symflow - twin|": rel(sym_c, tw_c, 1e-12),
            "C max rel |symflow - exact|": rel(sym_c, exact, 1e-12),
            "C max rel |scipy - symflow|": rel(sp_c, sym_c[-1] if save != "grid" else sym_c,
                                               1e-12),
        }
        assert len(sol.events) == int(out[4]) == len(sp_t) == PK_DOSES, c
        assert c["dose times max |symflow - twin|"] < 1e-8, c
        assert c["C max rel |symflow - twin|"] < 1e-8, c
        assert c["C max rel |scipy - symflow|"] < 1e-5, c
        checks[save] = c
        log(f"  pk, {save} saves ({nsave} points): " + _describe(c))
        fns.update(_contenders(save, m, kwargs, seen, twin, p,
                               lambda ts=ts, s=save, mt="RK45": pk_scipy(
                                   ts, PK_T1, save=s, method=mt)))
    checks["rhs evaluations"] = steps_check("pk", text, pk_kwargs(2), PK_T1, log)
    r["checks"] = checks

    ts = np.asarray(m.simulate(**pk_kwargs(PK_NSAVE)).t)
    args = (jnp.asarray(PK_P["CL"]), jnp.asarray(PK_P["V"]))
    sym_grad = jax.jit(jax.grad(pk_loss_of_model(m), argnums=(0, 1)))
    tw_grad = jax.jit(jax.grad(pk_twin_loss(ts), argnums=(0, 1)))
    gs = np.array([float(x) for x in sym_grad(*args)])
    gt = np.array([float(x) for x in tw_grad(*args)])

    def loss_sp(cl, v):
        return float(np.sum(pk_scipy(ts, PK_T1, p={**PK_P, "CL": cl, "V": v})[0][:, 0] / v))

    h = 1e-6
    g_fd = np.array([(loss_sp(PK_P["CL"] * (1 + h), PK_P["V"])
                      - loss_sp(PK_P["CL"] * (1 - h), PK_P["V"])) / (2 * h * PK_P["CL"]),
                     (loss_sp(PK_P["CL"], PK_P["V"] * (1 + h))
                      - loss_sp(PK_P["CL"], PK_P["V"] * (1 - h))) / (2 * h * PK_P["V"])])
    r["gradient"] = {"symflow": gs.tolist(), "twin": gt.tolist(),
                     "scipy central difference": g_fd.tolist()}
    log(f"  pk d(sum C)/d(CL, V): symflow {gs}, twin {gt} (rel {rel(gs, gt):.1e}), "
        f"scipy central difference {g_fd}")
    assert rel(gs, gt) <= 1e-6, r["gradient"]
    fns["symflow gradient"] = lambda: jax.block_until_ready(sym_grad(*args))
    fns["twin gradient"] = lambda: jax.block_until_ready(tw_grad(*args))
    fns["scipy central difference (4 solves)"] = lambda: (
        loss_sp(PK_P["CL"] * (1 + h), PK_P["V"]), loss_sp(PK_P["CL"] * (1 - h), PK_P["V"]),
        loss_sp(PK_P["CL"], PK_P["V"] * (1 + h)), loss_sp(PK_P["CL"], PK_P["V"] * (1 - h)))

    r["run"] = interleaved(fns, repeats, sample_s, rng)

    kw_grid, kw_min = pk_kwargs(PK_NSAVE), pk_kwargs(2)
    ts_min = np.array([0.0, PK_T1])
    r["compile"] = compile_rounds({
        "symflow simulate, grid": lambda: symflow_compile(text, kw_grid),
        "twin, grid": lambda: twin_compile(lambda: pk_twin(ts, PK_T1, save="grid"), (p,)),
        "symflow simulate, minimal": lambda: symflow_compile(text, kw_min),
        "twin, minimal": lambda: twin_compile(lambda: pk_twin(ts_min, PK_T1, save="minimal"),
                                              (p,)),
        "symflow gradient": lambda: symflow_grad_compile(text, pk_loss_of_model, args),
        "twin gradient": lambda: twin_compile(lambda: pk_twin_loss(ts), args),
    }, compile_repeats)
    return r


# ----------------------------------------------------------------------- profile


class _Counter:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += int(np.sum(k))


def _counted(fn, counter):
    """`fn` that counts its calls in `counter` through a host callback."""
    def wrapped(t, y, p):
        jax.debug.callback(counter.add, jnp.asarray(1))
        return fn(t, y, p)
    return wrapped


def symflow_rhs_count(text, kwargs):
    """Right-hand-side evaluations of one `simulate` of a fresh model whose generated
    rhs counts its calls (six per Tsit5 step, two for the initial-step heuristic and
    one for the first stage at every (re)start)."""
    m = symflow.loads(text)
    sim = m.runner.simulator
    counter = _Counter()
    sim.generated = dataclasses.replace(sim.generated, rhs=_counted(sim.generated.rhs, counter))
    m.simulate(**kwargs)
    jax.effects_barrier()
    return counter.n


def twin_rhs_count(kind, ts, t1, dt0="heuristic"):
    """Right-hand-side evaluations of one twin solve."""
    global _ball_rhs, _pk_rhs
    counter = _Counter()
    saved = _ball_rhs, _pk_rhs
    try:
        if kind == "ball":
            _ball_rhs = _counted(saved[0], counter)
            p = jnp.array([BALL_P["g"], BALL_P["r"], BALL_P["h0"]])
            jax.block_until_ready(jax.jit(ball_twin(ts, t1, save="minimal", dt0=dt0))(p))
        else:
            _pk_rhs = _counted(saved[1], counter)
            p = jnp.array([PK_P["CL"], PK_P["V"], PK_P["D"], PK_P["tau"]])
            jax.block_until_ready(jax.jit(pk_twin(ts, t1, save="minimal", dt0=dt0))(p))
        jax.effects_barrier()
    finally:
        _ball_rhs, _pk_rhs = saved
    return counter.n


def steps_check(kind, text, kwargs, t1, log):
    """Assert that symflow and the twin take the same steps: the same number of
    right-hand-side evaluations in one solve (minimal saves), within the two of
    symflow's start before a dose at t0. (The step sequences were compared one by
    one when this benchmark was written: equal to the last digit.)"""
    sym = symflow_rhs_count(text, kwargs)
    twin = twin_rhs_count(kind, np.array([0.0, t1]), t1)
    log(f"  {kind}: right-hand-side evaluations per solve: symflow {sym}, twin {twin}")
    assert abs(sym - twin) <= 2, (sym, twin)
    return {"symflow": sym, "twin": twin}


def concurrent_runs(fn):
    """How many times one call of `fn` runs a thunk sequence through XLA:CPU's concurrent
    `ThunkExecutor` (the "ThunkExecutor::Execute" events of a `jax.profiler` trace;
    load-independent). XLA runs a sequence (a loop body, a branch) in the caller's
    thread, one thunk after the other, only if every buffer its thunks use is at most
    512 bytes (`execute_sequential_buffer_threshold`) or it has at most 8 thunks;
    otherwise each run goes through its task runner, which costs microseconds.
    None if tracing is not available."""
    import glob
    import gzip
    import tempfile
    try:
        fn()
        with tempfile.TemporaryDirectory() as folder:
            with jax.profiler.trace(folder):
                fn()
            trace = glob.glob(os.path.join(folder, "**", "*.trace.json.gz"), recursive=True)
            with gzip.open(trace[0]) as f:
                events = json.load(f)["traceEvents"]
    except Exception:  # noqa: BLE001 - a missing profiler plugin, an unreadable trace
        return None
    return sum(1 for e in events
               if e.get("ph") == "X" and e.get("name") == "ThunkExecutor::Execute")


try:  # for the ablation below only; absent if symflow's loop moves
    from symflow.solve.events import hybrid as _hybrid
    _hybrid.buffer_at_set  # noqa: B018
except (ImportError, AttributeError):
    _hybrid = None


@contextlib.contextmanager
def without_event_log(m):
    """An ablation, not a usable solve: while tracing `m`'s solve, the loop's writes into
    the event log (buffers with `max_events` rows) are skipped (symflow's module-level
    `buffer_at_set` patched in memory; nothing on disk changes), the rest unchanged:
    what the log costs. The saved trajectory stays right; the log holds NaN. A
    log buffer is one of `max_events` rows, or one more (a spare row)."""
    original = _hybrid.buffer_at_set
    rows = m.runner.model.settings.max_events

    def patched(buffer, index, value, **kwargs):
        if getattr(buffer, "shape", (None,))[0] in (rows, rows + 1):
            return buffer
        return original(buffer, index, value, **kwargs)

    _hybrid.buffer_at_set = patched
    try:
        yield
    finally:
        _hybrid.buffer_at_set = original


def bench_profile(repeats, sample_s, rng, log):
    """Where symflow's solve time goes: its bare jitted solve under settings a user can
    change (the model's `event_samples` and `max_events`, `adjoint="forward"` for the
    plain loop), against the twin with symflow's initial steps and with diffrax's."""
    out = {}
    for kind, path, t1, nsave, params, small in (
            ("ball", BALL_FILE, BALL_T1[100], BALL_NSAVE, {"r": BALL_P["r"]}, 128),
            # pk: 64 rows of one state are 512 bytes, XLA's threshold (`concurrent_runs`)
            ("pk", PK_FILE, PK_T1, PK_NSAVE, {}, 64)):
        variants = {
            "default (event_samples 3, max_events 1000, checkpointed loop)": ({}, {}),
            "event_samples 0": ({"event_samples": 0}, {}),
            "adjoint='forward' (the plain lax.while_loop)": ({}, {"adjoint": "forward"}),
            f"max_events {small}": ({"max_events": small}, {}),
            **({f"max_events {small + 1}": ({"max_events": small + 1}, {})} if kind == "pk"
               else {}),
            f"max_events {small}, event_samples 0": (
                {"max_events": small, "event_samples": 0}, {}),
            f"max_events {small}, event_samples 0, adjoint='forward'": (
                {"max_events": small, "event_samples": 0}, {"adjoint": "forward"}),
        }
        if _hybrid is not None:
            variants["ablation: event log not written"] = ({}, {}, "no log")
            variants["ablation: event log not written, event_samples 0"] = (
                {"event_samples": 0}, {}, "no log")
        fns, res = {}, {}
        for name, (settings, extra, *ablation) in variants.items():
            text = model_text(path, **settings)
            for save, n in (("grid", nsave), ("minimal", 2)):
                kwargs = dict(params=params, tspan=(0.0, t1), saveat=n, rtol=RTOL, atol=ATOL,
                              **extra)
                m = symflow.loads(text)
                with (without_event_log(m) if ablation else contextlib.nullcontext()):
                    sol = m.simulate(**kwargs)
                    seen = capture_call(m, kwargs)
                    bare = m.runner.simulator.primal_fn(seen["config"])
                    # trace and compile now, while the patch is on
                    bare.lower(seen["params"], seen["initial"], seen["ts"])
                    jax.block_until_ready(bare(seen["params"], seen["initial"], seen["ts"]))
                key = f"{name}, {save}"
                res[key] = {"events": len(sol.events)}
                fns[key] = (lambda b=bare, s=seen: jax.block_until_ready(
                    b(s["params"], s["initial"], s["ts"]).values))
                res[key]["concurrent executor runs"] = concurrent_runs(fns[key])
        p_tw = (jnp.array([BALL_P["g"], BALL_P["r"], BALL_P["h0"]]) if kind == "ball"
                else jnp.array([PK_P["CL"], PK_P["V"], PK_P["D"], PK_P["tau"]]))
        make = ball_twin if kind == "ball" else pk_twin
        for name, dt0 in (("twin", "heuristic"), ("twin with dt0=None (diffrax's 0.01)",
                                                  "diffrax")):
            for save, n in (("grid", nsave), ("minimal", 2)):
                tw = jax.jit(make(np.linspace(0.0, t1, n), t1, save=save, dt0=dt0))
                fns[f"{name}, {save}"] = lambda f=tw: jax.block_until_ready(f(p_tw))
                res[f"{name}, {save}"] = {"concurrent executor runs": concurrent_runs(
                    fns[f"{name}, {save}"])}
        times = interleaved(fns, repeats, sample_s, rng)
        for k in res:
            res[k].update(times[k])
        minimal = dict(params=params, tspan=(0.0, t1), saveat=2, rtol=RTOL, atol=ATOL)
        counts = {"symflow": symflow_rhs_count(model_text(path), minimal),
                  "twin": twin_rhs_count(kind, np.array([0.0, t1]), t1),
                  "twin with dt0=None (diffrax's 0.01)": twin_rhs_count(
                      kind, np.array([0.0, t1]), t1, dt0="diffrax")}
        out[kind] = {"variants": res, "rhs_evaluations": counts}
        log(f"  profile {kind}: right-hand-side evaluations per solve {counts}; "
            "concurrent ThunkExecutor runs per solve " + ", ".join(
                f"{k}: {v['concurrent executor runs']}" for k, v in res.items()))
    return out


# ----------------------------------------------------------------------- output


def _ratio(a, b):
    return f"{a / b:.2f}x"


def table(results):
    lines = []
    for key in ("ball", "pk"):
        if key not in results:
            continue
        r = results[key]
        run, comp = r["run"], r["compile"]
        lines += [f"\n{r['problem']} (t1 = {r['t1']:g}, {r['n_save']} save points or "
                  "minimal: t0, t1 and the event log)\n",
                  "| | full grid | minimal saves | gradient |", "|---|---:|---:|---:|"]

        def row(label, g, mn, gr):
            lines.append(f"| {label} | {g} | {mn} | {gr} |")

        def t(name):
            return run[name]["median_s"] if name in run else None

        scipy_fd = next(k for k in run if k.startswith("scipy central"))
        row("symflow `m.simulate` per call", fmt_s(t("symflow simulate, grid")),
            fmt_s(t("symflow simulate, minimal")), fmt_s(t("symflow gradient")))
        row("symflow bare jitted solve", fmt_s(t("symflow bare solve, grid")),
            fmt_s(t("symflow bare solve, minimal")), "")
        row("hand-written twin (diffrax)", fmt_s(t("twin, grid")), fmt_s(t("twin, minimal")),
            fmt_s(t("twin gradient")))
        row("scipy RK45", fmt_s(t("scipy RK45, grid")), fmt_s(t("scipy RK45, minimal")),
            f"{fmt_s(t(scipy_fd))} ({scipy_fd[6:]})")
        row("scipy DOP853", fmt_s(t("scipy DOP853, grid")), fmt_s(t("scipy DOP853, minimal")),
            "")
        row("**symflow / twin** (simulate)",
            _ratio(t("symflow simulate, grid"), t("twin, grid")),
            _ratio(t("symflow simulate, minimal"), t("twin, minimal")),
            _ratio(t("symflow gradient"), t("twin gradient")))
        row("symflow / twin (bare solve)",
            _ratio(t("symflow bare solve, grid"), t("twin, grid")),
            _ratio(t("symflow bare solve, minimal"), t("twin, minimal")), "")
        row("symflow / scipy RK45 (simulate)",
            _ratio(t("symflow simulate, grid"), t("scipy RK45, grid")),
            _ratio(t("symflow simulate, minimal"), t("scipy RK45, minimal")),
            _ratio(t("symflow gradient"), t(scipy_fd)))
        row("compile, trace+lower / XLA: symflow",
            f"{fmt_s(comp['symflow simulate, grid']['trace_s'])} / "
            f"{fmt_s(comp['symflow simulate, grid']['xla_s'])}",
            f"{fmt_s(comp['symflow simulate, minimal']['trace_s'])} / "
            f"{fmt_s(comp['symflow simulate, minimal']['xla_s'])}",
            f"{fmt_s(comp['symflow gradient']['trace_s'])} / "
            f"{fmt_s(comp['symflow gradient']['xla_s'])}")
        row("compile, trace+lower / XLA: twin",
            f"{fmt_s(comp['twin, grid']['trace_s'])} / {fmt_s(comp['twin, grid']['xla_s'])}",
            f"{fmt_s(comp['twin, minimal']['trace_s'])} / "
            f"{fmt_s(comp['twin, minimal']['xla_s'])}",
            f"{fmt_s(comp['twin gradient']['trace_s'])} / "
            f"{fmt_s(comp['twin gradient']['xla_s'])}")
        row("**compile symflow / twin** (total)",
            _ratio(comp["symflow simulate, grid"]["total_s"], comp["twin, grid"]["total_s"]),
            _ratio(comp["symflow simulate, minimal"]["total_s"],
                   comp["twin, minimal"]["total_s"]),
            _ratio(comp["symflow gradient"]["total_s"], comp["twin gradient"]["total_s"]))
        row("compile symflow / scipy", "n/a (nothing to compile)", "n/a", "n/a")
    if "compile_vs_events" in results:
        c = results["compile_vs_events"]
        lines += ["\nBall compile against the number of events (only the span changes; "
                  "symflow `simulate`, 2001 saves)\n",
                  "| bounces | t1 | trace+lower | XLA compile | total |",
                  "|---:|---:|---:|---:|---:|"]
        for nb, v in c.items():
            lines.append(f"| {v['events']} | {v['t1']:g} | {fmt_s(v['trace_s'])} | "
                         f"{fmt_s(v['xla_s'])} | {fmt_s(v['total_s'])} |")
        ks = list(c)
        lines.append(f"\nratio {ks[-1]} / {ks[0]} bounces: "
                     f"{c[ks[-1]]['total_s'] / c[ks[0]]['total_s']:.2f}x")
    if "profile" in results:
        for kind, pr in results["profile"].items():
            v = pr["variants"]
            lines += [f"\nWhere symflow's time goes, {kind}: bare jitted solve (median)\n",
                      "| variant | full grid | minimal | / twin (grid) | / twin (minimal) | "
                      "concurrent executor runs (grid / minimal) |",
                      "|---|---:|---:|---:|---:|---:|"]
            for name in dict.fromkeys(k.rsplit(", ", 1)[0] for k in v):
                g, mn = v[f"{name}, grid"]["median_s"], v[f"{name}, minimal"]["median_s"]
                runs = (f"{v[f'{name}, grid']['concurrent executor runs']} / "
                        f"{v[f'{name}, minimal']['concurrent executor runs']}")
                lines.append(f"| {name} | {fmt_s(g)} | {fmt_s(mn)} | "
                             f"{_ratio(g, v['twin, grid']['median_s'])} | "
                             f"{_ratio(mn, v['twin, minimal']['median_s'])} | {runs} |")
            lines.append("\nright-hand-side evaluations per solve: " + ", ".join(
                f"{k} {n}" for k, n in pr["rhs_evaluations"].items()))
    return "\n".join(lines)


def git_state():
    """The commit of the symflow checkout measured, and whether symflow/ has local changes."""
    import subprocess
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "symflow"], cwd=ROOT,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (symflow/ modified)" if dirty else "")


def _describe(checks: dict) -> str:
    """The checks of one variant, on one log line."""
    return "; ".join(f"{k} {v if isinstance(v, tuple) else format(v, '.2e')}"
                     for k, v in checks.items())


def _contenders(save: str, m, kwargs: dict, seen: dict, twin, p, scipy_call) -> dict:
    """The timed calls of one save variant: symflow's `simulate` and its bare solve
    (`primal_fn`), the twin, and scipy with RK45 and DOP853 (`scipy_call(mt=...)`)."""
    bare = m.runner.simulator.primal_fn(seen["config"])
    fns = {
        f"symflow simulate, {save}": (
            lambda kw=kwargs: jax.block_until_ready(m.simulate(**kw).values)),
        f"symflow bare solve, {save}": (
            lambda: jax.block_until_ready(
                bare(seen["params"], seen["initial"], seen["ts"]).values)),
        f"twin, {save}": lambda: jax.block_until_ready(twin(p)),
    }
    for method in ("RK45", "DOP853"):
        fns[f"scipy {method}, {save}"] = lambda mt=method: scipy_call(mt=mt)
    return fns


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=15,
                    help="interleaved rounds for the run-time medians (default 15)")
    ap.add_argument("--compile-repeats", type=int, default=1,
                    help="compile rounds, after the checks compiled everything once (default 1)")
    ap.add_argument("--sample-ms", type=float, default=20.0,
                    help="length of one run-time sample in ms (default 20)")
    ap.add_argument("parts", nargs="*", metavar="part",
                    help=f"which parts (default: {' '.join(DEFAULT_PARTS)}); `profile`: "
                         "where symflow's time goes (about 3 more minutes)")
    ap.add_argument("--json", default=None,
                    help="where to write the JSON (default benchmarks/results/"
                         "<date>-events.json, <date>-events-<parts>.json for other parts)")
    ap.add_argument("--no-save", action="store_true", help="write no JSON")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.compile_repeats < 1:
        ap.error("repeats must be at least 1")
    if set(args.parts) - set(PARTS):
        ap.error(f"unknown part(s) {sorted(set(args.parts) - set(PARTS))}: choose from {PARTS}")

    started = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - started:5.0f} s] {msg}" if msg.startswith("  ")
              else msg, flush=True)

    load0 = tuple(round(x, 2) for x in os.getloadavg())
    log(f"python {platform.python_version()}, jax {jax.__version__}, diffrax "
        f"{diffrax.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, JAX device "
        f"{jax.devices()[0]}; repeats {args.repeats}, compile repeats "
        f"{args.compile_repeats}, sample {args.sample_ms:g} ms; symflow at {git_state()}; "
        f"load average {load0}")
    rng = random.Random(args.seed)
    results = {}
    parts = args.parts or DEFAULT_PARTS
    if "ball" in parts:
        results["ball"] = bench_ball(args.repeats, args.compile_repeats, args.sample_ms / 1e3,
                                     rng, log)
    if "compile" in parts:
        results["compile_vs_events"] = bench_ball_compile_vs_events(args.compile_repeats, log)
    if "pk" in parts:
        results["pk"] = bench_pk(args.repeats, args.compile_repeats, args.sample_ms / 1e3,
                                 rng, log)
    if "profile" in parts:
        results["profile"] = bench_profile(args.repeats, args.sample_ms / 1e3, rng, log)
    load1 = tuple(round(x, 2) for x in os.getloadavg())
    results["meta"] = {"symflow_commit": git_state(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/events.py " + " ".join(sys.argv[1:] if argv is None
                                                             else argv),
        "load_start": load0, "load_end": load1, "wall_s": time.perf_counter() - started,
        "python": platform.python_version(), "jax": jax.__version__,
        "diffrax": diffrax.__version__, "rtol": RTOL, "atol": ATOL,
    }
    log(f"\nload average (1, 5, 15 min) at start {load0}, at end {load1}; "
        f"wall {results['meta']['wall_s']:.0f} s")
    print(table(results))
    if not args.no_save:
        suffix = "" if parts == DEFAULT_PARTS else "-" + "-".join(parts)
        path = args.json or os.path.join(
            HERE, "results",
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d}-events{suffix}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1, default=lambda o: o.tolist()
                      if hasattr(o, "tolist") else str(o))
        log(f"\nJSON: {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
