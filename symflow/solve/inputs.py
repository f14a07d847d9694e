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
"""

from __future__ import annotations

from collections.abc import Sequence

import diffrax
import numpy as np

from ..codegen import InputTable
from ..errors import SymflowError

__all__ = ["JUMPING", "check_input_span", "stop_at_knots"]

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
                  inputs: Sequence[InputTable], t0: float, t1: float
                  ) -> diffrax.AbstractStepSizeController:
    """`controller`, made to step onto every knot strictly inside the span (a
    `ClipStepSizeController`); a fixed-step controller, or a span with no knot
    inside, as it is."""
    if not inputs or not isinstance(controller, diffrax.AbstractAdaptiveStepSizeController):
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
    if jumps is None and steps is None:
        return controller
    return diffrax.ClipStepSizeController(controller, step_ts=steps, jump_ts=jumps)
