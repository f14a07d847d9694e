"""Why a solve of a DAE failed: a divisor of its symbolic solves that vanished.

A DAE's blocks solved symbolically divide by coefficients; those that hold time
or the states may pass through zero (`passes/dae/pivots.py`), where the model is
singular and the right-hand side infinite. The step-size controller then shrinks
the step until it runs out of steps, and the message would be "raise max_steps".
After a failure (never on a solve's path), the divisors are evaluated where the
solve stopped, and one that is zero, or nearly so, is named with its equation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..codegen import GeneratedModel

__all__ = ["vanished_pivot"]

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
