"""Brownian fields on 2-D and 3-D grids: `brownian W(x, y)`, `W(x, y, z)`.

The truth is computed here, not by symflow. With Dirichlet faces the interior of
`kappa*laplacian(u)` on a box of `m_a = n_a - 2` inner points per axis (spacing
`h_a`) is `kappa*L`, `L` the Kronecker sum of the 1-D Dirichlet Laplacians: its
eigenvectors are the Kronecker products of the 1-D sine vectors
`sqrt(2/(m+1)) sin(i k pi/(m+1))` (x-major, like the flat field), its eigenvalues
the sums of the 1-D ones, `-4/h_a^2 sin^2(k pi/(2(m_a+1)))`. A Brownian field puts
an independent Brownian motion at every point, scaled by `1/sqrt(cell volume)`
(`h_x h_y` in 2-D): Euler–Maruyama is `u <- A u + sigma sqrt(dt/V) xi`,
`A = I + dt kappa L`, so every eigenmode is an independent Gaussian AR(1) process
with mean `a^N c(0)` and variance `q (1 - a^(2N)) / (1 - a^2)`, `q = sigma^2 dt/V`.

For multiplicative Itô noise `sigma*u*dW` the mean follows the deterministic
scheme `A^N u0` (the noise and Milstein's `dW^2 - dt` have mean zero).
"""

import numpy as np
import pytest

import models
import symflow

TRAJECTORIES = 2000
AXES = ("x", "y", "z")


def model_text(points, upper, noise, *, solver="euler", brownian=None):
    """A stochastic heat equation on the box [0, upper_a] with `points` per axis."""
    axes = AXES[: len(points)]
    coords = ", ".join(axes)
    domain = "\n".join(f"    {a} in [0, {u}], points = {n}"
                       for a, n, u in zip(axes, points, upper))
    first = "*".join(f"sin(pi*{a}/{u})" for a, u in zip(axes, upper))
    second = "*".join(f"sin({k}*pi*{a}/{u})" for k, a, u in zip((2, 1, 1), axes, upper))
    faces = "\n".join(f"    u = 0 at {a} = {e}" for a, u in zip(axes, upper) for e in (0, u))
    return models.model_text("stochastic_heat_nd_template").format(
        domain=domain, coords=coords, first=first, second=second,
        brownian=brownian or f"W({coords})", noise=noise, faces=faces, solver=solver)


def dirichlet_modes(points, upper):
    """Eigenvectors (columns), eigenvalues, cell volume and inner grid of the Dirichlet
    Laplacian on the box, inner points x-major."""
    vectors, eigenvalues, volume = np.ones((1, 1)), np.zeros(1), 1.0
    grids = []
    for n, u in zip(points, upper):
        m, h = n - 2, u / (n - 1)
        k = np.arange(1, m + 1)
        v = np.sqrt(2 / (m + 1)) * np.sin(np.outer(k, k) * np.pi / (m + 1))
        lam = -4 / h**2 * np.sin(k * np.pi / (2 * (m + 1))) ** 2
        vectors = np.kron(vectors, v)
        eigenvalues = (eigenvalues[:, None] + lam[None, :]).ravel()
        volume *= h
        grids.append(np.linspace(0, u, n)[1:-1])
    return vectors, eigenvalues, volume, np.meshgrid(*grids, indexing="ij")


def initial_inner(mesh, upper):
    first = np.prod([np.sin(np.pi * c / u) for c, u in zip(mesh, upper)], axis=0)
    second = np.prod([np.sin(k * np.pi * c / u) for k, c, u in zip((2, 1, 1), mesh, upper)],
                     axis=0)
    return (first + 0.5 * second).ravel()


def inner(u, points):
    """The inner points of flat fields `(..., prod(points))`, x-major."""
    grid = u.reshape(u.shape[:-1] + tuple(points))
    return grid[(...,) + (slice(1, -1),) * len(points)].reshape(u.shape[:-1] + (-1,))


