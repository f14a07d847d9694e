"""Nonlinear algebraic loops: kept implicit and solved by Newton in the rhs."""

import jax
import numpy as np
import pytest
import scipy.optimize

import symflow
from symflow.symbolic import NewtonSolve

LOOP = """
model Loop
  parameters
    k = 1.0
  variables
    x = 2.0
    z = 1.0
    a = 1.0
    b = 1.0
  equations
    der(x) = -k*z
    0 = z^3 + z - x          # one equation, three roots: no unique symbolic solution
    0 = a + b - x            # a nonlinear loop of two equations
    0 = a - b^3
  simulate
    tspan = [0, 1]
end
"""


@pytest.fixture(scope="module")
def model():
    return symflow.loads(LOOP)


def test_loops_stay_implicit(model):
    (eq,) = model.system.equations
    assert eq.rhs.has(NewtonSolve)
    assert "newton_solve" in model.source


def test_the_two_equation_loop_is_torn_to_one_newton_unknown(model):
    observed = {o.name: o.expr for o in model.system.observed}
    nodes = set().union(*(e.atoms(NewtonSolve) for e in observed.values()))
    # Tearing: b is the tearing variable, a = b^3 is explicit; Newton iterates on b alone.
    assert {len(n.unknowns) for n in nodes} == {1}
    (b_node,) = observed["b"].atoms(NewtonSolve)
    assert observed["a"] == b_node**3


def _z_exact(t, k):
    # dz/dt (3 z^2 + 1) = -k z with z(0) = 1:  1.5 z^2 + log z = 1.5 - k t
    return np.array([scipy.optimize.brentq(lambda z: 1.5 * z**2 + np.log(z) - 1.5 + k * s,
                                           1e-6, 2.0) for s in t])


def test_loop_solution_matches_the_analytic_invariant(model):
    sol = model.simulate(rtol=1e-10, atol=1e-12, saveat=11)
    t = np.asarray(sol.t)
    z = np.asarray(sol["z"])
    assert np.allclose(z, _z_exact(t, 1.0), atol=1e-8)
    # The two-equation loop: b^3 + b = x, so b equals z.
    assert np.allclose(np.asarray(sol["b"]), z, atol=1e-8)
    assert np.allclose(np.asarray(sol["a"]) + np.asarray(sol["b"]), np.asarray(sol["x"]),
                       atol=1e-8)


@pytest.mark.slow  # compiling the adjoint through Newton inside diffrax takes ~15-40 s
def test_gradient_through_the_newton_solve(model):
    def z_end(k):
        sol = model.simulate({"k": k}, rtol=1e-10, atol=1e-12, saveat=2)
        return sol["z"][-1]

    grad = jax.grad(z_end)(1.0)
    z = _z_exact(np.array([1.0]), 1.0)[0]
    exact = -1.0 / (3 * z + 1 / z)  # implicit differentiation of the invariant
    assert abs(float(grad) - exact) < 1e-6
