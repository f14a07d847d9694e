"""Solver choice and options, checked on problems with exact solutions."""

import numpy as np
import pytest

import symflow
from symflow.solve import STIFFNESS_THRESHOLD, stiffness


DECAY = """
model Decay
  parameters
    k = 2.0
  variables
    x = 1.0
  equations
    der(x) = -k*x
  simulate
    tspan = [0, 1]
    rtol = 1e-10
    atol = 1e-12
    saveat = 5
end
"""


@pytest.mark.parametrize("solver", ["tsit5", "dopri5", "dopri8", "kvaerno5", "kencarp4",
                                    "heun"])
def test_solvers_match_exponential_decay(solver):
    m = symflow.loads(DECAY)
    # Second-order Heun would need over 1e5 steps at rtol 1e-10.
    options = {"rtol": 1e-7, "atol": 1e-9} if solver == "heun" else {}
    sol = m.simulate(solver=solver, **options)
    expected = np.exp(-2.0 * np.asarray(sol.t))
    # Global error is a small multiple of rtol=1e-10 for the high-order methods;
    # the implicit ones and low-order Heun accumulate more.
    tol = {"heun": 1e-5, "kvaerno5": 1e-7, "kencarp4": 1e-7}.get(solver, 1e-8)
    np.testing.assert_allclose(sol["x"], expected, rtol=tol)


def test_euler_needs_a_step_and_converges_at_first_order():
    m = symflow.loads(DECAY)
    with pytest.raises(symflow.SymflowError, match="fixed steps"):
        m.simulate(solver="euler")
    errors = []
    for dt in (1e-2, 5e-3):
        sol = m.simulate(solver="euler", dt=dt)
        errors.append(abs(float(sol["x"][-1]) - np.exp(-2.0)))
    assert 1.8 < errors[0] / errors[1] < 2.2


def test_stiffness_indicator_separates_stiff_from_nonstiff():
    stiff = symflow.loads(DECAY.replace("k = 2.0", "k = 1e5"))
    y0 = stiff._simulator.pack(stiff.initial)
    value = stiffness(stiff.generated.rhs, 0.0, 1.0, y0, stiff.complete_params(None))
    assert value == pytest.approx(1e5)
    assert value > STIFFNESS_THRESHOLD
    mild = symflow.loads(DECAY)
    assert stiffness(mild.generated.rhs, 0.0, 1.0, y0, mild.complete_params(None)) < 10


def test_backwards_in_time():
    m = symflow.loads(DECAY)
    sol = m.simulate(tspan=(1.0, 0.0), initial={"x": np.exp(-2.0)})
    assert float(sol.t[0]) == 1.0 and float(sol.t[-1]) == 0.0
    np.testing.assert_allclose(sol["x"][-1], 1.0, rtol=1e-8)
