"""Divisors that vanish during a solve: a regular loop solved without them, a genuinely
singular model named with its equation and time (passes/dae/pivots.py,
solve/failures.py)."""

import math

import pytest
import scipy.integrate
import sympy as sp

import symflow
from models import model_text
from symflow.passes.dae.pivots import can_vanish


def test_which_divisors_can_vanish():
    t, x, k = sp.symbols("t x k", real=True)
    constants = {k}
    assert can_vanish(sp.sin(2 * t), constants)
    assert can_vanish(x - 1, constants)
    assert not can_vanish(1 + x**2, constants)  # provably positive
    assert not can_vanish(sp.exp(x), constants)
    assert not can_vanish(k, constants)  # a parameter: fixed for the whole solve
    assert not can_vanish(sp.Integer(3), constants)


def _rotated_reference(t_end: float) -> float:
    """x(t_end) of the rotated loop with its solution written out, by scipy."""
    def f(t, x):
        x = x[0]
        s, c = math.sin(2 * t), math.cos(2 * t)
        f1 = (x + math.exp(-x) * math.cos(x) + math.log(1 + x**2)
              + math.atan(x) * math.tanh(x) + math.sqrt(1 + x**4) + x**3 / (2 + x**2))
        f2 = (math.exp(x) + math.sin(x) * math.cos(x) + x**5 / (1 + x**4)
              + math.log(2 + math.sin(x)) + math.exp(-x**2) + math.tanh(x) * math.atan(x))
        y, z = s * f1 + c * f2, c * f1 - s * f2
        return [-y - z]
    sol = scipy.integrate.solve_ivp(f, (0, t_end), [1.0], method="DOP853",
                                    rtol=1e-12, atol=1e-12)
    return float(sol.y[0, -1])


def test_a_regular_loop_whose_elimination_pivot_vanishes_is_solved():
    """At t = 0 the pivot sin(w*t) of the loop's elimination is zero although the
    loop is regular (its determinant is -1): solved by the determinant's formula."""
    m = symflow.loads(model_text("dae_rotated_loop"))
    assert m.system.pivots == ()  # the determinant -1 cannot vanish
    sol = m.simulate(rtol=1e-10, atol=1e-12)
    assert float(sol["x"][-1]) == pytest.approx(_rotated_reference(1.0), rel=1e-7)


def test_a_singular_equation_is_named_with_the_time():
    m = symflow.loads(model_text("dae_singular_pivot"), file="singular.sf")
    with pytest.raises(symflow.SolverError) as failure:
        m.simulate()
    message = failure.value.pretty()
    assert "singular here: y, found by the equation at singular.sf:10:5" in message
    assert "dividing by sin(t*w), which is zero at t = 0" in message
    assert "max_steps" not in message


def test_a_singular_loop_is_named_where_its_determinant_vanishes():
    m = symflow.loads(model_text("dae_singular_loop"), file="loop.sf")
    with pytest.raises(symflow.SolverError) as failure:
        m.simulate()
    message = failure.value.pretty()
    assert "the loop in" in message and "(equations from loop.sf:" in message
    assert "determinant 2*sin(t*w) - 1" in message
    assert abs(failure.value.t - math.pi / 12) < 1e-3  # sin(2t) = 1/2

