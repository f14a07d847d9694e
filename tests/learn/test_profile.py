"""Profile likelihood: a linear model's interval is the analytic one, and a pair whose
product alone enters the model is flagged non-identifiable."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

import symflow
from models import model_text


def test_linear_model_interval_matches_the_analytic_one():
    m = symflow.loads(model_text("line_known_noise"))
    ts = np.linspace(0.05, 1.0, 12)
    rng = np.random.default_rng(3)
    y = 0.7 + 1.3 * ts + 0.1 * rng.standard_normal(ts.size)
    result = m.profile({"t": ts, "y": y}, ["b"], points=20)
    # ordinary least squares with known sigma = 0.1
    X = np.column_stack([np.ones_like(ts), ts])
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    half = np.sqrt(chi2.ppf(0.95, 1)) * 0.1 * np.sqrt(np.linalg.inv(X.T @ X)[1, 1])
    p = result.profiles["b"]
    assert p.identifiable and not p.flat
    assert p.optimum == pytest.approx(beta[1], abs=1e-6)
    np.testing.assert_allclose(p.interval, (beta[1] - half, beta[1] + half), rtol=1e-3)
    assert result.best.likelihood and "identifiable" in result.table()


@pytest.mark.slow
def test_product_only_pair_is_not_identifiable():
    m = symflow.loads(model_text("decay_product"))
    ts = np.linspace(0.1, 1.0, 10)
    x = np.exp(-2.0 * ts) * (1 + 0.01 * np.random.default_rng(0).standard_normal(ts.size))
    result = m.profile({"t": ts, "x": x}, ["k1"], points=12)
    p = result.profiles["k1"]
    assert not p.identifiable and p.flat
    # upwards the profile stays flat up to k1's bound (k2 = 2 / k1 stays inside its own)
    assert p.interval[1] == np.inf and p.sides[1] == "bound" and p.values[-1] == 10.0
    assert np.all(p.q[p.values >= p.optimum] < 0.05)
    assert "NOT identifiable (flat profile)" in result.table()


@pytest.mark.slow  # a fit and a profile walk: ~10 s
def test_a_value_fitted_per_experiment_has_the_analytic_interval():
    """y = a_e + b t in two experiments, a fitted per experiment: the profile of a@1
    (fixed in experiment 1 only, the rest refitted) gives the block design's
    interval."""
    m = symflow.loads(model_text("line_known_noise"))
    ts = np.linspace(0.05, 1.0, 10)
    rng = np.random.default_rng(5)
    ys = [0.7 + 1.3 * ts + 0.1 * rng.standard_normal(ts.size),
          1.6 + 1.3 * ts + 0.1 * rng.standard_normal(ts.size)]
    data = [{"t": ts, "y": ys[0]}, {"t": ts, "y": ys[1]}]
    result = m.profile(data, ["a@1"], per_experiment=["a"], points=20)
    one, zero = np.ones_like(ts), np.zeros_like(ts)
    X = np.vstack([np.column_stack([one, zero, ts]), np.column_stack([zero, one, ts])])
    y = np.concatenate(ys)
    beta = np.linalg.solve(X.T @ X, X.T @ y)  # a0, a1, b
    half = np.sqrt(chi2.ppf(0.95, 1)) * 0.1 * np.sqrt(np.linalg.inv(X.T @ X)[1, 1])
    p = result.profiles["a@1"]
    assert p.optimum == pytest.approx(beta[1], abs=1e-6)
    np.testing.assert_allclose(p.interval, (beta[1] - half, beta[1] + half), rtol=1e-3)
