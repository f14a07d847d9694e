"""Consistent initialization: numerical (Newton) initial values where SymPy finds
no closed form, checked against scipy's root finder and the implicit function
theorem."""

import jax
import numpy as np
import pytest
import scipy.optimize

import symflow
from models import model_text
from symflow.errors import SymflowError
from symflow.symbolic import NewtonSolve

# x is not given: the constraint fixes it at t = 0 (x + a sin x = 1), and no
# closed form exists, so initialization solves it numerically.
IMPLICIT = """
model Implicit
  parameters
    a = 0.5
  variables
    x
    z
  equations
    der(x) = z
    0 = x + a*sin(x) - cos(t)
  simulate
    tspan = [0, 2]
end
"""


def _root(a, t):
    return scipy.optimize.brentq(lambda u: u + a * np.sin(u) - np.cos(t), -3, 3, xtol=1e-14)


@pytest.fixture(scope="module")
def model():
    return symflow.loads(IMPLICIT)


def test_initial_value_without_closed_form_is_a_newton_solve(model):
    (x,) = (v for v in model.system.variables if v.name == "x")
    assert x.initial.has(NewtonSolve)
    assert "newton_solve" in (
        model.generated.source.split("def initial_values")[1].split("def rhs")[0])


def test_numerical_initialization_matches_the_root(model):
    sol = model.simulate(rtol=1e-10, atol=1e-12, saveat=21)
    t, x = np.asarray(sol.t), np.asarray(sol["x"])
    reference = np.array([_root(0.5, s) for s in t])
    assert abs(x[0] - reference[0]) < 1e-12
    assert np.max(np.abs(x - reference)) < 1e-8
    # A new parameter value re-solves the initialization (it is not a constant).
    sol = model.simulate(params={"a": 0.9}, rtol=1e-10, atol=1e-12, saveat=21)
    assert abs(float(sol["x"][0]) - _root(0.9, 0.0)) < 1e-12


def test_gradient_of_the_initial_value_by_the_implicit_function_theorem(model):
    initial = model.generated.initial_values
    dxda = jax.grad(lambda a: initial({"a": a})["x"])(0.5)
    x0 = _root(0.5, 0.0)
    assert abs(float(dxda) - (-np.sin(x0) / (1 + 0.5 * np.cos(x0)))) < 1e-10


def test_ambiguous_initial_value_is_reported():
    # x^2 = 1 - y^2 has two roots for x when only y is given.
    text = model_text("pendulum_x_unknown")
    with pytest.raises(SymflowError, match="ambiguous: these equations have 2 solutions"):
        symflow.loads(text)
