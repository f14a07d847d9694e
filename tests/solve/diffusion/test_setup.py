"""The score generated in two parts (`_diffusion_setup.py`): the state-free part
g(t) for many times at once, then ε̂ from g, equals the score generated whole;
and the small-system solve UniPC uses equals NumPy's LU solve."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.solve.diffusion.samplers.unipc import solve_small as _solve_small
from symflow.solve.diffusion.setup import diffusion_setup

ROOT = pathlib.Path(__file__).resolve().parents[3]

THREE = model_text("mix3")


@pytest.mark.parametrize("source", ["file", "three"])
def test_split_score_equals_the_whole_score(source):
    model = (symflow.load(ROOT / "examples" / "vp_sampler.sf") if source == "file"
             else symflow.loads(THREE))
    setup = diffusion_setup(model.system)
    assert setup.score_coefficients is not None  # the split applies to these models
    term = setup.term()
    p = model.complete_params({"m": 1.7})
    times = jnp.asarray([1.0, 0.6, 0.2, 0.03, 1e-3])
    x = jnp.linspace(-5.0, 5.0, 11)[:, None]
    g = term.noise_coefficients(times, p)  # all times at once
    assert g.shape[0] == times.shape[0]
    for k, t in enumerate(times):
        whole = term.noise(t, x, p)
        split = term.noise_from(g[k], x, p)
        assert float(jnp.max(jnp.abs(split - whole))) <= 1e-13 * float(jnp.max(jnp.abs(whole)))
    # gradients with respect to the parameters agree too (schedule and data)
    def loss(q, noise):
        return jnp.sum(jnp.sin(noise(q)))
    d_whole = jax.grad(loss)(p, lambda q: term.noise(0.3, x, q))
    d_split = jax.grad(loss)(p, lambda q: term.noise_from(term.noise_coefficients(0.3, q), x, q))
    for name in ("m", "s", "beta_min", "beta_max"):
        assert (abs(float(d_whole[name] - d_split[name]))
                <= 1e-11 * max(1.0, abs(float(d_whole[name]))))


def test_python_score_is_not_split():
    model = symflow.load(ROOT / "examples" / "vp_sampler.sf")
    setup = diffusion_setup(model.system)
    term = setup.term(lambda x, t, p: -x)
    p = model.complete_params(None)
    x = jnp.ones((3, 1))
    assert jnp.allclose(term.noise_from(term.noise_coefficients(0.5, p), x, p),
                        term.noise(0.5, x, p), rtol=0, atol=0)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_small_solve_matches_lu(n):
    rng = np.random.default_rng(n)
    r = rng.uniform(-3.0, 1.0, size=(6, n))  # distinct points: R_kj = r_j^k
    mat = r[:, None, :] ** np.arange(n)[:, None]
    b = rng.normal(size=(6, n))
    ours = np.asarray(_solve_small(jnp.asarray(mat), jnp.asarray(b)))
    assert np.allclose(ours, np.linalg.solve(mat, b[..., None])[..., 0], rtol=1e-11, atol=1e-12)
