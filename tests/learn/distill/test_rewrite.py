"""Writing the distilled model: closure outputs replaced in the model's own text."""

import numpy as np
import pytest

import symflow
from models import model_text
from symflow import SymflowError
from symflow.lang import parse
from symflow.learn.distill import format_sum, input_texts, rewrite_closures

UDE = """# Lotka-Volterra with unknown interactions
model LotkaVolterraUDE
  parameters
    alpha = 1.3   # known
    delta = 1.8
  variables
    x = 0.44
    y = 4.6
  closures
    (U1, U2) = mlp(x, y, width = 32, depth = 2, activation = tanh)
  equations
    der(x) = alpha*x + U1
    der(y) = -delta*y + U2
  observed
    interaction = U1 + U2
end
"""

TRUE = model_text("lotka_volterra_true_interactions")


def test_format_sum():
    assert format_sum([-0.9, 0.0, 2.5, -1e-7], ["x*y", "x", "1", "y^2"]) == \
        "-0.9*x*y + 2.5 - 1e-07*y^2"
    assert format_sum([0.0], ["x"]) == "0"
    # coefficients are written with every digit: they read back to the same float
    c = 0.1 + 0.2
    assert float(format_sum([c], ["1"])) == c


@pytest.fixture(scope="module")
def distilled_and_true():
    text = rewrite_closures(UDE, file="ude.sf", replacements={
        "U1": format_sum([-0.9], ["x*y"]), "U2": format_sum([0.8], ["x*y"])})
    return text, symflow.loads(text, file="distilled.sf"), symflow.loads(TRUE, file="true.sf")


def test_rewritten_model_has_the_true_right_hand_side(distilled_and_true):
    """Same initial values, same dy/dt and observed outputs at random states: the same
    model (the simulations are compared in the slow test below)."""
    text, distilled, true = distilled_and_true
    assert "der(x) = alpha*x + (-0.9*x*y)" in text
    assert "mlp(" not in text.replace("# (U1, U2) = mlp(", "")
    assert "alpha = 1.3   # known" in text  # comments and layout are kept
    assert distilled.state_names == true.state_names
    for name in distilled.state_names:
        assert float(distilled.initial[name]) == float(true.initial[name])
    p, q = distilled.complete_params(None), true.complete_params(None)
    for y in np.random.default_rng(0).uniform(0, 5, (20, 2)):
        np.testing.assert_allclose(distilled.rhs(0.0, y), true.rhs(0.0, y), rtol=1e-14)
        np.testing.assert_allclose(distilled.generated.observed_fn(0.0, y, p)["interaction"],
                                   true.generated.observed_fn(0.0, y, q)["interaction"],
                                   rtol=1e-14)


@pytest.mark.slow
def test_rewritten_model_simulates_like_the_true_model(distilled_and_true):
    _, distilled, true = distilled_and_true
    a = distilled.simulate(tspan=(0.0, 5.0), saveat=11, rtol=1e-10, atol=1e-12)
    b = true.simulate(tspan=(0.0, 5.0), saveat=11, rtol=1e-10, atol=1e-12)
    for name in ("x", "y", "interaction"):
        np.testing.assert_allclose(a[name], b[name], rtol=1e-12, atol=1e-12)


def test_parameters_are_written_and_notes_kept():
    text = rewrite_closures(UDE, replacements={"U1": "-0.9*x*y", "U2": "0.8*x*y"},
                            params={"alpha": 1.2999999999999998},
                            notes={"U1": "RMS error 0.1% of the network's"})
    assert "alpha = 1.2999999999999998   # known" in text
    assert "#   U1 = -0.9*x*y\n" in text and "RMS error 0.1% of the network's" in text
    assert parse(text, "out.sf").models[0].items("closures") == ()


def test_one_closure_of_two_and_function_scopes():
    src = """model Two
  parameters
    k = 1
  functions
    f(U) = U^2 + V
  variables
    x = 1
  closures
    U = mlp(x)
    V = mlp(x, sin(t) + 1, width = 8)
  equations
    der(x) = -k*U + f(x)
end
"""
    assert input_texts(parse(src, "two.sf").models[0].items("closures")[1],
                       src) == ("x", "(sin(t) + 1)")
    text = rewrite_closures(src, replacements={"V": "0.5*x"})
    assert "f(U) = U^2 + (0.5*x)" in text  # the function's own argument U is left alone
    assert "der(x) = -k*U + f(x)" in text
    model = parse(text, "two.sf").models[0]
    assert [c.outputs for c in model.items("closures")] == [("U",)]
    text = rewrite_closures(src, replacements={"V": "0.5*x", "U": "x^2"})
    assert "der(x) = -k*(x^2) + f(x)" in text and "f(U) = U^2 + (0.5*x)" in text
    assert "# closures (replaced by symflow distill)" in text
    assert parse(text, "two.sf").models[0].items("closures") == ()


def test_errors():
    with pytest.raises(SymflowError, match="'W' is not an output of a closure"):
        rewrite_closures(UDE, replacements={"W": "1"})
    with pytest.raises(SymflowError, match="'U2' has no expression") as info:
        rewrite_closures(UDE, replacements={"U1": "1"})
    assert info.value.span is not None and info.value.span.line == 10
    with pytest.raises(SymflowError, match="parameter 'beta'"):
        rewrite_closures(UDE, replacements={"U1": "1", "U2": "1"}, params={"beta": 1.0})
