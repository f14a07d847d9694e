"""Events in SDE ensembles: each trajectory has its own event times."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

import symflow
from models import model_text


@pytest.mark.slow
def test_first_passage_of_brownian_motion_per_trajectory():
    # x = W stops where it first exceeds 1. P(T <= 1) = 2 (1 - Phi(1)) for the continuous
    # path; checking the crossing on the steps' linear interpolant misses excursions
    # between grid points, which shifts the level by 0.5826 sqrt(dt) (Broadie, Glasserman
    # & Kou 1997): P = 2 (1 - Phi(1 + 0.5826 sqrt(dt))) = 0.305 at dt = 0.002
    text = (model_text("events_first_passage").replace("dt = 0.0005", "dt = 0.002")
            .replace("trajectories = 4000", "trajectories = 1000"))
    sol = symflow.loads(text).simulate(seed=1)
    x = np.asarray(sol.paths["x"])  # (trajectories, save times)
    stopped = np.isnan(x[:, -1])
    expected = 2 * (1 - norm.cdf(1 + 0.5826 * np.sqrt(0.002)))
    standard_error = np.sqrt(expected * (1 - expected) / x.shape[0])
    assert abs(stopped.mean() - expected) < 3 * standard_error
    # each trajectory stops at its own time: before it, saved values are below the level
    first_nan = np.argmax(np.isnan(x), axis=1)[stopped]
    assert len(np.unique(first_nan)) > 3
    finite = x[np.isfinite(x)]
    assert np.all(finite <= 1 + 1e-12)
    # and those that never reached 1 ran to the end
    assert np.all(np.isfinite(x[~stopped]))
