"""Step-size control: the families' growth and shrink limits (`solvers.make_controller`)
and the state named when a solve runs out of steps (`step_limit.py`)."""

from __future__ import annotations

import diffrax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from symflow.errors import SolverError
from symflow.solve.rosenbrock import Rodas4
from symflow.solve.solvers import STEP_FACTORS, make_controller

# A slow decay beside a fast oscillation (period 2*pi/w): an explicit solver's step is
# set by the oscillation's accuracy, u and v, never by x.
FAST_SLOW = """
model FastSlow
  parameters
    w = 1e4
  variables
    x = 1
    u = 1
    v = 0
  equations
    der(x) = -x
    der(u) = w*v
    der(v) = -w*u
  simulate
    tspan = [0, 10]
    solver = tsit5
    max_steps = 500
end
"""


def _rober(t, y, args):
    return jnp.stack([-0.04 * y[0] + 1e4 * y[1] * y[2],
                      0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2, 3e7 * y[1] ** 2])


def _step_ratios(controller: diffrax.PIDController) -> np.ndarray:
    """The ratios of consecutive accepted steps of Rodas4 on Robertson to t = 1e5."""
    sol = diffrax.diffeqsolve(diffrax.ODETerm(_rober), Rodas4(), 0.0, 1e5, 1e-6,
                              jnp.array([1.0, 0.0, 0.0]), stepsize_controller=controller,
                              saveat=diffrax.SaveAt(steps=True), max_steps=4096)
    ts = np.asarray(sol.ts)
    ts = ts[np.isfinite(ts)]
    steps = np.diff(ts)[:-1]  # the last step is cut to end on t1
    return steps[1:] / steps[:-1]


@pytest.mark.slow  # a Robertson solve twice, ~6 s quiet; the limits' values are checked below
def test_a_rosenbrock_step_grows_at_most_sixfold():
    # Robertson's steps grow over many decades: with diffrax's default cap (10) some
    # step grows more than 6-fold, with the Rosenbrock family's (6, RODAS's) none does
    factormax = STEP_FACTORS["rosenbrock"][1]
    assert factormax == 6.0
    capped = _step_ratios(make_controller("rodas4", rtol=1e-6, atol=1e-10))
    assert capped.max() <= factormax * (1 + 1e-9)
    default = _step_ratios(diffrax.PIDController(rtol=1e-6, atol=1e-10))
    assert default.max() > factormax


def test_each_family_gets_its_limits():
    for name, family in (("rodas4", "rosenbrock"), ("kvaerno5", "implicit"),
                         ("tsit5", "explicit")):
        c = make_controller(name, rtol=1e-6, atol=1e-9)
        assert (c.factormin, c.factormax, c.safety) == STEP_FACTORS[family]
        assert (c.rtol, c.atol) == (1e-6, 1e-9)


def test_running_out_of_steps_names_the_state_that_limits_the_step():
    m = symflow.loads(FAST_SLOW)
    with pytest.raises(SolverError, match="maximum number of solver steps") as err:
        m.simulate()
    message = str(err.value)
    assert "limited by `u`" in message or "limited by `v`" in message, message
    assert "`x`" not in message


def test_a_stiff_solver_running_out_of_steps_names_the_small_state():
    # Robertson over its long span with atol 1e-20: y2 (at most 4e-5, then down to
    # 1e-13) is the state whose relative error sets the step
    from models import model_text

    m = symflow.loads(model_text("robertson_long"))
    with pytest.raises(SolverError, match="limited by `y2`"):
        m.simulate(solver="rodas5p", max_steps=300, saveat=2)
