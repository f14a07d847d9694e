"""Building SDE models: the split into drift and diffusion, errors, noise classes."""

import pytest
import sympy as sp

import symflow
from models import model_text
from symflow import passes
from symflow.lang import parse
from symflow.symbolic import build, classify_noise


def _system(text: str):
    return passes.simplify(build(parse(text, "m.sf")))


def _model(equations: str, *, brownian="W", variables="x = 1.0\n    y = 2.0",
           extra="") -> str:
    return model_text("sde_two_states_template").format(
        variables=variables, brownian=brownian, equations=equations, extra=extra)


def test_drift_and_diffusion_are_split():
    system = _system(_model("d(x) = a*x*dt + s*x*dW + 0.1*dV\n    d(y) = -y*dt",
                            brownian="W, V"))
    x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
    a, s = sp.Symbol("a", real=True), sp.Symbol("s", real=True)
    ex, ey = system.equation_for("x"), system.equation_for("y")
    assert sp.simplify(ex.rhs - a * x) == 0
    assert [sp.simplify(g - want) for g, want in zip(ex.diffusion, (s * x, 0.1))] == [0, 0]
    assert ey.diffusion == (0, 0) and sp.simplify(ey.rhs + y) == 0
    assert [b.name for b in system.brownians] == ["W", "V"]


def test_ode_models_are_unaffected():
    system = _system("model O\n  variables\n    x = 1.0\n  equations\n    der(x) = -x\nend\n")
    assert system.brownians == () and system.equations[0].diffusion == ()


@pytest.mark.parametrize("rhs, message", [
    ("x*dt*dW", "it has a term in dt*dW"),
    ("x*dt + dW^2", "dW**2"),
    ("x*dt + sin(dW)", "not linear in dW"),
    ("x*dt + x/dW", "not linear in dW"),
    ("x*dt + 1", "a term without dt or dW"),
    ("x + dW", "a term without dt or dW"),
    ("exp(dt) + dW", "not linear in dt"),
])
def test_nonlinear_in_dt_or_dw_is_an_error(rhs, message):
    with pytest.raises(symflow.SymflowError, match=message.replace("*", r"\*")) as e:
        _system(_model(f"d(x) = {rhs}\n    d(y) = -y*dt"))
    assert e.value.span is not None and e.value.span.line == 11


def test_undeclared_brownian_increment_suggests_the_declared_one():
    with pytest.raises(symflow.SymflowError, match="'dW2' is the increment of 'W2'") as e:
        _system(_model("d(x) = -x*dt + s*dW2\n    d(y) = -y*dt", brownian="W1"))
    assert "did you mean 'dW1'" in e.value.pretty()


def test_mixing_der_and_d_for_one_variable_is_an_error():
    with pytest.raises(symflow.SymflowError, match="both a der.*and a d"):
        _system(_model("d(x[0]) = -x[0]*dt + s*dW\n    der(x[1]) = -x[1]\n    d(y) = -y*dt",
                       variables="x[2] = 1.0\n    y = 2.0"))


def test_dw_outside_a_differential_equation_is_an_error():
    with pytest.raises(symflow.SymflowError, match="only appear on the right side of a d"):
        _system(_model("der(x) = -x + dW\n    d(y) = -y*dt"))


def test_trajectories_below_one_is_an_error():
    with pytest.raises(symflow.SymflowError, match="trajectories must be at least 1") as e:
        _system(_model("d(x) = -x*dt + s*dW\n    d(y) = -y*dt",
                       extra="  simulate\n    trajectories = 0\n"))
    assert e.value.span.line == 14


def test_unknown_distribution_is_an_error():
    with pytest.raises(symflow.SymflowError, match="unknown distribution 'gauss'"):
        _system(_model("d(x) = -x*dt + s*dW\n    d(y) = -y*dt",
                       variables="x ~ gauss(0, 1)\n    y = 2.0"))


def test_random_initial_value_keeps_its_distribution():
    system = _system(_model("d(x) = -x*dt + s*dW\n    d(y) = -y*dt",
                            variables="x ~ uniform(1, 3)\n    y = 2.0"))
    x = system.variables[0]
    assert x.distribution[0] == "uniform"
    assert [float(v) for v in x.distribution[1]] == [1.0, 3.0]
    assert float(x.initial) == 2.0  # the mean, for deterministic uses


@pytest.mark.parametrize("equations, brownian, expected", [
    ("d(x) = -x*dt + s*dW\n    d(y) = -y*dt + 0.3*dW", "W", "additive"),
    ("d(x) = -x*dt + s*x*dW\n    d(y) = -y*dt + s*y*dW", "W", "commutative"),
    ("d(x) = -x*dt + s*x*dW1\n    d(y) = -y*dt + s*sin(y)*dW2", "W1, W2", "diagonal"),
    # columns (x, 0) and (0, x): their Lie bracket is (0, x) - ... != 0
    ("d(x) = -x*dt + s*x*dW1\n    d(y) = -y*dt + s*x*dW2", "W1, W2", "general"),
    # columns (x, x) and (y, y)*0 + (x, x): equal columns commute
    ("d(x) = -x*dt + s*x*dW1 + x*dW2\n    d(y) = -y*dt + s*x*dW1 + x*dW2", "W1, W2",
     "commutative"),
])
def test_noise_classes(equations, brownian, expected):
    assert classify_noise(_system(_model(equations, brownian=brownian))) == expected
