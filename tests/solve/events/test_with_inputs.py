"""Events and inputs together: doses on top of an infusion read from a table, against
the closed form, and fitted."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_text


@pytest.fixture
def infusion(tmp_path):
    (tmp_path / "rate.csv").write_text("t,R\n0,1\n6,0\n12,0\n")  # R = 1 on [0, 6), then 0
    path = tmp_path / "infusion.sf"
    path.write_text(model_text("events_infusion"))
    return path


def _exact(t: np.ndarray, k: float, dose: float) -> np.ndarray:
    doses = np.array([0.0, 4.0, 8.0, 12.0])
    given = t[:, None] >= doses[None, :]
    bolus = np.sum(np.where(given, dose * np.exp(-k * (t[:, None] - doses)), 0.0), axis=1)
    infused = np.where(t < 6, (1 - np.exp(-k * t)) / k,
                       (1 - np.exp(-6 * k)) / k * np.exp(-k * (t - 6)))
    return bolus + infused


def test_doses_on_a_tabled_infusion_match_the_closed_form(infusion):
    sol = symflow.load(infusion).simulate()
    t = np.asarray(sol.t)
    np.testing.assert_allclose(sol["A"], _exact(t, 0.3, 5.0), rtol=1e-8)
    np.testing.assert_allclose(sol.events.times, [0, 4, 8, 12])


@pytest.mark.slow  # (default-suite time: tests/learn/test_fit_events.py fits with events)
def test_fit_recovers_the_rate_and_the_dose_with_events_and_an_input(infusion, tmp_path):
    times = np.linspace(0.5, 11.5, 23)
    data = tmp_path / "data.csv"
    data.write_text("t,A\n" + "".join(f"{float(t)!r},{float(a)!r}\n"
                                      for t, a in zip(times, _exact(times, 0.3, 5.0))))
    start = tmp_path / "start.sf"
    start.write_text(infusion.read_text().replace("k = 0.3", "k = 0.5")
                     .replace("D = 5.0", "D = 3.0"))
    result = symflow.load(start).fit(data, params=["k", "D"])
    assert result.values["k"] == pytest.approx(0.3, rel=1e-6)
    assert result.values["D"] == pytest.approx(5.0, rel=1e-6)
