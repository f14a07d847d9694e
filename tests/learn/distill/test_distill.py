"""Distilling closures end to end: samples -> sparse expressions -> a model that runs."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import symflow
from models import model_text
from symflow import SymflowError

UDE = model_text("lotka_volterra_ude_width_16")

TRUE = (1.3, 0.9, 0.8, 1.8)  # alpha, beta, gamma, delta


def lotka_volterra(n: int = 200, t1: float = 5.0):
    """The true trajectory (scipy, independent of symflow) and the true interactions."""
    a, b, g, d = TRUE
    ts = np.linspace(0.0, t1, n)
    sol = solve_ivp(lambda t, u: [a * u[0] - b * u[0] * u[1], -d * u[1] + g * u[0] * u[1]],
                    (0.0, t1), [0.44, 4.6], t_eval=ts, rtol=1e-12, atol=1e-12, method="DOP853")
    z = sol.y.T
    return ts, z, np.column_stack([-b * z[:, 0] * z[:, 1], g * z[:, 0] * z[:, 1]])


@pytest.fixture(scope="module")
def ude():
    return symflow.loads(UDE, file="lv_ude.sf")


@pytest.fixture(scope="module")
def from_known_function(ude):
    _, z, u = lotka_volterra()
    return ude.distill_samples({"U1_U2": (z, u)})


def test_recovers_the_true_interactions_exactly(from_known_function):
    result = from_known_function
    assert result["U1"].found == pytest.approx({"x*y": -0.9}, abs=1e-10)
    assert result["U2"].found == pytest.approx({"x*y": 0.8}, abs=1e-10)
    assert result["U1"].error < 1e-10
    assert result["U1"].terms == ("1", "x", "y", "x^2", "x*y", "y^2")
    assert str(result["U2"].expression).replace(" ", "") in ("0.8*x*y", "0.800000000000000*x*y")


def test_distilled_model_is_the_true_model(from_known_function):
    text = from_known_function.model_text
    assert "der(x) = alpha*x + (-0.9*x*y)" in text or "(-0.9000000000000" in text
    distilled = from_known_function.load()
    a, b, g, d = TRUE
    for x, y in np.random.default_rng(0).uniform(0.1, 5, (10, 2)):
        np.testing.assert_allclose(
            distilled.rhs(0.0, np.array([x, y])),
            [a * x - b * x * y, -d * y + g * x * y], rtol=1e-9)


def test_model_functions_are_candidates():
    src = model_text("saturating")
    m = symflow.loads(src, file="sat.sf")
    s = np.linspace(0.1, 3, 60)[:, None]
    result = m.distill_samples({"R": (s, -1.7 * s / (2 + s))})
    assert result["R"].found == pytest.approx({"sat(s)": -1.7}, rel=1e-9)
    assert re.search(r"der\(s\) = -k\*s \+ \(-1\.(7|69999+\d*)\*sat\(s\)\)\n",
                     result.model_text)
    distilled = result.load()
    assert float(distilled.rhs(0.0, np.array([1.0]))[0]) == pytest.approx(-0.5 - 1.7 / 3)
    # without the model's functions, a polynomial is the best the library can do
    poly = m.distill_samples({"R": (s, -1.7 * s / (2 + s))}, functions=False, degree=3)
    assert "sat" not in poly["R"].found and len(poly["R"].found) >= 2


def test_trained_physical_parameters_are_written(ude):
    _, z, u = lotka_volterra(50)
    params = {**ude.params, "alpha": 1.25}
    result = ude.distill_samples({"U1_U2": (z, u)}, params=params)
    assert "alpha = 1.25\n" in result.model_text and "delta = 1.8\n" in result.model_text


def test_errors(ude):
    with pytest.raises(SymflowError, match="no samples for the closure"):
        ude.distill_samples({})
    _, z, u = lotka_volterra(50)
    with pytest.raises(SymflowError, match="1 inputs and 2 outputs"):
        ude.distill_samples({"U1_U2": (z[:, :1], u)})
    chained = symflow.loads("""model Chain
  variables
    x = 1
  closures
    V = mlp(x, width = 3, depth = 1)
    W = mlp(V, width = 3, depth = 1)
  equations
    der(x) = W
