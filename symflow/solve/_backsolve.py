"""Refusing `adjoint="backsolve"` where it cannot work: stiff models.

The continuous adjoint (diffrax `BacksolveAdjoint`) does not store the forward
solution: it integrates the state again, backwards from t1 to t0, beside the
adjoint. Backwards in time a decaying mode exp(-lambda t) becomes a growing one,
exp(+lambda t): a rounding error of 1e-16 in the state is amplified by
exp(lambda |t1 - t0|), which for a stiff model (lambda |t1 - t0| in the
thousands) is astronomically large, whatever the solver and tolerances. On
Robertson's kinetics the reconstructed state is wrong and so is the gradient
(d/dk1 = 15.3 against the true -0.326, after minutes of tiny backward steps),
with no error raised by diffrax. So symflow raises instead, and says what to use.

The test is the one `solver = auto` uses to call a model stiff
(`_solvers.choose_auto`), evaluated along a forward solve at the save points (at
its initial point Robertson's model is not stiff yet), and it is applied when
the solve uses an implicit solver (a non-stiff model solved with an explicit
solver may pass through transient fast decay, as Lotka-Volterra does, and its
backward solve is fine).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..errors import SymflowError
from ._solvers import STIFFNESS_THRESHOLD, stiffness


__all__ = ["check_backsolve"]


def check_backsolve(rhs, t0: float, t1: float, states, params, solver: str) -> None:
    """Raise `SymflowError` if backsolve would integrate a stiff model backwards.

    `states` are points of the forward solution (rows): the model is stiff if it
    is stiff, in `choose_auto`'s sense, at any of them."""
    for t, y in zip(np.linspace(t0, t1, len(states)), states):
        decay, active = stiffness(rhs, float(t), t1, jnp.asarray(y), params)
        amplification = decay * abs(t1 - t0)
        if amplification > STIFFNESS_THRESHOLD and decay > 10 * active:
            raise SymflowError(
                f"adjoint='backsolve' cannot differentiate this stiff model (solver "
                f"{solver}): it integrates the state backwards in time, where the fastest "
                f"decaying mode (rate {decay:.3g}) grows by a factor exp({amplification:.3g}) "
                "over the span, so the recomputed state and the gradient would be wrong",
                help="use adjoint='checkpoint' (the default), 'forward' (few parameters) "
                     "or 'direct'")
