"""Closures solved: weights in the parameter pytree, gradients against finite
differences, point-wise action on a field, the samples interface, weights on disk."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow import SymflowError

UDE = model_text("ude")

FKPP = model_text("fisher_closure_tsit5")


@pytest.fixture(scope="module")
def ude():
    return symflow.loads(UDE, file="ude.sf")


@pytest.fixture(scope="module")
def fkpp():
    return symflow.loads(FKPP, file="fkpp.sf")


def _mlp_by_hand(weights, act, scale, inputs):
    """The network written out with numpy, one point at a time."""
    h = np.asarray(inputs, dtype=float)
    for layer in weights.layers[:-1]:
        h = act(np.asarray(layer.weight) @ h + np.asarray(layer.bias))
    last = weights.layers[-1]
    return scale * (np.asarray(last.weight) @ h + np.asarray(last.bias))


def test_the_weights_are_an_equinox_mlp_in_the_parameter_pytree(ude):
    w = ude.params["closures"]["U1_U2"]
    assert isinstance(w, eqx.nn.MLP)
    shapes = [x.shape for x in jax.tree.leaves(w)]
    assert shapes == [(6, 2), (6,), (6, 6), (6,), (2, 6), (2,)]
    # the same weights as eqx.nn.MLP draws from the seed
    ref = eqx.nn.MLP(2, 2, 6, 2, key=jax.random.PRNGKey(1))
    np.testing.assert_array_equal(w.layers[0].weight, ref.layers[0].weight)


def test_the_rhs_is_the_network_written_by_hand(ude):
    p = ude.complete_params(None)
    y = jnp.asarray([0.7, 2.1])
    u = _mlp_by_hand(p["closures"]["U1_U2"], np.tanh, 0.3, [0.7, 2.1])
    expected = [1.3 * 0.7 + u[0], -1.8 * 2.1 + u[1]]
    np.testing.assert_allclose(ude.rhs(0.0, y), expected, rtol=1e-13)


def test_closure_samples_match_the_network_along_the_solution(ude):
    sol = ude.simulate()
    samples = ude.closure_samples(None, sol)
    inputs, outputs = samples["U1_U2"]
    assert inputs.shape == (6, 2) and outputs.shape == (6, 2)
    np.testing.assert_allclose(inputs[:, 0], sol["x"])
    np.testing.assert_allclose(inputs[:, 1], sol["y"])
    w = ude.params["closures"]["U1_U2"]
    for row in range(6):
        np.testing.assert_allclose(outputs[row], _mlp_by_hand(w, np.tanh, 0.3, inputs[row]),
                                   rtol=1e-12)


@pytest.mark.slow
def test_gradient_wrt_weights_and_parameters_matches_finite_differences(ude):
    def loss(p):
        sol = ude.simulate(p)
        return jnp.sum(sol["x"] ** 2 + sol["y"])

    p0 = ude.params
    g = jax.jit(jax.grad(loss))(p0)
    flat, unravel = jax.flatten_util.ravel_pytree(p0)
    gflat, _ = jax.flatten_util.ravel_pytree(g)
    rng = np.random.default_rng(0)
    for k in [0, 1, *rng.choice(np.arange(2, flat.size), 5, replace=False)]:
        h = 1e-6
        e = jnp.zeros_like(flat).at[k].set(h)
        fd = (loss(unravel(flat + e)) - loss(unravel(flat - e))) / (2 * h)
        np.testing.assert_allclose(gflat[k], fd, rtol=2e-6, atol=1e-9)


def test_a_closure_under_vmap_over_weights(ude):
    w = ude.params["closures"]["U1_U2"]
    stacked = jax.tree.map(lambda a: jnp.stack([a, 0.5 * a]), w)
    run = jax.vmap(lambda ww: ude.simulate({"closures": {"U1_U2": ww}})["x"][-1])
    out = run(stacked)
    half = jax.tree.map(lambda a: 0.5 * a, w)
    np.testing.assert_allclose(out[1], ude.simulate({"closures": {"U1_U2": half}})["x"][-1],
                               rtol=1e-10)
    np.testing.assert_allclose(out[0], ude.simulate()["x"][-1], rtol=1e-10)


def test_a_closure_on_a_field_acts_point_wise(fkpp):
    p = fkpp.complete_params(None)
    w = p["closures"]["R"]
    grid = np.linspace(0, 10, 21)
    u = np.exp(-grid**2) + 0.1 * np.sin(grid)
    f = np.asarray(fkpp.rhs(0.0, jnp.asarray(u)))
    softplus = lambda z: np.logaddexp(z, 0.0)  # noqa: E731
    r = np.array([_mlp_by_hand(w, softplus, 1.0, [ui])[0] for ui in u])
    h = grid[1] - grid[0]
    lap = (u[:-2] - 2 * u[1:-1] + u[2:]) / h**2
    np.testing.assert_allclose(f[1:-1], 0.5 * lap + r[1:-1], rtol=1e-10)
    samples = fkpp.closure_samples(None, fkpp.simulate())
    inputs, outputs = samples["R"]
    assert inputs.shape == (3 * 21, 1) and outputs.shape == (3 * 21, 1)


def test_a_field_closure_derivative_matches_finite_differences(fkpp):
    """Forward mode along one random direction of every weight and D at once."""
    def loss(p):
        return jnp.sum(fkpp.simulate(p, adjoint="forward")["u"][-1] ** 2)

    flat, unravel = jax.flatten_util.ravel_pytree(fkpp.params)
    direction = jnp.asarray(np.random.default_rng(1).standard_normal(flat.size))
    _, tangent = jax.jvp(lambda z: loss(unravel(z)), (flat,), (direction,))
    h = 1e-6
    fd = (loss(unravel(flat + h * direction)) - loss(unravel(flat - h * direction))) / (2 * h)
    np.testing.assert_allclose(tangent, fd, rtol=1e-6)


def test_save_and_load_weights_round_trip_is_bit_identical(ude, tmp_path):
    original = ude.params
    trained = dict(original)
    trained["closures"] = jax.tree.map(lambda a: a * 1.0001 + 1e-3, original["closures"])
    trained["alpha"] = jnp.asarray(1.2345678901234567)
    before = ude.simulate(trained)
    path = tmp_path / "w.eqx"
    ude.save_weights(path, trained)
    try:
        ude.params = {**original, "closures": jax.tree.map(jnp.zeros_like,
                                                           original["closures"])}
        loaded = ude.load_weights(path)
        assert float(loaded["alpha"]) == 1.2345678901234567
        after = ude.simulate(loaded)
        assert ude.params["closures"] is loaded["closures"]  # the new default weights
    finally:
        ude.params = original
    np.testing.assert_array_equal(np.asarray(before["x"]), np.asarray(after["x"]))
    np.testing.assert_array_equal(np.asarray(before["y"]), np.asarray(after["y"]))


def test_loading_weights_of_another_architecture_says_what_differs(ude, tmp_path):
    path = tmp_path / "w.eqx"
    ude.save_weights(path)
    other = symflow.loads(UDE.replace("width = 6", "width = 7").replace("tanh", "relu"),
                          file="ude.sf")
    with pytest.raises(SymflowError) as info:
        other.load_weights(path)
    assert "do not match" in info.value.message
    assert "closure U1_U2: width is 6 in the file but 7 in the model" in info.value.help
    assert "activation is tanh in the file but relu in the model" in info.value.help
    (tmp_path / "junk.eqx").write_bytes(b"not weights")
    with pytest.raises(SymflowError, match="not a symflow weights file"):
        ude.load_weights(tmp_path / "junk.eqx")


def test_sde_drift_and_diffusion_may_use_closures():
    m = symflow.loads("""model OUClosure
  parameters
    theta = 1.0
  variables
    x = 0.5
  brownian
    W
  closures
    (F, G) = mlp(x, width = 4, depth = 1, activation = softplus, scale = 0.1)
  equations
    d(x) = (-theta*x + F)*dt + (0.2 + G^2)*dW
  simulate
    tspan = [0, 1]
    dt = 0.01
    solver = euler
end
""", file="ou.sf")
    p = m.complete_params(None)
    softplus = lambda z: np.logaddexp(z, 0.0)  # noqa: E731
    f, g = _mlp_by_hand(p["closures"]["F_G"], softplus, 0.1, [0.7])
    y = jnp.asarray([0.7])
    np.testing.assert_allclose(m.generated.rhs(0.0, y, p), [-0.7 + f], rtol=1e-13)
    np.testing.assert_allclose(m.generated.diffusion(0.0, y, p), [[0.2 + g**2]], rtol=1e-13)
