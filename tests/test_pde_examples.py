"""The PDE examples against independent truth: Burgers' equation against the
Cole-Hopf exact solution (with its observed order over three grids, slow), and
the Fisher-KPP front speed against 2 sqrt(D r) with Bramson's correction."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import scipy.special

import symflow

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def burgers_exact(x, t, nu, terms=200):
    """Cole-Hopf: u = -2 nu phi_x/phi, phi solving the heat equation from
    phi0 = exp(-(1 - cos(pi x))/(2 pi nu)), whose cosine coefficients are
    modified Bessel functions: a_n = 2 exp(-k) I_n(k) (a_0 without the 2), k = 1/(2 pi nu);
    `ive` keeps them finite for small nu."""
    k = 1 / (2 * np.pi * nu)
    n = np.arange(1, terms + 1)[:, None]
    a0 = scipy.special.ive(0, k)
    an = 2 * scipy.special.ive(n, k) * np.exp(-(n * np.pi) ** 2 * nu * t)
    phi = a0 + np.sum(an * np.cos(n * np.pi * x), axis=0)
    phi_x = -np.sum(an * n * np.pi * np.sin(n * np.pi * x), axis=0)
    return -2 * nu * phi_x / phi


def burgers_error(points: int) -> float:
    text = (EXAMPLES / "burgers.sf").read_text().replace("points = 161",
                                                         f"points = {points}")
    m = symflow.loads(text)
    sol = m.simulate()
    x = m.system.domain[0].grid()
    return max(float(np.max(np.abs(np.asarray(sol["u"][i]) - burgers_exact(x, float(t), 0.1))))
               for i, t in enumerate(np.asarray(sol.t)))


def test_burgers_matches_cole_hopf():
    # order 2 with h = 1/160 on a front of width about nu: error ~ 1e-4
    assert burgers_error(161) < 5e-4


@pytest.mark.slow
def test_burgers_observed_order():
    errors = np.array([burgers_error(n) for n in (41, 81, 161)])
    rates = np.log2(errors[:-1] / errors[1:])
    assert abs(rates[-1] - 2) < 0.2, (rates, errors)


@pytest.mark.slow
def test_fisher_kpp_front_speed():
    m = symflow.load(EXAMPLES / "fisher_kpp.sf")
    sol = m.simulate()
    x = m.system.domain[0].grid()
    t = np.asarray(sol.t)
    u = np.asarray(sol["u"])

    def front(i):  # where u crosses 1/2, linearly interpolated
        j = int(np.argmax(u[i] < 0.5))
        return x[j - 1] + (u[i, j - 1] - 0.5) / (u[i, j - 1] - u[i, j]) * (x[j] - x[j - 1])

    i20, i40 = int(np.argmin(abs(t - 20))), int(np.argmin(abs(t - 40)))
    speed = (front(i40) - front(i20)) / (t[i40] - t[i20])
    # x(t) = 2 sqrt(D r) t - (3/2) ln t + ... (Bramson), D = r = 1
    expected = 2.0 - 1.5 * np.log(t[i40] / t[i20]) / (t[i40] - t[i20])
    assert abs(speed - expected) < 0.02, (speed, expected)
    assert 0.0 <= u.min() and u.max() <= 1.0 + 1e-6


def test_brusselator_2d_right_side_is_the_hand_written_one():
    """examples/brusselator_2d.sf on a 16x16 grid against the same system written by
    hand in jnp (periodic 5-point Laplacian, the pulse switched on at t = 1.1)."""
    import pathlib

    import jax.numpy as jnp

    text = (pathlib.Path(__file__).parents[1] / "examples" / "brusselator_2d.sf").read_text()
    n = 16
    m = symflow.loads(text.replace("points = 32", f"points = {n}"))
    h = 1.0 / n
    xx, yy = np.meshgrid(np.arange(n) * h, np.arange(n) * h, indexing="ij")
    pulse = ((xx - 0.3) ** 2 + (yy - 0.6) ** 2 <= 0.01).ravel()

    def lap(a):
        a = a.reshape(n, n)
        return ((np.roll(a, 1, 0) + np.roll(a, -1, 0) + np.roll(a, 1, 1) + np.roll(a, -1, 1)
                 - 4 * a) / h**2).ravel()

    def rhs(t, u, v):
        f = np.where(pulse & (t >= 1.1), 5.0, 0.0)
        return np.concatenate([1.0 + u**2 * v - 4.4 * u + 10 * lap(u) + f,
                               3.4 * u - u**2 * v + 10 * lap(v)])

    u0 = (22 * (yy * (1 - yy)) ** 1.5).ravel()
    v0 = (27 * (xx * (1 - xx)) ** 1.5).ravel()
    y0 = np.asarray(m.runner.simulator.pack(m.initial_values()))
    np.testing.assert_allclose(y0, np.concatenate([u0, v0]), atol=1e-12)
    rng = np.random.default_rng(0)
    u, v = rng.uniform(0, 3, n * n), rng.uniform(0, 3, n * n)
    for t in (0.0, 2.0):
        ours = np.asarray(m.rhs(t, jnp.asarray(np.concatenate([u, v]))))
        np.testing.assert_allclose(ours, rhs(t, u, v), rtol=1e-12, atol=1e-9)
    assert pulse.sum() > 0
