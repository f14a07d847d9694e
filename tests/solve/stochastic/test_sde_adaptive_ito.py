"""Adaptive steps for Itô models with multiplicative noise, beyond scalar GBM.

symflow solves such a model in its Stratonovich form, drift `f - 1/2 sum_j L^j g_j`
(the generated Milstein term at `dW = 0`, `h = 1`). Here that correction is
checked where it sums over several motions (commutative noise) and over the
points of a Brownian field (diagonal noise), first as a value (cheap), then, under
`-m slow`, through adaptive solves against independent truth:

- two motions driving one GBM, `d(S) = mu S dt + s1 S dW1 + s2 S dW2`: the exact Itô
  solution on the same path is `exp((mu - (s1^2 + s2^2)/2) t + s1 W1 + s2 W2)`;
- multiplicative noise on a Brownian field, `d(u) = kappa u_xx dt + sigma u dW`
  with Dirichlet ends: the Itô noise has mean zero, so the mean of the semi-discrete
  system is `expm(T kappa L) u0` (`L` the Dirichlet grid Laplacian); the
  Stratonovich reading of the same equation would instead grow every point's mean
  by `exp(sigma^2/(2h) T)` (1.22 here), far outside the Monte Carlo error.
"""

import numpy as np
import pytest
import scipy.linalg

import symflow
from models import model_text

TWO_MOTIONS = model_text("two_motion_gbm")

POINTS = 9
FIELD = model_text("multiplicative_heat_template").format(points=POINTS)


@pytest.fixture(scope="module")
def two_motions():
    return symflow.loads(TWO_MOTIONS)


@pytest.fixture(scope="module")
def field():
    return symflow.loads(FIELD)


def test_two_motion_correction_sums_over_the_motions(two_motions):
    m = two_motions
    ensembles = m.runner.ensembles
    assert ensembles.noise_class == "commutative"
    assert ensembles.converts_ito("ito") and not ensembles.converts_ito("stratonovich")
    assert ensembles.adaptive_solver_for(None, "ito") == "heun"
    g = m.generated
    p = g.parameter_defaults({})
    s = 1.7
    correction = np.asarray(g.milstein(0.0, np.array([s]), p, np.zeros(2), 1.0))
    # -1/2 (L^1 g_1 + L^2 g_2) = -1/2 (s1^2 + s2^2) S; the cross terms have no -h
    np.testing.assert_allclose(correction, [-0.5 * (0.6**2 + 0.5**2) * s], rtol=1e-12)


def test_field_correction_is_point_by_point_and_zero_at_the_ends(field):
    ensembles = field.runner.ensembles
    assert ensembles.noise_class == "diagonal" and ensembles.converts_ito("ito")
    g = field.generated
    y = np.random.default_rng(1).normal(size=POINTS)
    correction = np.asarray(g.milstein(0.0, y, g.parameter_defaults({}), np.zeros(POINTS),
                                       1.0))
    h = 1 / (POINTS - 1)
    want = -0.5 * 0.5**2 / h * y  # g = sigma u / sqrt(h): -1/2 g dg/du
    want[[0, -1]] = 0
    np.testing.assert_allclose(correction, want, rtol=1e-12, atol=1e-15)


@pytest.mark.slow  # 8-15 s on the shared machine, mostly compiling
def test_two_motion_ito_gbm_adaptive_converges_to_the_exact_solution(two_motions):
    m = two_motions
    mu, s1, s2 = (float(m.params[k]) for k in ("mu", "s1", "s2"))
    errors = []
    for tol in (1e-1, 1e-2, 1e-3):  # run-time tolerances: one compiled program
        sol = m.simulate(rtol=tol, atol=tol, trajectories=100, save_noise=True)
        w1, w2 = (np.asarray(sol[w])[:, -1] for w in ("W1", "W2"))
        exact = np.exp(mu - (s1**2 + s2**2) / 2 + s1 * w1 + s2 * w2)
        errors.append(float(np.mean(np.abs(np.asarray(sol["S"])[:, -1] - exact))))
    # measured: 0.048, 0.0050, 0.00049 (load average 5)
    assert errors[0] > 4 * errors[1] > 16 * errors[2], errors
    assert errors[2] < 1e-3, errors


@pytest.mark.slow  # 8-17 s on the shared machine
def test_adaptive_ito_field_mean_follows_the_deterministic_system(field):
    kappa, sigma = float(field.params["kappa"]), float(field.params["sigma"])
    t1 = field.settings.tspan[1]
    n, h = POINTS - 2, 1 / (POINTS - 1)
    laplacian = (np.diag(-2 * np.ones(n)) + np.diag(np.ones(n - 1), 1)
                 + np.diag(np.ones(n - 1), -1)) / h**2
    x = np.linspace(0, 1, POINTS)[1:-1]
    u0 = np.sin(np.pi * x) + 0.5 * np.sin(2 * np.pi * x)
    want = scipy.linalg.expm(t1 * kappa * laplacian) @ u0
    trajectories = 1000
    timings = {}
    sol = field.simulate(trajectories=trajectories, seed=1, timings=timings)
    assert timings["solver"] == "heun"
    u = np.asarray(sol["u"])[:, -1, 1:-1]
    z = (u.mean(axis=0) - want) / (u.std(axis=0, ddof=1) / np.sqrt(trajectories))
    # measured: |z| <= 0.75, means within 0.7% of the exact ones
    assert np.max(np.abs(z)) < 4, z
    # the uncorrected (Stratonovich) reading would be 22% high at every point
    stratonovich = np.exp(sigma**2 / (2 * h) * t1)
    assert stratonovich > 1.2
    assert np.max(np.abs(u.mean(axis=0) / want - 1)) < (stratonovich - 1) / 4
