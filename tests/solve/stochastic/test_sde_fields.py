"""Noise on fields: `brownian W(x)`, one independent Brownian motion per grid point.

The truth is computed here from the grid Laplacian's eigenvalues, not by symflow.
With Dirichlet ends the interior of `kappa*diff(u, x, 2)` on `m = n - 2` points of
spacing `h` is `kappa*L` with eigenvectors `sqrt(2/(m+1)) sin(i k pi/(m+1))` and
eigenvalues `-4/h^2 sin^2(k pi/(2(m+1)))`. Euler–Maruyama on
`du = kappa L u dt + sigma/sqrt(h) dB` is `u <- A u + sigma sqrt(dt/h) xi` with
`A = I + dt kappa L`: every sine mode is an independent Gaussian AR(1) process,
with mean `a_k^N c_k(0)` and variance `q (1 - a_k^(2N)) / (1 - a_k^2)`,
`q = sigma^2 dt / h`, after N steps (exactly, for the scheme; the continuum's
stationary variance `sigma^2/(2 kappa) x (1 - x)` is its dt, h -> 0 limit).

For multiplicative Itô noise `sigma*v*dW` the mean obeys the deterministic
scheme, `E v_N = A^N v_0`, for Euler–Maruyama and Milstein alike (the noise and
Milstein's `dW^2 - dt` have mean zero).
"""

import pathlib

import numpy as np
import pytest

import symflow
from models import model_text

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"
TRAJECTORIES = 2000


def sine_modes(n: int):
    """Orthonormal eigenvectors (columns) and eigenvalues of the Dirichlet Laplacian."""
    m = n - 2
    h = 1.0 / (n - 1)
    k = np.arange(1, m + 1)
    vectors = np.sqrt(2 / (m + 1)) * np.sin(np.outer(k, k) * np.pi / (m + 1))
    return vectors, -4 / h**2 * np.sin(k * np.pi / (2 * (m + 1))) ** 2, h


@pytest.fixture(scope="module")
def heat():
    return symflow.load(EXAMPLES / "stochastic_heat.sf")


def test_stochastic_heat_modes_match_the_exact_scheme(heat):
    assert heat.runner.ensembles.noise_class == "additive"
    kappa, sigma = float(heat.params["kappa"]), float(heat.params["sigma"])
    dt, (t0, t1) = heat.settings.dt0, heat.settings.tspan
    sol = heat.simulate(trajectories=TRAJECTORIES)
    u = np.asarray(sol["u"])
    n = u.shape[-1]
    assert u.shape == (TRAJECTORIES, heat.settings.saveat, n)
    assert np.all(u[:, :, 0] == 0) and np.all(u[:, :, -1] == 0)  # no noise at the ends
    vectors, eigenvalues, h = sine_modes(n)
    steps = round((t1 - t0) / dt)
    a = 1 + dt * kappa * eigenvalues
    x = np.linspace(0, 1, n)[1:-1]
    mean = a**steps * (vectors.T @ np.sin(np.pi * x))
    variance = sigma**2 * dt / h * (1 - a ** (2 * steps)) / (1 - a**2)
    modes = u[:, -1, 1:-1] @ vectors  # the sine coefficients of each path at t1
    z = (modes.mean(axis=0) - mean) / np.sqrt(variance / TRAJECTORIES)
    assert np.max(np.abs(z)) < 4, z
    ratio = modes.var(axis=0, ddof=1) / variance
    assert np.max(np.abs(ratio - 1)) < 4 * np.sqrt(2 / (TRAJECTORIES - 1)), ratio
    # not the noise of independent points without the 1/sqrt(h) scale:
    assert np.mean(ratio) > 0.5 and np.mean(ratio * h) < 0.5


def test_generated_field_noise_is_array_level(heat):
    source = heat.generated.source
    body = source[source.index("def _diffusion_0"):source.index("def diffusion")]
    assert "jnp.full((15,)" in body and "y[" not in body  # one array expression
    assert "def noise(g, dw):\n" in source and "g[0] * dw[0:17]" in source