@pytest.mark.parametrize("points, upper", [
    pytest.param((9, 7), (1, 1.5), id="2-D"),
    # 3-D: the same check; slow (about 15 s of compile and run on the shared machine)
    pytest.param((5, 6, 5), (1, 1, 1), id="3-D", marks=pytest.mark.slow),
])
def test_additive_field_noise_modes_match_the_exact_scheme(points, upper):
    m = symflow.loads(model_text(points, upper, "sigma"))
    assert m.runner.ensembles.noise_class == "additive"
    kappa, sigma = float(m.params["kappa"]), float(m.params["sigma"])
    dt, (t0, t1) = m.settings.dt0, m.settings.tspan
    assert m.generated.brownian_sizes == (int(np.prod(points)),)
    u = np.asarray(m.simulate(trajectories=TRAJECTORIES, seed=5)["u"])
    assert u.shape == (TRAJECTORIES, 3, int(np.prod(points)))
    faces = u.reshape(u.shape[:2] + tuple(points)).copy()
    faces[(...,) + (slice(1, -1),) * len(points)] = 0
    assert np.all(faces == 0)  # no noise on the Dirichlet faces
    vectors, eigenvalues, volume, mesh = dirichlet_modes(points, upper)
    steps = round((t1 - t0) / dt)
    a = 1 + dt * kappa * eigenvalues
    mean = a**steps * (vectors.T @ initial_inner(mesh, upper))
    variance = sigma**2 * dt / volume * (1 - a ** (2 * steps)) / (1 - a**2)
    modes = inner(u[:, -1], points) @ vectors  # the eigen-coefficients of each path at t1
    z = (modes.mean(axis=0) - mean) / np.sqrt(variance / TRAJECTORIES)
    assert np.max(np.abs(z)) < 4, z
    ratio = modes.var(axis=0, ddof=1) / variance
    assert np.max(np.abs(ratio - 1)) < 4 * np.sqrt(2 / (TRAJECTORIES - 1)), ratio
    # the scale is 1/sqrt(cell volume), not 1/sqrt(h) of one axis or no scale at all
    assert np.mean(ratio) > 0.5 and np.mean(ratio * volume ** (1 / len(points))) < 0.5


def test_multiplicative_2d_field_noise_is_diagonal_with_a_symbolic_milstein_term():
    points, upper = (9, 7), (1, 1.5)
    m = symflow.loads(model_text(points, upper, "sigma*u", solver="auto"))
    assert m.runner.ensembles.noise_class == "diagonal"
    g = m.generated
    source = g.source
    assert "def milstein(t, y, p, dw, h):" in source
    assert "g[0] * dw[0:63]" in source and "y[1]" not in source  # array-level code
    # 1/2 g dg/du (dB^2 - h), g = sigma u / sqrt(hx hy), point by point; 0 on the faces
    rng = np.random.default_rng(0)
    y, dw, h = rng.normal(size=63), rng.normal(size=63) * 0.03, 1e-3
    volume = (1 / 8) * (1.5 / 6)
    want = (0.5 * 0.5**2 / volume * y * (dw**2 - h)).reshape(points)
    want[[0, -1], :] = 0
    want[:, [0, -1]] = 0
    got = np.asarray(g.milstein(0.0, y, g.parameter_defaults({}), dw, h))
    np.testing.assert_allclose(got, want.ravel(), rtol=1e-12, atol=1e-15)

    kappa = float(m.params["kappa"])
    dt, (t0, t1) = m.settings.dt0, m.settings.tspan
    timings = {}
    u = np.asarray(m.simulate(trajectories=TRAJECTORIES, timings=timings)["u"])[:, -1]
    assert timings["solver"] == "milstein"  # auto: the highest order for diagonal noise
    vectors, eigenvalues, _, mesh = dirichlet_modes(points, upper)
    steps = round((t1 - t0) / dt)
    a = 1 + dt * kappa * eigenvalues
    mean = vectors @ (a**steps * (vectors.T @ initial_inner(mesh, upper)))
    v = inner(u, points)
    z = (v.mean(axis=0) - mean) / (v.std(axis=0, ddof=1) / np.sqrt(TRAJECTORIES))
    assert np.max(np.abs(z)) < 4.5, z
    assert np.min(v.std(axis=0)) > 0.01  # the noise is there at every inner point


def test_coupled_2d_field_noise_is_general():
    # the coefficient at a point reads its neighbours: no longer point by point
    m = symflow.loads(model_text((9, 7), (1, 1.5), "sigma*diff(u, y)"))
    assert m.runner.ensembles.noise_class == "general"


@pytest.mark.parametrize("brownian, message", [
    ("W(x)", r"must depend on every coordinate of the domain, in order: W\(x, y\)"),
    ("W(y, x)", r"must depend on every coordinate of the domain, in order: W\(x, y\)"),
    ("W(x, z)", "'z' is not a coordinate of the domain"),
])
def test_a_brownian_field_on_other_coordinates_is_an_error(brownian, message):
    with pytest.raises(symflow.SymflowError, match=message):
        symflow.loads(model_text((9, 7), (1, 1.5), "sigma", brownian=brownian))
