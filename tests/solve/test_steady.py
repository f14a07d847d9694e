"""`Model.steady_state`: Newton with a time-stepping fallback, differentiated by the
implicit function theorem; checked against a closed-form equilibrium."""

from __future__ import annotations

import pathlib

import jax
import numpy as np
import pytest

import symflow
from symflow.solve.steady import classify_stability

ROOT = pathlib.Path(__file__).resolve().parents[2]

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


def test_a_centre_is_marginal_not_stable():
    """Lotka-Volterra's coexistence point (x, y) = (gamma/delta, alpha/beta) is a centre:
    eigenvalues ±i sqrt(alpha gamma) = ±2.12i, whose real parts are rounding."""
    lv = symflow.load(ROOT / "examples" / "lotka_volterra.sf")
    ss = lv.steady_state(guess={"x": 2.5, "y": 1.2})
    np.testing.assert_allclose([ss["x"], ss["y"]], [3.0, 1.5], rtol=1e-10)
    np.testing.assert_allclose(np.sort(np.imag(np.asarray(ss.eigenvalues))),
                               [-np.sqrt(4.5), np.sqrt(4.5)], rtol=1e-10)
    assert ss.stability == "marginal" and not bool(ss.stable)


def test_stability_from_the_eigenvalues():
    assert classify_stability(np.array([-1.0, -2.0 + 3.0j, -2.0 - 3.0j])) == "stable"
    assert classify_stability(np.array([-1.0, 1e-3])) == "unstable"
    assert classify_stability(np.array([2.12j, -2.12j, 1e-17])) == "marginal"
    assert classify_stability(np.array([-1.0, 0.0])) == "marginal"


def test_run_steady_says_a_centre_is_marginal(capsys):
    from symflow.cli import main

    assert main(["run", str(ROOT / "examples" / "lotka_volterra.sf"), "--steady"]) == 0
    out = capsys.readouterr().out
    assert "x = 3." in out and "marginal" in out and "stable" not in out
