"""Inputs read from tables, at solve time: spans the tables must cover, and knots
the step-size controller must not step across blindly.

A table's interpolant is a polynomial between knots only: at a knot the value
(`previous`), the slope (`linear`) or a higher derivative (`cubic`, `monotone`)
jumps, and an adaptive step across it would lose the solver's order there (or,
for a zero-order hold, average the jump away without noticing). So adaptive
solves stop on every knot inside the span: `jump_ts` where the value or its
slope jumps (the solver then also re-evaluates the right-hand side after the
knot, rather than reusing the last evaluation before it), `step_ts` where the
interpolant is smooth to its first derivative at least. Fixed-step solvers step
as they are told.

A held input (`previous`) whose knot is an end of the span is read on the side
of the knot the span lies on: the right-hand side sees times strictly inside
the span (`inside_span`), so the last stages of a step that ends on a knot do
not read the value that starts there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from ..codegen import InputTable
from ..errors import SymflowError

__all__ = ["JUMPING", "check_input_span", "inside_span", "stop_at_knots"]

# interpolations whose value or first derivative jumps at the knots
JUMPING = ("previous", "linear")


def check_input_span(inputs: Sequence[InputTable], t0: float, t1: float) -> None:
    """Refuse a solve from `t0` to `t1` that leaves the table of an input with
    `extrapolation = error` (before anything is compiled)."""
    lo, hi = min(t0, t1), max(t0, t1)
    for table in inputs:
        a, b = table.span
        if table.extrapolation == "error" and (lo < a or hi > b):
            raise SymflowError(
                f"the time span [{t0:g}, {t1:g}] leaves the table of input "
                f"{table.name!r}: {table.file} covers t in [{a:g}, {b:g}]",
                help="solve within the table, extend the table, or write "
                     "`extrapolation = hold` to hold its end values outside it")


def stop_at_knots(controller: diffrax.AbstractStepSizeController,
                  inputs: Sequence[InputTable], t0: float, t1: float, *,
                  store_rejected_steps: int | None = None
                  ) -> diffrax.AbstractStepSizeController:
    """`controller`, made to step onto every knot strictly inside the span (a
    `ClipStepSizeController`, which also stores `store_rejected_steps` rejected steps
    if asked: an SDE with non-commuting noise); a fixed-step controller, or a span
    with no knot inside and nothing to store, as it is."""
    if not isinstance(controller, diffrax.AbstractAdaptiveStepSizeController):
        return controller
    lo, hi = min(t0, t1), max(t0, t1)

    def inside(tables) -> np.ndarray | None:
        knots = np.unique(np.concatenate([np.asarray(t.knots, dtype=float) for t in tables]
                                         or [np.zeros(0)]))
        knots = knots[(knots > lo) & (knots < hi)]
        return knots if knots.size else None

    jumps = inside([t for t in inputs if t.interpolation in JUMPING])
    steps = inside([t for t in inputs if t.interpolation not in JUMPING])
    if jumps is not None and steps is not None:  # a jump time need not be a step time too
        steps = steps[~np.isin(steps, jumps)]
        steps = steps if steps.size else None
    if jumps is None and steps is None and store_rejected_steps is None:
        return controller
    # the controller checks and stores its times as arrays: constants even when it is
    # built inside an outer trace (a jitted loss), whose tracers must not leak into the
    # cached solve
    with jax.ensure_compile_time_eval():
        return diffrax.ClipStepSizeController(controller, step_ts=steps, jump_ts=jumps,
                                              store_rejected_steps=store_rejected_steps)


def inside_span(rhs: Callable, inputs: Sequence[InputTable], t0: float, t1: float
                ) -> Callable:
    """`rhs(t, y, p)` evaluated at `t` moved strictly inside the span (by one rounding
    step at most) where a held input (`previous`) has a knot at an end of the span;
    `rhs` itself otherwise. A held input is continuous from the right: at a knot it
    has the value of the row that starts there, which belongs to the time after the
    knot. A solve that ends on that knot must read the row before it (and one that
    runs backwards from a knot, the row before it too), as it does at every knot
    inside the span, which the controller's `jump_ts` step around."""
    lo, hi = min(t0, t1), max(t0, t1)
    ends = {lo, hi}
    if not any(t.interpolation == "previous" and ends & set(t.knots) for t in inputs):
        return rhs
    a, b = np.nextafter(lo, np.inf), np.nextafter(hi, -np.inf)

    def moved(t, y, p):
        return rhs(jnp.clip(t, a, b), y, p)

    return moved
