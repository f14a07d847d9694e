"""Solver choice and options, checked on problems with exact solutions."""

import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.solve import ROSENBROCK_MAX_STATES, STIFFNESS_THRESHOLD, choose_auto
from symflow.solve.linear import dense_rates

DECAY = model_text("decay")


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


@pytest.mark.parametrize("solver", ["heun", "midpoint", "ralston"])
def test_second_order_methods_take_the_fixed_step_they_are_given(solver):
    """Every two-stage second-order Runge-Kutta method maps x' = -k x over a step h
    to R(-k h) x with R(z) = 1 + z + z^2/2: with dt = 0.1 over [0, 1], x(1) is exactly
    R(-0.2)^10 (an adaptive solve would land elsewhere)."""
    m = symflow.loads(DECAY)
    sol = m.simulate(solver=solver, dt=0.1)
    z = -2.0 * 0.1
    np.testing.assert_allclose(float(sol["x"][-1]), (1 + z + z * z / 2) ** 10, rtol=1e-12)


def _choice(text, tspan):
    m = symflow.loads(text)
    y0 = m.runner.simulator.pack(m.initial)
    return dense_rates(m.generated.rhs, tspan[0], y0, m.complete_params(None)), \
        choose_auto(m.generated.rhs, *tspan, y0, m.complete_params(None))


def test_stiffness_rates_of_a_decay():
    (decay, active), choice = _choice(DECAY.replace("k = 2.0", "k = 1e5"), (0.0, 1.0))
    assert decay == pytest.approx(1e5) and active == 0.0
    # stiff and small: Rodas5P (docs/stiff.md)
    assert decay * 1.0 > STIFFNESS_THRESHOLD and choice == "rodas5p"
    (decay, active), choice = _choice(DECAY, (0.0, 1.0))
    assert decay == pytest.approx(2.0) and choice == "tsit5"


OSCILLATOR = """
model Oscillator
  parameters
    c = 0.01
  variables
    x = 1
    v = 0
  equations
    der(x) = v
    der(v) = -x - c*v
end
"""


def test_long_lightly_damped_oscillation_is_not_stiff():
    # decay rate 0.005 and frequency 1: over [0, 1e6] decay*T is 5000, but the
    # oscillation, not stability, limits the step: an explicit solver is right.
    (decay, active), choice = _choice(OSCILLATOR, (0.0, 1e6))
    assert decay == pytest.approx(0.005, rel=1e-6) and active == pytest.approx(1, rel=1e-3)
    assert choice == "tsit5"
    # strongly overdamped: one fast decaying mode, one slow: stiff
    (decay, active), choice = _choice(OSCILLATOR.replace("c = 0.01", "c = 1e4"), (0.0, 10.0))
    assert decay == pytest.approx(1e4, rel=1e-6) and choice == "rodas5p"


def test_auto_keeps_kvaerno5_for_large_or_structured_stiff_systems():
    # Rodas5P factors a dense Jacobian every step: a proven band or grid (used by
    # kvaerno5's linear solve) or more than ROSENBROCK_MAX_STATES states keep kvaerno5
    m = symflow.loads(DECAY.replace("k = 2.0", "k = 1e5"))
    p = m.complete_params(None)
    y0 = m.runner.simulator.pack(m.initial)
    assert choose_auto(m.generated.rhs, 0.0, 1.0, y0, p, structured=True) == "kvaerno5"
    big = jnp.full((ROSENBROCK_MAX_STATES + 1,), 1.0)
    rhs = lambda t, y, args: -1e5 * y  # noqa: E731
    assert choose_auto(rhs, 0.0, 1.0, big, p) == "kvaerno5"
    assert choose_auto(rhs, 0.0, 1.0, big[:ROSENBROCK_MAX_STATES], p) == "rodas5p"


def test_backwards_in_time():
    m = symflow.loads(DECAY)
    sol = m.simulate(tspan=(1.0, 0.0), initial={"x": np.exp(-2.0)})
    assert float(sol.t[0]) == 1.0 and float(sol.t[-1]) == 0.0
    np.testing.assert_allclose(sol["x"][-1], 1.0, rtol=1e-8)
