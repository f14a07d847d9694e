"""What `fit` and `train` share: bounds, the optax loop, reading a solution at the data.

**Bounds.** A fitted or trained parameter declared `in [lo, hi]` is kept inside
its bounds in one of two ways, both by `Bounds`: `fit` optimises an
unconstrained coordinate `z` mapped onto the bounds (`to_natural`, `to_free`),
`train` projects back into them after each optax step (`project`).

**The optax loop.** `run_optax` drives an `OptaxDescent` (optimistix's shape:
`init`, `step`, `terminate`) for a fixed number of steps, with one compiled step,
optional mini-batches, the best point reached, and timings.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..errors import SymflowError
from ..lang import ast, parse
from ..lang.edit import Lines, apply_edits, format_number
from ._best import BestSoFar
from ._model import SimulatedModel

__all__ = ["Bounds", "bounds_of", "column", "data_rows", "OptaxDescent", "OptaxRun",
           "optax_step", "run_optax", "rewrite_defaults"]


# ---------------------------------------------------------------- bounds


@dataclasses.dataclass(frozen=True)
class Bounds:
    """`lo <= p <= hi` (either may be infinite), optionally in log space.

    The unconstrained coordinate `z` of `to_natural` / `to_free`:

    - both bounds finite: `p = lo + (hi - lo) * sigmoid(z)`;
    - only a lower bound: `p = lo + exp(z)`; only an upper: `p = hi - exp(z)`;
    - in log space: `p = exp(z)` (or the logistic map on `[log lo, log hi]` when
      `lo > 0`), with `p = hi * e^z / (hi + e^z)` when only `hi` is finite;
    - otherwise `p = z`.
    """

    lo: float = -math.inf
    hi: float = math.inf
    log: bool = False

    def to_natural(self, z):
        """The value `p` at the unconstrained coordinate `z` (traceable)."""
        lo, hi = self.lo, self.hi
        if self.log:
            if lo > 0 and math.isfinite(hi):
                a, b = math.log(lo), math.log(hi)
                return jnp.exp(a + (b - a) * jax.nn.sigmoid(z))
            if math.isfinite(hi):
                return hi * jax.nn.sigmoid(z - math.log(hi))
            return jnp.exp(z) + max(lo, 0.0) if lo > 0 else jnp.exp(z)
        if math.isfinite(lo) and math.isfinite(hi):
            return lo + (hi - lo) * jax.nn.sigmoid(z)
        if math.isfinite(lo):
            return lo + jnp.exp(z)
        if math.isfinite(hi):
            return hi - jnp.exp(z)
        return z

    def to_free(self, p: float) -> float:
        """The unconstrained coordinate `z` of a concrete value `p` (the inverse)."""
        lo, hi = self.lo, self.hi
        if self.log:
            if p <= 0:
                raise SymflowError(f"a value fitted in log space must be positive (got {p:g})")
            if lo > 0 and math.isfinite(hi):
                a, b = math.log(lo), math.log(hi)
                return _logit(min(max((math.log(p) - a) / (b - a), 1e-12), 1 - 1e-12))
            if math.isfinite(hi):
                return math.log(p) + math.log(hi / max(hi - p, 1e-300 * hi))
            return math.log(p - lo) if lo > 0 else math.log(p)
        if math.isfinite(lo) and math.isfinite(hi):
            return _logit(min(max((p - lo) / (hi - lo), 1e-12), 1 - 1e-12))
        if math.isfinite(lo):
            return math.log(max(p - lo, 1e-300))
        if math.isfinite(hi):
            return math.log(max(hi - p, 1e-300))
        return p

    def project(self, p):
        """`p` clipped into the bounds (traceable)."""
        return jnp.clip(p, self.lo, self.hi)


def _logit(u: float) -> float:
    return math.log(u / (1 - u))


def bounds_of(model: SimulatedModel, name: str, *, log: bool = False) -> Bounds | None:
    """The declared bounds of parameter `name` (`None` if it has none and `log` is
    false; a value fitted in log space without bounds is kept positive)."""
    for p in model.system.free_parameters:
        if p.name == name and p.bounds is not None:
            lo, hi = p.bounds
            return Bounds(float(lo), float(hi), log)
    return Bounds(0.0, math.inf, True) if log else None


# ---------------------------------------------------------------- solutions at the data


def column(sol, name: str):
    """A data column's model values from a solution (`z[1]` is an array element)."""
    if name.endswith("]") and "[" in name:
        base, index = name[:-1].split("[")
        return sol.values[base][:, int(index)]
    return sol.values[name]


