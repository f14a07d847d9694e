"""Noise models: the likelihood of each observable, from the model's `fit` section or
`noise=`; a fitted sigma recovers the generating noise level."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import symflow
from models import model_text
from symflow.errors import SymflowError
from symflow.learn import Laplace, Log10Normal, LogNormal, Normal


def test_each_noise_model_is_its_distributions_negative_log_density():
    y, d = jnp.asarray([1.0, 2.0, 0.5]), jnp.asarray([1.1, 1.7, 0.6])
    np.testing.assert_allclose(Normal(sigma=0.3).nll(y, d, {}),
                               -stats.norm.logpdf(d, y, 0.3), rtol=1e-12)
    np.testing.assert_allclose(Normal(a=0.1, b="s").nll(y, d, {"s": 0.2}),
                               -stats.norm.logpdf(d, y, 0.1 + 0.2 * y), rtol=1e-12)
    np.testing.assert_allclose(Laplace(scale=0.4).nll(y, d, {}),
                               -stats.laplace.logpdf(d, y, 0.4), rtol=1e-12)
    np.testing.assert_allclose(LogNormal(sigma=0.2).nll(y, d, {}),
                               -stats.lognorm.logpdf(d, 0.2, scale=y), rtol=1e-12)
    # log10 d ~ normal(log10 y, σ) is log d ~ normal(log y, σ ln 10)
    np.testing.assert_allclose(Log10Normal(sigma=0.2).nll(y, d, {}),
                               -stats.lognorm.logpdf(d, 0.2 * math.log(10), scale=y),
                               rtol=1e-12)
    assert Normal(sigma=0.3).is_least_squares(set())
    assert not Normal(sigma="s").is_least_squares({"s"})
    assert not Normal(b=0.1).is_least_squares(set())  # log sigma follows the model


@pytest.mark.slow
def test_fitted_sigma_recovers_the_noise_level_within_its_interval():
    m = symflow.loads(model_text("decay_estimated_noise"))
    ts = np.linspace(0.05, 2.0, 60)
    rng = np.random.default_rng(7)
    x = np.exp(-0.8 * ts) + 0.05 * rng.standard_normal(ts.size)
    r = m.fit({"t": ts, "x": x})
    assert r.likelihood and r.optimizer == "bfgs" and r.noise == {"x": "normal(sigma = sigma)"}
    s, se = r.values["sigma"], r.stderr["sigma"]
    assert abs(s - 0.05) <= 1.96 * se  # the generating level is inside the 95% interval
    assert 0 < se < 0.2 * s  # ... which is informative: about s / sqrt(2n)
    assert se == pytest.approx(s / math.sqrt(2 * ts.size), rel=0.15)
    # sigma is the maximum-likelihood one: the residuals' root mean square
    rms = math.sqrt(np.mean((np.exp(-r.values["k"] * ts) - x) ** 2))
    assert s == pytest.approx(rms, rel=1e-4)
    assert "negative log-likelihood" in r.table()


def test_noise_mistakes_are_pointed_at():
    m = symflow.loads(model_text("decay_estimated_noise"))
    data = {"t": [0.5, 1.0, 1.5], "x": [0.6, 0.4, 0.3]}
    with pytest.raises(SymflowError, match="unknown noise model 'gauss'"):
        m.fit(data, noise={"x": "gauss(sigma = 0.1)"})
    with pytest.raises(SymflowError, match="'s_y' is not a parameter"):
        m.fit(data, noise={"x": "normal(sigma = s_y)"})
    with pytest.raises(SymflowError, match=r"normal takes \(sigma = ...\)"):
        m.fit(data, noise={"x": "normal(scale = 0.1)"})
    with pytest.raises(SymflowError, match="minimises a sum of squares"):
        m.fit(data, optimizer="levenberg_marquardt")
    bad = model_text("decay_estimated_noise").replace("x ~ normal", "z ~ normal")
    with pytest.raises(SymflowError, match="noise model for 'z'") as info:
        symflow.loads(bad, file="bad.sf").fit(data)
    assert "bad.sf:12:5" in info.value.pretty()
