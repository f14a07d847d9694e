"""STLSQ and the threshold rule, on synthetic data with a known sparse truth."""

import numpy as np
import pytest
import sympy as sp

from symflow.learn.distill import (
    THRESHOLDS,
    FunctionCandidate,
    build_library,
    sparse_regression,
    stlsq,
)

X, Y = sp.symbols("x y")


@pytest.fixture(scope="module")
def library():
    functions = [FunctionCandidate("f", 1, lambda a: sp.exp(-a)),
                 FunctionCandidate("g", 2, lambda a, b: a / (1 + b**2))]
    return build_library([X, Y], degree=3, functions=functions)


@pytest.fixture(scope="module")
def samples(library):
    z = np.random.default_rng(0).uniform(-2, 2, (400, 2))
    return z, library.evaluate(z)


def _truth(library, **named):
    names = library.names()
    xi = np.zeros(len(library))
    for name, value in named.items():
        xi[names.index(name)] = value
    return xi


TRUE = {"1": 2.0, "x*y": -0.9, "x^2*y": 0.4, "f(x)": 0.3, "g(y, x)": 1.5}


def test_exact_recovery_without_noise(library, samples):
    _, theta = samples
    xi = _truth(library, **TRUE)
    fit = sparse_regression(theta, theta @ xi)
    assert np.array_equal(fit.support, xi != 0)
    np.testing.assert_allclose(fit.coefficients, xi, rtol=0, atol=1e-6)
    assert fit.error < 1e-10
    # the chosen threshold is one of the grid's and keeps exactly the true terms
    assert fit.threshold in THRESHOLDS
    assert fit.cv.terms[list(THRESHOLDS).index(fit.threshold)] == len(TRUE)


def test_recovery_with_noise_within_a_few_percent(library, samples):
    _, theta = samples
    xi = _truth(library, **TRUE)
    clean = theta @ xi
    rng = np.random.default_rng(1)
    noisy = clean + 0.02 * np.sqrt(np.mean(clean**2)) * rng.standard_normal(clean.shape)
    fit = sparse_regression(theta, noisy)
    assert np.array_equal(fit.support, xi != 0)
    big = xi != 0
    assert np.max(np.abs(fit.coefficients[big] / xi[big] - 1)) < 0.05
    # the residual is the noise: 2% of the target's RMS
    assert 0.015 < fit.error < 0.025


def test_threshold_is_a_share_of_the_target(library, samples):
    """With scaled columns, a term survives a threshold iff its share of the output
    (its RMS over the target's RMS) is above it."""
    _, theta = samples
    names = library.names()
    big, small = names.index("x*y"), names.index("y^2")
    y = theta[:, big] + 1e-3 * theta[:, small]
    share = np.sqrt(np.mean((1e-3 * theta[:, small]) ** 2)) / np.sqrt(np.mean(y**2))
    kept = sparse_regression(theta, y, threshold=0.5 * share)
    dropped = sparse_regression(theta, y, threshold=2 * share)
    assert kept.support[small] and kept.support[big]
    assert not dropped.support[small] and dropped.support[big]
    assert kept.cv is None and kept.threshold == 0.5 * share


def test_tolerance_decides_small_terms(library, samples):
    """A true term worth 0.5% of the output survives tolerance 0, not the default 1%."""
    _, theta = samples
    names = library.names()
    base, extra = theta[:, names.index("x*y")], theta[:, names.index("x")]
    y = base + 0.005 * np.sqrt(np.mean(base**2) / np.mean(extra**2)) * extra
    assert sparse_regression(theta, y, tolerance=0.0).support.sum() == 2
    assert sparse_regression(theta, y).support.sum() == 1


def test_plain_stlsq_against_a_hand_computed_step():
    """Unscaled STLSQ: one least-squares fit, one threshold, one refit."""
    rng = np.random.default_rng(2)
    theta = rng.standard_normal((50, 3))
    y = theta @ np.array([1.0, 0.01, -2.0])
    xi, rounds = stlsq(theta, y, 0.1)
    expected = np.zeros(3)
    expected[[0, 2]] = np.linalg.lstsq(theta[:, [0, 2]], y, rcond=None)[0]
    np.testing.assert_allclose(xi, expected, rtol=1e-12)
    assert rounds == 2


def test_duplicate_and_zero_columns():
    """A column equal to another (a model function that is a monomial) and a column
    that vanishes on the samples get no coefficient; the first copy takes it all."""
    z = np.random.default_rng(3).uniform(-1, 1, (100, 1))
    theta = np.column_stack([z[:, 0], z[:, 0] ** 2, z[:, 0] ** 2, np.zeros(100)])
    fit = sparse_regression(theta, 3 * z[:, 0] ** 2)
    np.testing.assert_allclose(fit.coefficients, [0, 3, 0, 0], atol=1e-12)


def test_zero_target_and_bad_input():
    theta = np.ones((20, 2))
    assert not sparse_regression(theta, np.zeros(20)).support.any()
    with pytest.raises(ValueError, match="threshold"):
        sparse_regression(theta, np.ones(20), threshold="auto")
    with pytest.raises(ValueError, match="non-finite"):
        sparse_regression(np.full((20, 2), np.nan), np.ones(20))
    with pytest.raises(ValueError, match="samples per fold"):
        sparse_regression(np.random.default_rng(0).random((6, 2)), np.ones(6))


def test_robust_fit_ignores_a_few_wrong_samples(library, samples):
    """A network far off at a few samples (states it never trained on): Huber's
    estimator keeps the true terms and coefficients; least squares follows the few."""
    _, theta = samples
    xi = _truth(library, **TRUE)
    y = theta @ xi
    wrong = y.copy()
    wrong[-4:] += 3.0 * np.sqrt(np.mean(y**2))  # 1% of the samples, far off
    fit = sparse_regression(theta, wrong)
    assert np.array_equal(fit.support, xi != 0)
    np.testing.assert_allclose(fit.coefficients, xi, rtol=0, atol=1e-6)
    plain = sparse_regression(theta, wrong, robust=False)
    assert np.max(np.abs(plain.coefficients - xi)) > 0.05