def data_rows(ts: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The rows of the save times `ts` (increasing or decreasing) at the data times `t`."""
    if ts[-1] >= ts[0]:
        return np.searchsorted(ts, t)
    return len(ts) - 1 - np.searchsorted(ts[::-1], t)


# ---------------------------------------------------------------- the optax loop


@dataclasses.dataclass(frozen=True)
class OptaxDescent:
    """A first-order optax optimiser as optimistix shapes a solver: `init` its
    state, take a `step` (value and gradient of the loss, an update, then an
    optional projection, e.g. into bounds), `terminate` after `steps` steps."""

    transform: optax.GradientTransformation
    steps: int
    project: Callable[[Any], Any] | None = None

    def init(self, theta):
        """The optimiser state at the starting point."""
        return self.transform.init(theta)

    def step(self, loss: Callable[..., jax.Array], theta, state, *args):
        """One update: `(new theta, new state, loss at theta)`."""
        value, grad = jax.value_and_grad(loss)(theta, *args)
        updates, state = self.transform.update(grad, state, theta)
        theta = optax.apply_updates(theta, updates)
        if self.project is not None:
            theta = self.project(theta)
        return theta, state, value

    def terminate(self, taken: int) -> bool:
        """Whether the loop is done after `taken` steps (no convergence test: a
        first-order method runs its budget)."""
        return taken >= self.steps


@dataclasses.dataclass
class OptaxRun:
    """What `run_optax` reached: the last point and its optimiser state, the best
    point (the one of lowest finite loss, when tracked), every step's loss, the
    compiled step (to evaluate the loss at the last point), and timings."""

    theta: Any
    state: Any
    best: Any
    best_loss: float
    losses: np.ndarray
    step: Callable[..., tuple]
    compile_time: float
    step_times: list[float]
    total_time: float


def optax_step(descent: OptaxDescent, loss: Callable[..., jax.Array]) -> Callable[..., tuple]:
    """The compiled step of `run_optax`: `(theta, state, *args) -> (theta, state, loss)`
    (make it once and pass it as `step=` to reuse it across runs)."""
    return jax.jit(lambda theta, state, *args: descent.step(loss, theta, state, *args))


def run_optax(descent: OptaxDescent, loss: Callable[..., jax.Array], theta, *,
              batches: Callable[[int], tuple] = lambda k: (),
              track_best: bool = True, progress: bool = False,
              print_every: int = 100, step: Callable[..., tuple] | None = None,
              record: BestSoFar | None = None,
              point: Callable[[Any], Any] = lambda theta: theta) -> OptaxRun:
    """Minimise `loss(theta, *batches(k))` with `descent`, one compiled step per call.

    `batches(k)` gives step `k`'s extra arguments (mini-batch indices, say). The
    loss returned by a step is that of the point before its update, so the best
    point reached comes for free (`track_best`). Optax mixes integer counts and
    floats, so the loop runs under standard dtype promotion. `step` is a kept
    `optax_step(descent, loss)` (default: a new one). `record` keeps, as the loop
    runs, `point(theta)` of the best point (with `track_best`; else of the latest),
    for another thread to read.
    """
    if step is None:
        step = optax_step(descent, loss)
    with jax.numpy_dtype_promotion("standard"):
        state = descent.init(theta)
    losses = np.empty(descent.steps)
    times: list[float] = []
    compile_time = 0.0
    best, best_loss = theta, math.inf
    begin = time.perf_counter()
    k = 0
    while not descent.terminate(k):
        args = batches(k)
        t0 = time.perf_counter()
        with jax.numpy_dtype_promotion("standard"):
            new, state, value = step(theta, state, *args)
        losses[k] = float(value)
        if track_best and math.isfinite(losses[k]) and losses[k] < best_loss:
            best, best_loss = theta, float(losses[k])
        if record is not None:
            record.offer(k, losses[k] if track_best else None, functools.partial(point, theta))
        theta = new
        if k == 0:
            compile_time = time.perf_counter() - t0
        else:
            times.append(time.perf_counter() - t0)
        if progress and (k % print_every == 0 or k == descent.steps - 1):
            print(f"step {k:5d}  loss {losses[k]:.6g}", flush=True)
        k += 1
    return OptaxRun(theta=theta, state=state, best=best, best_loss=best_loss, losses=losses,
                    step=step, compile_time=compile_time, step_times=times,
                    total_time=time.perf_counter() - begin)


# ---------------------------------------------------------------- the model file


def rewrite_defaults(model: SimulatedModel, params: Mapping[str, float],
                     initial: Mapping[str, float]) -> str:
    """The model's file text with new default values written at their spans."""
    span = next((p.span for p in model.built.parameters), None)
    if span is None or not span.source:
        raise SymflowError("cannot write the model back: its source text is not known")
    text, file = span.source, span.file
    program = parse(text, file)
    target = next((m for m in program.models if m.name == model.built.name), None)
    if target is None:
        raise SymflowError(f"cannot find model {model.built.name} in {file} to rewrite")
    edits = []
    for decl in target.items("parameters"):
        if isinstance(decl, ast.Declaration) and decl.name in params:
            edits.append((decl.value.span, params[decl.name]))
    for var in target.items("variables"):
        if isinstance(var, ast.Variable) and var.name in initial and var.initial is not None:
            edits.append((var.initial.span, initial[var.name]))
    found = {n for n in (*params, *initial)}
    written = {d.name for d in target.items("parameters") if isinstance(d, ast.Declaration)
               } | {v.name for v in target.items("variables") if isinstance(v, ast.Variable)
                    and v.initial is not None}
    missing = sorted(found - written)
    if missing:
        raise SymflowError(f"cannot write {missing[0]!r} back: it is not declared with a value "
                           f"in model {target.name} of {file} (inherited or imported?)")
    lines = Lines(text)
    return apply_edits(text, [(*lines.span(s), format_number(value)) for s, value in edits])
