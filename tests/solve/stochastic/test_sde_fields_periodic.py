"""Brownian fields on a periodic 2-D grid: `brownian W(x, y)` with `periodic` axes.

The truth is computed here, not by symflow: the central 5-point Laplacian of a
periodic `n_x x n_y` grid is `L = kron(Lx, I) + kron(I, Ly)`, `L_a` the circulant
1-D second difference. Euler–Maruyama with one Brownian motion per point,
scaled by `1/sqrt(h_x h_y)`, is `u <- A u + sigma sqrt(dt/V) xi` with
`A = I + dt kappa L` symmetric, so in any orthonormal eigenbasis of `L` every mode
is an independent Gaussian AR(1) process: mean `a^N c(0)`, variance
`q (1 - a^(2N)) / (1 - a^2)` (`q N` for the constant mode, `a = 1`), `q = sigma^2 dt/V`.
For multiplicative Itô noise the mean is `A^N u0` (the noise and Milstein's
`dW^2 - dt` have mean zero).
"""

import numpy as np
import pytest

import models
import symflow

NX, NY = 8, 6
UPPER_Y = 1.5
HX, HY = 1 / NX, UPPER_Y / NY  # periodic: n cells, the upper end omitted
TRAJECTORIES = 2000


def model_text(noise, *, solver="euler"):
    return models.model_text("periodic_stochastic_heat_template").format(
        nx=NX, upper_y=UPPER_Y, ny=NY, noise=noise, solver=solver)


def periodic_laplacian():
    def second_difference(n, h):
        d = -2 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
        d[0, -1] = d[-1, 0] = 1
        return d / h**2
    return (np.kron(second_difference(NX, HX), np.eye(NY))
            + np.kron(np.eye(NX), second_difference(NY, HY)))  # x-major, like the field


def initial_field():
    x, y = np.meshgrid(np.arange(NX) * HX, np.arange(NY) * HY, indexing="ij")
    return (1 + np.cos(2 * np.pi * x) * np.sin(2 * np.pi * y / UPPER_Y)).ravel()


def test_additive_periodic_field_noise_modes_match_the_exact_scheme():
    m = symflow.loads(model_text("sigma"))
    assert m.runner.ensembles.noise_class == "additive"
    assert m.generated.brownian_sizes == (NX * NY,)
    kappa, sigma = float(m.params["kappa"]), float(m.params["sigma"])
    dt, (t0, t1) = m.settings.dt0, m.settings.tspan
    u = np.asarray(m.simulate(trajectories=TRAJECTORIES, seed=5)["u"])
    assert u.shape == (TRAJECTORIES, 3, NX * NY)
    eigenvalues, vectors = np.linalg.eigh(periodic_laplacian())
    steps = round((t1 - t0) / dt)
    a = 1 + dt * kappa * eigenvalues
    q = sigma**2 * dt / (HX * HY)
    constant = np.abs(eigenvalues) < 1e-9
    assert constant.sum() == 1  # one constant mode: a random walk, no decay
    geometric = np.where(constant, steps, (1 - a ** (2 * steps)) / np.where(constant, 1, 1 - a**2))
    mean = a**steps * (vectors.T @ initial_field())
    variance = q * geometric
    modes = u[:, -1] @ vectors
    z = (modes.mean(axis=0) - mean) / np.sqrt(variance / TRAJECTORIES)
    assert np.max(np.abs(z)) < 4, z  # measured: largest |z| 2.8
    ratio = modes.var(axis=0, ddof=1) / variance
    # measured: 0.927 to 1.063
    assert np.max(np.abs(ratio - 1)) < 4 * np.sqrt(2 / (TRAJECTORIES - 1)), ratio


def test_multiplicative_periodic_field_noise_is_diagonal_and_its_mean_is_the_scheme():
    m = symflow.loads(model_text("sigma*u", solver="auto"))
    assert m.runner.ensembles.noise_class == "diagonal"
    g = m.generated
    rng = np.random.default_rng(0)
    y, dw, h = rng.normal(size=NX * NY), rng.normal(size=NX * NY) * 0.03, 1e-3
    # 1/2 g dg/du (dB^2 - h), g = sigma u / sqrt(hx hy), at every point (no faces)
    want = 0.5 * 0.5**2 / (HX * HY) * y * (dw**2 - h)
    got = np.asarray(g.milstein(0.0, y, g.parameter_defaults({}), dw, h))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)

    kappa = float(m.params["kappa"])
    dt, (t0, t1) = m.settings.dt0, m.settings.tspan
    timings = {}
    u = np.asarray(m.simulate(trajectories=TRAJECTORIES, seed=2, timings=timings)["u"])[:, -1]
    assert timings["solver"] == "milstein"
    steps = round((t1 - t0) / dt)
    mean = np.linalg.matrix_power(np.eye(NX * NY) + dt * kappa * periodic_laplacian(),
                                  steps) @ initial_field()
    z = (u.mean(axis=0) - mean) / (u.std(axis=0, ddof=1) / np.sqrt(TRAJECTORIES))
    assert np.max(np.abs(z)) < 4.5, z
    assert np.min(u.std(axis=0)) > 0.05  # the noise reaches every point


def test_a_periodic_brownian_field_on_one_axis_is_an_error():
    with pytest.raises(symflow.SymflowError, match=r"in order: W\(x, y\)"):
        symflow.loads(model_text("sigma").replace("    W(x, y)", "    W(y)"))