end
""", file="chain.sf")
    with pytest.raises(SymflowError, match="use 'V', the output of another closure"):
        chained.distill_samples({"V": (np.ones((20, 1)), np.ones((20, 1))),
                                 "W": (np.ones((20, 1)), np.ones((20, 1)))})
    plain = symflow.loads("model P\n  variables\n    x = 1\n  equations\n    der(x) = -x\nend\n")
    with pytest.raises(SymflowError, match="has no closures"):
        plain.distill_samples({})


# A network that is a known function: one tanh neuron with a tiny input weight is
# linear to 1e-10 (tanh(e*x)/e = x - e^2 x^3/3 + ...), so U = c*x.
DECAY = model_text("decay_ude")


@pytest.fixture(scope="module")
def linear_network():
    import equinox as eqx
    import jax.numpy as jnp

    m = symflow.loads(DECAY, file="decay.sf")
    eps, c = 1e-5, -0.5
    w = m.params["closures"]["U"]
    w = eqx.tree_at(lambda w: (w.layers[0].weight, w.layers[0].bias, w.layers[1].weight,
                               w.layers[1].bias), w,
                    (jnp.array([[eps]]), jnp.zeros(1), jnp.array([[c / eps]]), jnp.zeros(1)))
    params = {**m.params, "closures": {"U": w}}
    t = np.linspace(0.0, 4.0, 21)
    data = {"t": t, "x": 2.0 * np.exp(-(0.3 - c) * t)}  # the true model, exactly
    return m, params, data


@pytest.mark.parametrize("sample", ["data", "trajectory"])
def test_distill_a_network_end_to_end(linear_network, sample):
    m, params, data = linear_network
    result = m.distill(params, data=data, sample=sample, samples=21)
    assert result.sampled_on == sample
    assert result.n_samples == 21
    assert result["U"].found == pytest.approx({"x": -0.5}, rel=1e-6)
    assert re.search(r"der\(x\) = -k\*x \+ \(-0\.4999999999\d*\*x\)\n", result.model_text)
    # the distilled model and the network model both reproduce the data
    assert result.data_error["x"] < 1e-6 and result.network_error["x"] < 1e-6


def test_sample_on_data_needs_every_state(linear_network):
    m, params, _ = linear_network
    with pytest.raises(SymflowError, match="does not measure every state"):
        m.distill(params, data={"t": [0.0, 1.0], "twice": [4.0, 3.0]}, sample="data")
    with pytest.raises(SymflowError, match="no data given"):
        m.distill(params, sample="data")


def test_compound_inputs_are_written_with_their_text():
    m = symflow.loads("""model Forced
  variables
    x = 1
  closures
    U = mlp(x, 2*x + t, width = 3, depth = 1)
  equations
    der(x) = U
end
""", file="forced.sf")
    rng = np.random.default_rng(0)
    x, t = rng.uniform(0, 2, 50), rng.uniform(0, 1, 50)
    z = np.column_stack([x, 2 * x + t])
    result = m.distill_samples({"U": (z, 1.5 * z[:, 0] * z[:, 1])})
    assert result["U"].found == pytest.approx({"x*(2*x + t)": 1.5}, rel=1e-10)
    assert "der(x) = (1.5*x*(2*x + t))" in result.model_text.replace("1.4999999999999998", "1.5")
    distilled = result.load()
    assert float(distilled.rhs(0.5, np.array([1.0]))[0]) == pytest.approx(1.5 * 2.5)


@pytest.mark.slow
def test_closure_on_a_field():
    """A reaction term on a 1-D grid, distilled from samples of u*(1 - u): the
    expression goes into the field equation and the distilled PDE runs."""
    m = symflow.loads(model_text("fisher_closure"), file="fk.sf")
    u = np.random.default_rng(0).uniform(0, 1, (300, 1))
    result = m.distill_samples({"R": (u, 2.0 * u * (1 - u))})
    assert result["R"].found == pytest.approx({"u": 2.0, "u^2": -2.0}, rel=1e-10)
    assert "der(u) = D*diff(u, x, 2) + (" in result.model_text
    sol = result.load().simulate()
    assert np.all(np.isfinite(np.asarray(sol["u"])))
