"""`Model.steady_state`: Newton with a time-stepping fallback, differentiated by the
implicit function theorem; checked against a closed-form equilibrium."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import symflow

# Equilibrium: x* = a/b, y* = x*^2 / c; observed r = x*y.
# dy*/da = 2a/(b^2 c), dy*/db = -2a^2/(b^3 c), dy*/dc = -a^2/(b^2 c^2).
MODEL = """
model Equilibrium
  parameters
    a = 2.0
    b = 0.5
    c = 4.0
  variables
    x = 1.0
    y = 1.0
  equations
    der(x) = a - b*x
    der(y) = x^2 - c*y
  observed
    r = x*y
  simulate
    tspan  = [0, 10]
    solver = tsit5
end
"""


@pytest.fixture(scope="module")
def model():
    return symflow.loads(MODEL)


def test_steady_state_value_and_implicit_gradient(model):
    a, b, c = 2.0, 0.5, 4.0
    ss = model.steady_state()
    assert bool(ss.converged) and bool(ss.stable) and not bool(ss.fallback)
    np.testing.assert_allclose(ss["x"], a / b, rtol=1e-12)
    np.testing.assert_allclose(ss["y"], (a / b) ** 2 / c, rtol=1e-12)
    np.testing.assert_allclose(ss["r"], (a / b) ** 3 / c, rtol=1e-12)
    grad = jax.grad(lambda p: model.steady_state(p)["y"])(model.params)
    np.testing.assert_allclose(grad["a"], 2 * a / (b**2 * c), rtol=1e-10)
    np.testing.assert_allclose(grad["b"], -2 * a**2 / (b**3 * c), rtol=1e-10)
    np.testing.assert_allclose(grad["c"], -(a**2) / (b**2 * c**2), rtol=1e-10)


def test_steady_state_without_equilibrium_raises(model):
    # b = 0: x grows forever; Newton meets a singular Jacobian and time stepping
    # never settles, so no gradient may be taken from a non-root.
    with pytest.raises(symflow.SymflowError, match="no steady state"):
        model.steady_state({"b": 0.0})


def test_steady_state_guess_checked(model):
    with pytest.raises(symflow.SymflowError, match="no state named"):
        model.steady_state(guess={"r": 1.0})
