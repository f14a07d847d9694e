"""Diffusion samplers whose score is a neural closure (examples/vp_closure_sampler.sf).

References, independent of the samplers: the exact probability-flow map of a
Gaussian target (x_ε = x_T·sqrt(v(ε)/v(T)), v the variance of the noised
data), the hand-written JAX twins of benchmarks/handwritten_samplers.py with the
same network called by hand (an `eqx.nn.MLP` built from the seed, not symflow's
generated code), and `jax.grad` through a tight diffrax solve of the
probability-flow ODE written by hand.
"""

from __future__ import annotations

import pathlib
import sys

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from symflow.analysis import find_diffusion_form
from symflow.symbolic import ClosureOutput

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
import handwritten_samplers as hw  # noqa: E402

EXAMPLE = ROOT / "examples" / "vp_closure_sampler.sf"
S = 0.5  # the data's standard deviation in the example


def variance(t):
    """Variance of the noised data at t: s²α² + 1 - α² (linear VP schedule)."""
    a2 = np.exp(2 * hw.log_alpha(t))
    return S**2 * a2 + 1 - a2


def exact_weights(model):
    """The closure's weights that make it the exact score -x/v(t): weight -1 on
    its input x/v(t), 0 on t, bias 0."""
    w = model.params["closures"]["score"]
    layer = w.layers[0]
    return eqx.tree_at(lambda m: (m.layers[0].weight, m.layers[0].bias), w,
                       (jnp.array([[-1.0, 0.0]]), jnp.zeros_like(layer.bias)))


@pytest.fixture(scope="module")
def gaussian():
    return symflow.load(EXAMPLE)


@pytest.fixture(scope="module")
def network():
    """The same model with a random two-hidden-layer network of (x, t) as score."""
    text = EXAMPLE.read_text().replace(
        "mlp(x/v(t), t, width = 8, depth = 0, seed = 0)",
        "mlp(x, t, width = 8, depth = 2, activation = tanh, seed = 3)")
    return symflow.loads(text)


def by_hand(model):
    """The network of `model`'s closure, rebuilt from its seed with equinox alone,
    and its noise prediction ε̂ = -σ_t·score for a batch."""
    mlp = eqx.nn.MLP(2, 1, 8, 2, activation=jnp.tanh, key=jax.random.PRNGKey(3),
                     dtype=jnp.float64)
    ours = model.params["closures"]["score"]
    for a, b in zip(jax.tree_util.tree_leaves(eqx.filter(mlp, eqx.is_array)),
                    jax.tree_util.tree_leaves(ours)):
        assert np.array_equal(np.asarray(a), np.asarray(b))  # the same weights

    def score(weights, x, t):
        net = eqx.combine(weights, eqx.filter(mlp, eqx.is_array, inverse=True))
        return jax.vmap(lambda xi: net(jnp.stack([xi, t]))[0])(x)

    def noise(x, t, params):
        sigma = jnp.sqrt(-jnp.expm1(2 * hw.log_alpha(t)))
        return -sigma * score(params["weights"], x, t)

    return eqx.filter(mlp, eqx.is_array), score, noise


def test_the_closure_output_is_the_score(gaussian):
    form = find_diffusion_form(gaussian.system)
    (name, score), = form.score
    assert name == "x" and score.atoms(ClosureOutput)
    assert not form.f.atoms(ClosureOutput)  # the schedule comes from -0.5*beta(t)*x alone
    sched = gaussian.runner.sampling.setup().schedule
    p = gaussian.complete_params(gaussian.params)
    lam = float(sched.log_alpha(1.0, p) - sched.log_sigma(1.0, p))
    assert abs(lam - hw.lam(1.0)) < 1e-12


