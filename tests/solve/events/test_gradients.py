"""Gradients through events against central finite differences and closed forms.

The derivative of an event time with respect to parameters and initial values comes
from the implicit-function theorem at each crossing (`events/locate.py`); these tests
check it end to end, on the examples. Finite differences use a step of 1e-6 at
rtol = 1e-10 (an error of about 1e-10/1e-6 = 1e-4 relative at worst; the observed
agreement is far better), so the tolerance is 1e-5 relative.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"


def _central(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian of f at x by central differences, one column per entry of x."""
    columns = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps * max(1.0, abs(x[i]))
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * step[i]))
    return np.stack(columns, axis=-1)


@pytest.fixture(scope="module")
def ball():
    return symflow.load(EXAMPLES / "bouncing_ball.sf")


@pytest.mark.slow
def test_bounce_time_and_height_gradients_match_finite_differences_and_closed_form(ball):
    g = 9.81

    def outputs(x):  # x = (r, h0): the third bounce's time and h at t = 5
        sol = ball.simulate(params={"r": x[0], "h0": x[1]}, tspan=(0, 8), saveat=[5.0])
        return jnp.stack([sol.events.t[2], sol["h"][1]])

    x = np.array([0.9, 10.0])
    jac = np.asarray(jax.jacrev(outputs)(jnp.asarray(x)))
    np.testing.assert_allclose(jac, _central(outputs, x), rtol=1e-5)
    # closed form: t3 = T + 2 r v0/g + 2 r^2 v0/g with T = sqrt(2 h0/g), v0 = sqrt(2 g h0)
    r, h0 = x
    v0 = np.sqrt(2 * g * h0)
    dt3_dr = 2 * v0 / g + 4 * r * v0 / g
    dt3_dh0 = 1 / np.sqrt(2 * g * h0) + (2 * r + 2 * r * r) / g * g / v0
    np.testing.assert_allclose(jac[0], [dt3_dr, dt3_dh0], rtol=1e-8)


@pytest.mark.slow
def test_forward_mode_through_events_agrees_with_reverse_mode(ball):
    def bounce(r):
        sol = ball.simulate(params={"r": r}, tspan=(0, 6), saveat=2, adjoint="forward")
        return sol.events.t[1]

    forward = float(jax.jacfwd(bounce)(0.9))
    reverse = float(jax.grad(lambda r: ball.simulate(
        params={"r": r}, tspan=(0, 6), saveat=2).events.t[1])(0.9))
    assert forward == pytest.approx(reverse, rel=1e-10)


@pytest.mark.slow  # (default-suite time: the bounce test covers event gradients)
def test_multidose_concentration_gradients_match_finite_differences():
    m = symflow.load(EXAMPLES / "multidose_pk.sf")
    times = [6.0, 30.0, 95.0]

    def concentration(x):  # x = (CL, V)
        return m.simulate(params={"CL": x[0], "V": x[1]}, saveat=times)["C"][1:4]

    x = np.array([2.0, 20.0])
    jac = np.asarray(jax.jacrev(concentration)(jnp.asarray(x)))
    np.testing.assert_allclose(jac, _central(concentration, x), rtol=1e-5)
    # closed form: C = sum over doses D/V exp(-CL/V (t - t_k))
    CL, V, D = 2.0, 20.0, 100.0
    ages = [np.arange(0, t + 1e-9, 12.0) for t in times]
    t_k = [t - a for t, a in zip(times, ages)]
    dC_dCL = [np.sum(-D / V * (tk / V) * np.exp(-CL / V * tk)) for tk in t_k]
    np.testing.assert_allclose(jac[:, 0], dC_dCL, rtol=1e-8)


@pytest.mark.slow
def test_landing_time_and_range_gradients_through_a_terminating_event():
    m = symflow.load(EXAMPLES / "projectile.sf")
    g = 9.81

    def landing(x):  # x = (speed, angle): the landing time and the range
        sol = m.simulate(params={"speed": x[0], "angle": x[1]}, saveat=2)
        return jnp.stack([sol.t_reached, sol.events.pre[0, 0]])

    x = np.array([20.0, 0.7])
    jac = np.asarray(jax.jacrev(landing)(jnp.asarray(x)))
    np.testing.assert_allclose(jac, _central(landing, x), rtol=1e-5)
    s, a = x
    exact = [[2 * np.sin(a) / g, 2 * s * np.cos(a) / g],
             [2 * s * np.sin(2 * a) / g, 2 * s * s * np.cos(2 * a) / g]]
    np.testing.assert_allclose(jac, exact, rtol=1e-8)
