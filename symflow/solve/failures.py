"""Why a solve failed, said as its likeliest cause rather than its symptom.

`raise_on_failure` turns diffrax's result code into a `SolverError` with the time
reached and a cause: an event loop that never ends, a parameter or initial value
that is not a number, a DAE's divisor that vanished (below), a solution that
became NaN or grew without bound, too few steps.

A DAE's blocks solved symbolically divide by coefficients; those that hold time
or the states may pass through zero (`passes/dae/pivots.py`), where the model is
singular and the right-hand side infinite. The step-size controller then shrinks
the step until it runs out of steps, and the message would be "raise max_steps".
After a failure (never on a solve's path), the divisors are evaluated where the
solve stopped, and one that is zero, or nearly so, is named with its equation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import diffrax
import jax
import numpy as np

from ..errors import SolverError
from . import solvers as _solvers
from ._compat import result_code, result_message
from .config import SolveConfig
from .events import EVENT_RESULTS

if TYPE_CHECKING:
    from ..codegen import GeneratedModel
    from .solution import Solution

__all__ = ["raise_on_failure", "vanished_pivot"]

# A divisor this small against its size at the start of the span counts as vanished
# (the controller stops a few steps short of the singular instant).
_RELATIVE = 1e-3


def vanished_pivot(generated: GeneratedModel, t: float, ts: np.ndarray, ys: np.ndarray,
                   params: Any, y0: np.ndarray) -> str | None:
    """The label of a divisor (`GeneratedModel.pivot_labels`) that is zero or nearly
    so at `t`, where the solve stopped, with the states of the last finite save
    before it (the saved times `ts`, states `ys`; the initial state `y0` when there
    is none); None when none is."""
    if generated.pivots is None or not generated.pivot_labels:
        return None
    finite = np.nonzero(np.all(np.isfinite(ys), axis=1) & (ts <= t))[0]
    y = np.asarray(ys[finite[-1]]) if finite.size else np.asarray(y0)
    here = _values(generated, t, y, params)
    start = _values(generated, float(ts[0]), np.asarray(y0), params)
    for k, label in enumerate(generated.pivot_labels):
        value, scale = here[k], max(abs(start[k]), 1.0)
        if not np.isfinite(value) or abs(value) <= _RELATIVE * scale:
            return label
    return None


def _values(generated: GeneratedModel, t: float, y: np.ndarray, params: Any) -> list[float]:
    assert generated.pivots is not None
    out = generated.pivots(t, y, params)
    return [float(np.asarray(out[str(k)])) for k in range(len(out))]


def raise_on_failure(sol: Solution, config: SolveConfig, *, params: dict | None = None,
                      initial: dict | None = None,
                      singular: Callable[[float], str | None] | None = None,
                      limiting: Callable[[], str | None] | None = None) -> None:
    """Raise `SolverError` for a failed solve: the time reached, and the likeliest cause
    (a parameter or initial value that is not a number, a DAE's divisor that vanished
    there (`vanished_pivot`), a solution that became NaN or grew without bound, too few
    steps). For too few steps, `limiting()` says which state limits the step where the
    solve stopped (`step_limit.py`), or None."""
    if isinstance(sol.result, jax.core.Tracer):
        return  # inside a trace: the caller reads `Solution.result`
    code = int(sol.result)
    if code == 0:
        return
    t = float(sol.t_reached)
    if code in EVENT_RESULTS:
        log = sol.events
        last = log.names[-1] if log is not None and len(log) else "?"
        advice = (f"the last event was `{last}`; "
                + ("make the model leave the condition (e.g. stop bouncing below a "
                   "speed), or end the span before this time" if code == 101 else
                   f"raise max_events (now {config.max_events}) under simulate"))
        raise SolverError(f"the solver failed at t = {t:.10g}: {EVENT_RESULTS[code]}", t,
                          help=advice)
    reason = result_message(code)
    help = None
    size, scale = float(sol.size_reached), float(sol.initial_size)
    # equinox types an Enumeration's members as their message strings: hence the ignores
    nonfinite = int(result_code(diffrax.RESULTS.nonfinite))  # type: ignore[arg-type]
    max_steps = int(result_code(diffrax.RESULTS.max_steps_reached))  # type: ignore[arg-type]
    bad = _non_finite(params, initial)
    vanished = singular(t) if singular is not None and not bad else None
    if bad:
        help = f"{bad} is not a finite number: every parameter and initial value must be"
    elif vanished is not None:
        reason = f"the model is singular here: {vanished}, which is zero at t = {t:.6g}"
        help = ("the equations do not determine the solution where this vanishes: "
                "change the model or end the span before it")
    elif not np.isfinite(size) or code == nonfinite:
        help = "the solution became NaN or infinite: check the model and its parameters"
    elif size > 1e8 * max(1.0, scale):
        help = (f"the solution grows without bound (|y| = {size:.3g} at t = {t:.6g}): "
                "the model may blow up in finite time here")
    elif code == max_steps:
        limit = _safely(limiting)
        if limit is not None:
            reason = f"{reason.rstrip('.')}. {limit[0].upper()}{limit[1:]}"
        help = (f"raise max_steps (now {config.max_steps})"
                + ("" if _solvers.is_stiff_solver(config.solver)
                   else ", or use a stiff solver (rodas5p, kvaerno5) if the model is stiff"))
    raise SolverError(f"the solver failed at t = {t:.6g}: {reason}", t, help=help)


def _safely(explain: Callable[[], str | None] | None) -> str | None:
    """`explain()`, or None when there is none or it fails: a diagnosis that cannot be
    made must not hide the failure it was to explain."""
    if explain is None:
        return None
    try:
        return explain()
    except Exception:  # noqa: BLE001 - any failure of the diagnosis: say nothing more
        return None


def _non_finite(params: dict | None, initial: dict | None) -> str | None:
    """The first parameter or initial value that holds a NaN or an infinity (named as
    the message says it), or None. Read only after a failure: never on a solve's path."""
    for kind, values in (("parameter", params or {}), ("initial value of", initial or {})):
        for name, value in values.items():
            leaves = jax.tree.leaves(value)
            if any(not np.all(np.isfinite(np.asarray(leaf))) for leaf in leaves):
                return f"{kind} {name!r}"
    return None