def test_exact_closure_samples_the_gaussian_target(gaussian):
    """With weights that make the network the exact score, the samples converge to
    the exact probability-flow map at the sampler's order, and their spread is the
    target's. Measured (max error over 2000 samples, DPM-Solver++(2M)): 0.022,
    0.0059, 0.0015 at NFE 20, 40, 80 (orders 1.89, 1.98); UniPC-3 0.00032,
    0.00011, 1.1e-5; DDIM orders 0.96, 0.98."""
    x0 = jax.random.normal(jax.random.PRNGKey(0), (2000,))
    exact = np.asarray(x0) * np.sqrt(variance(hw.T1) / variance(hw.T0))
    p = {**gaussian.params, "closures": {"score": exact_weights(gaussian)}}
    errors = []
    for steps in (40, 80):
        x = gaussian.simulate(p, solver="dpm_solver_pp_2m", steps=steps, initial={"x": x0},
                              saveat=2)["x"][:, -1]
        errors.append(float(np.max(np.abs(np.asarray(x) - exact))))
    order = np.log2(errors[0] / errors[1])
    assert errors[1] < 2e-3 and 1.8 < order < 2.2, (errors, order)
    assert abs(float(np.std(x)) - np.sqrt(variance(hw.T1))) < 0.03  # 2000 samples


@pytest.mark.parametrize("name", [
    "unipc_3", "deis_3",
    *(pytest.param(n, marks=pytest.mark.slow) for n in ("ddim", "dpm_solver_pp_2m"))])
def test_closure_sampler_matches_hand_written_twin_with_the_same_network(network, name):
    weights, _, noise = by_hand(network)
    x0 = jax.random.normal(jax.random.PRNGKey(1), (16,))
    ours = network.simulate(solver=name, steps=7, initial={"x": x0}, saveat=2)["x"][:, -1]
    theirs = hw.sample(name, x0, {"weights": weights}, 7, noise=noise)
    assert np.max(np.abs(np.asarray(ours) - np.asarray(theirs))) < 1e-10


def closure_gradient_error(network, solver: str, steps: int, rtol: float = 1e-11) -> float:
    """Max error of d(loss of the final samples)/d(network weights) through a sampler
    (discretize-then-optimize), relative to the largest entry of the reference:
    jax.grad through a tight Dopri8 solve of the probability-flow ODE written by
    hand with the same network."""
    weights, score, _ = by_hand(network)
    x0 = jax.random.normal(jax.random.PRNGKey(2), (8,))

    def loss_ref(w):
        def rhs(t, x, w):
            beta = hw.B0 + t * (hw.B1 - hw.B0)
            return -0.5 * beta * x - 0.5 * beta * score(w, x, t)
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(rhs), diffrax.Dopri8(), hw.T0, hw.T1, -1e-3, x0, w,
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol),
            max_steps=100_000)
        return jnp.mean(jnp.sin(sol.ys[-1]))

    def loss(w):
        p = {**network.params, "closures": {"score": w}}
        x = network.simulate(p, solver=solver, steps=steps, initial={"x": x0},
                             saveat=2)["x"][:, -1]
        return jnp.mean(jnp.sin(x))

    g_ref = jax.tree_util.tree_leaves(jax.jit(jax.grad(loss_ref))(weights))
    g = jax.tree_util.tree_leaves(jax.grad(loss)(weights))
    scale = max(float(jnp.max(jnp.abs(b))) for b in g_ref)
    return max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(g, g_ref)) / scale


@pytest.mark.slow
def test_gradient_with_respect_to_the_closure_weights(network):
    # DPM-Solver++(2M), 20 steps: measured 0.075 (UniPC-3: 0.045, 0.0063, 0.00085
    # at 20, 40, 80 steps; the slow test below asserts its order); a wrong
    # gradient would be off by O(1)
    error = closure_gradient_error(network, "dpm_solver_pp_2m", 20, rtol=1e-9)
    print("closure gradient error at 20 steps", error)
    assert error < 0.1


@pytest.mark.slow
def test_gradient_error_in_the_closure_weights_converges(network):
    e1, e2 = (closure_gradient_error(network, "unipc_3", n) for n in (40, 80))
    print("closure gradient errors at 40, 80 steps", e1, e2)
    assert np.log2(e1 / e2) > 2.3, (e1, e2)
