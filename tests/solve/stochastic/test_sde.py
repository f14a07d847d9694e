"""SDE solves against exact results.

- Geometric Brownian motion against its exact solution on the same Brownian path
  (the ensemble saves W): the strong error E|S_N - S(T)| over a refinement of dt
  gives the measured strong order, ~0.5 for Euler–Maruyama and ~1.0 for Milstein.
- The same GBM written in Stratonovich form (drift mu - sigma^2/2) converges to
  the same exact solution with Stratonovich solvers.
- Ornstein–Uhlenbeck with a random initial value: exact mean and variance (weak).
- Underdamped Langevin (2-D linear SDE): exact mean (matrix exponential) and exact
  covariance (Van Loan's block exponential), computed here with SciPy.
"""

import math
import pathlib

import numpy as np
import pytest
import scipy.linalg

import symflow
from models import model_text

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"

GBM = model_text("gbm_template")
TOL = 2.0**-10  # one Brownian tree for every dt: the same path at every refinement


@pytest.fixture(scope="module")
def gbm():
    return symflow.loads(GBM.format(drift="mu", noise="ito"))


@pytest.fixture(scope="module")
def gbm_stratonovich():
    return symflow.loads(GBM.format(drift="(mu - sigma^2/2)", noise="stratonovich"))


def strong_errors(model, solver, dts, *, trajectories=400, seed=0):
    """E|S_N - S(T)| at T = 1 for each dt, against the exact Itô solution on the same path."""
    mu, sigma = float(model.params["mu"]), float(model.params["sigma"])
    errors = []
    for dt in dts:
        sol = model.simulate(solver=solver, dt=dt, trajectories=trajectories, seed=seed,
                             brownian_tol=TOL, save_noise=True)
        w = np.asarray(sol["W"])[:, -1]
        exact = np.exp((mu - sigma**2 / 2) + sigma * w)
        errors.append(np.mean(np.abs(np.asarray(sol["S"])[:, -1] - exact)))
    return np.array(errors)


def order(dts, errors) -> float:
    return float(np.polyfit(np.log(dts), np.log(errors), 1)[0])


DTS = 2.0 ** -np.array([3, 7])  # a refinement by 16 (2 compiles); the slow test takes 6
DTS_SLOW = 2.0 ** -np.arange(3, 9)


@pytest.mark.slow
@pytest.mark.parametrize("solver, lo, hi", [("euler", 0.35, 0.7), ("milstein", 0.8, 1.2)])
def test_gbm_strong_order(gbm, solver, lo, hi):
    errors = strong_errors(gbm, solver, DTS)
    assert np.all(np.diff(errors) < 0), errors
    assert lo < order(DTS, errors) < hi, (order(DTS, errors), errors)


@pytest.mark.slow
@pytest.mark.parametrize("solver, lo, hi", [("euler", 0.4, 0.6), ("milstein", 0.9, 1.1)])
def test_gbm_strong_order_fine(gbm, solver, lo, hi):
    """The measured orders in docs/sde.md (2,000 paths, dt = 2^-3 ... 2^-8)."""
    errors = strong_errors(gbm, solver, DTS_SLOW, trajectories=2000)
    print(f"\n{solver}: errors {errors}, order {order(DTS_SLOW, errors):.3f}")
    assert np.all(np.diff(errors) < 0), errors
    assert lo < order(DTS_SLOW, errors) < hi, (order(DTS_SLOW, errors), errors)


@pytest.mark.slow
def test_gbm_stratonovich_strong_order_fine(gbm_stratonovich):
    for solver in ("heun", "milstein"):
        errors = strong_errors(gbm_stratonovich, solver, DTS_SLOW, trajectories=2000)
        print(f"\nstratonovich {solver}: errors {errors}, order {order(DTS_SLOW, errors):.3f}")
        assert 0.85 < order(DTS_SLOW, errors) < 1.15, errors


# ~15 s quiet (two ensembles compiled); the conversion itself is checked symbolically
# in tests/symbolic/test_noise.py, so this end-to-end twin runs with -m slow
@pytest.mark.slow
def test_stratonovich_model_matches_its_ito_equivalent(gbm, gbm_stratonovich):
    """The Stratonovich GBM (drift mu - sigma^2/2) has the Itô GBM's exact solution.

    Heun converges to the Stratonovich solution; on the same path it must
    approach the Itô exact solution as fast as Milstein on the Itô form does.
    """
    dt = DTS[-1]
    (ito,) = strong_errors(gbm, "milstein", [dt])
    (strat,) = strong_errors(gbm_stratonovich, "heun", [dt])
    assert strat < 2 * ito and strat < 0.02, (strat, ito)
    # Heun solves the Stratonovich form only: the Itô model refuses it.
    with pytest.raises(symflow.SymflowError, match="converges to the stratonovich solution"):
        gbm.simulate(solver="heun", dt=dt)


def test_invalid_solver_for_the_noise_class_names_the_valid_ones():
    m = symflow.load(EXAMPLES / "stochastic_lotka_volterra.sf")
    with pytest.raises(symflow.SymflowError, match="shark needs additive noise") as e:
        m.simulate(solver="shark")
    assert "valid solvers here: auto, euler, milstein" in e.value.pretty()


def test_ornstein_uhlenbeck_exact_mean_and_variance():
    m = symflow.load(EXAMPLES / "ornstein_uhlenbeck.sf")
    timings = {}
    sol = m.simulate(timings=timings)
    assert timings["solver"] == "shark"  # additive noise: auto picks the order-1.5 solver
    theta, sigma, m0, s0 = (float(m.params[k]) for k in ("theta", "sigma", "m0", "s0"))
    t = np.asarray(sol.t)
    mean = m0 * np.exp(-theta * t)
    var = s0**2 * np.exp(-2 * theta * t) + sigma**2 / (2 * theta) * (1 - np.exp(-2 * theta * t))
    n = sol.trajectories
    # Monte Carlo errors: 4 standard errors of the mean and of the variance.
    assert np.all(np.abs(np.asarray(sol.mean["x"]) - mean) < 4 * np.sqrt(var / n))
    assert np.all(np.abs(np.asarray(sol.std["x"]) ** 2 - var) < 4 * var * np.sqrt(2 / (n - 1)))
    # The median of a Gaussian is its mean.
    assert np.all(np.abs(np.asarray(sol.quantile("x", 0.5)) - mean) < 5 * np.sqrt(var / n))


def test_langevin_exact_mean_and_covariance():
    m = symflow.load(EXAMPLES / "langevin.sf")
    sol = m.simulate()
    gamma, omega, sigma = (float(m.params[k]) for k in ("gamma", "omega", "sigma"))
    a = np.array([[0.0, 1.0], [-(omega**2), -gamma]])
    bbt = np.array([[0.0, 0.0], [0.0, sigma**2]])
    n = sol.trajectories
    for i, t in enumerate(np.asarray(sol.t)[1:], start=1):
        mean = scipy.linalg.expm(a * t) @ np.array([1.0, 0.0])
        block = scipy.linalg.expm(np.block([[-a, bbt], [np.zeros((2, 2)), a.T]]) * t)
        cov = block[2:, 2:].T @ block[:2, 2:]  # Van Loan (1978)
        for k, name in enumerate(("x", "v")):
            got_mean = float(sol.mean[name][i])
            got_var = float(sol.std[name][i]) ** 2
            assert abs(got_mean - mean[k]) < 4 * math.sqrt(cov[k, k] / n), (t, name)
            assert abs(got_var - cov[k, k]) < 4 * cov[k, k] * math.sqrt(2 / (n - 1)), (t, name)