MULTIPLICATIVE = model_text("multiplicative_heat")


@pytest.fixture(scope="module")
def multiplicative():
    return symflow.loads(MULTIPLICATIVE)


def test_multiplicative_field_noise_is_diagonal_with_a_symbolic_milstein_term(multiplicative):
    assert multiplicative.runner.ensembles.noise_class == "diagonal"
    g = multiplicative.generated
    assert "def milstein(t, y, p, dw, h):" in g.source
    # 1/2 g dg/dv (dB^2 - h) with g = sigma v / sqrt(dx), point by point; 0 at the ends
    rng = np.random.default_rng(0)
    y, dw, h = rng.normal(size=13), rng.normal(size=13) * 0.03, 1e-3
    p = g.parameter_defaults({})
    dx = 1 / 12
    want = 0.5 * (0.8**2 / dx) * y * (dw**2 - h)
    want[[0, -1]] = 0
    np.testing.assert_allclose(np.asarray(g.milstein(0.0, y, p, dw, h)), want, rtol=1e-12)
    assert "y[0:13]" in g.source and "y[1]" not in g.source  # array-level code


def test_multiplicative_field_mean_follows_the_deterministic_scheme(multiplicative):
    m = multiplicative
    assert m.settings.solver == "auto"
    kappa = float(m.params["kappa"])
    dt, (t0, t1) = m.settings.dt0, m.settings.tspan
    timings = {}
    sol = m.simulate(trajectories=TRAJECTORIES, timings=timings)
    assert timings["solver"] == "milstein"  # auto: the highest order for diagonal noise
    v = np.asarray(sol["v"])[:, -1]
    n = v.shape[-1]
    vectors, eigenvalues, _ = sine_modes(n)
    steps = round((t1 - t0) / dt)
    x = np.linspace(0, 1, n)[1:-1]
    v0 = np.sin(np.pi * x) + 0.5 * np.sin(3 * np.pi * x)
    mean = vectors @ ((1 + dt * kappa * eigenvalues) ** steps * (vectors.T @ v0))
    se = v[:, 1:-1].std(axis=0, ddof=1) / np.sqrt(TRAJECTORIES)
    z = (v[:, 1:-1].mean(axis=0) - mean) / se
    assert np.max(np.abs(z)) < 4.5, z
    # the noise is really there at every inner point (without it the spread is 0)
    assert np.min(v[:, 1:-1].std(axis=0)) > 0.01


@pytest.mark.parametrize("text, message", [
    ("brownian\n    W(y)", "'y' is not a coordinate of the domain"),
])
def test_brownian_field_errors(text, message):
    model = MULTIPLICATIVE.replace("brownian\n    B(x)", text).replace("dB", "dW")
    with pytest.raises(symflow.SymflowError, match=message):
        symflow.loads(model)


def test_brownian_field_needs_a_domain():
    model = """model M
  variables
    x = 1.0
  brownian
    W(x)
  equations
    d(x) = -x*dt + dW
end
"""
    with pytest.raises(symflow.SymflowError, match="needs a domain"):
        symflow.loads(model)


@pytest.mark.parametrize("declaration, equation", [
    ("s = 1.0", "d(s) = -s*dt + dB"),  # a scalar
    ("z[13] = 1.0", "d(z) = -z*dt + dB"),  # an array of as many values, but no field
])
def test_a_brownian_field_drives_only_a_field(declaration, equation):
    model = MULTIPLICATIVE.replace(
        "  variables\n    v(x)", f"  variables\n    {declaration}\n    v(x)"
    ).replace("  boundary", f"    {equation}\n  boundary")
    with pytest.raises(symflow.SymflowError, match=r"increment of the Brownian field 'B\(x\)' "
                       r"\(13 grid points\) and cannot drive '[sz]', which is not a field"):
        symflow.loads(model)
