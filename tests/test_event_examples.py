"""The hybrid examples (events) against their closed forms.

Each reference is worked out here by hand from the model's equations between events
(ballistic flight, exponential relaxation, exponential decay of each dose); none of it
goes through symflow. The examples run at rtol = 1e-10, so event times and values are
asked to 1e-9 relative (the issue's bar), except where a closed form is evaluated at
a save time near an event, noted below.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import symflow
from symflow.errors import SolverError

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def _load(name: str) -> symflow.Model:
    return symflow.load(EXAMPLES / f"{name}.sf")


def _ball_bounces(h0: float, g: float, r: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The times of the first n bounces and the apex heights after each."""
    times, apexes = [np.sqrt(2 * h0 / g)], []
    speed = np.sqrt(2 * g * h0)
    for _ in range(n - 1):
        speed *= r
        apexes.append(speed**2 / (2 * g))
        times.append(times[-1] + 2 * speed / g)
    speed *= r
    apexes.append(speed**2 / (2 * g))
    return np.array(times), np.array(apexes)


def test_bouncing_ball_bounce_times_and_apexes_match_the_closed_form():
    m = _load("bouncing_ball")
    h0, g, r = 10.0, 9.81, 0.9
    times, apexes = _ball_bounces(h0, g, r, 25)
    sol = m.simulate(tspan=(0, times[-1] + 0.1), saveat=20001)
    assert len(sol.events) == 25
    np.testing.assert_allclose(sol.events.times, times, rtol=1e-9)
    # the apex after bounce k is reached v_k/g later: h there from the saved series'
    # own event log (the state just after the bounce) and the closed form
    after_v = sol.events.after("v")
    np.testing.assert_allclose(after_v, np.sqrt(2 * g * apexes), rtol=1e-9)
    np.testing.assert_allclose(sol.events.after("bounces"), np.arange(1, 26))
    # the height at the save times between bounces against ballistic flight from the
    # last bounce
    t = np.asarray(sol.t)
    k = np.searchsorted(times, t, side="right")  # bounces before t
    start_t = np.where(k > 0, times[np.maximum(k - 1, 0)], 0.0)
    start_v = np.where(k > 0, np.sqrt(2 * g * apexes[np.maximum(k - 1, 0)]), 0.0)
    start_h = np.where(k > 0, 0.0, h0)
    s = t - start_t
    exact = start_h + start_v * s - g * s**2 / 2
    # absolute: h is 0 at every bounce, and an event time off by 1e-9 relative moves h
    # by |v| * 1e-9 * t there
    np.testing.assert_allclose(sol["h"], exact, atol=1e-7)


def test_bouncing_ball_zeno_stops_with_a_message_at_the_accumulation_time():
    m = _load("bouncing_ball")
    h0, g, r = 10.0, 9.81, 0.5
    # the bounces accumulate at T + 2 r v0 / (g (1 - r))
    v0 = np.sqrt(2 * g * h0)
    t_inf = np.sqrt(2 * h0 / g) + 2 * r * v0 / (g * (1 - r))
    with pytest.raises(SolverError, match="Zeno") as info:
        m.simulate(params={"r": r}, tspan=(0, 2 * t_inf))
    assert info.value.t == pytest.approx(t_inf, rel=1e-6)
    assert "when h < 0" in (info.value.help or "")


def test_multidose_pk_matches_the_superposition_of_doses():
    m = _load("multidose_pk")
    CL, V, D, tau = 2.0, 20.0, 100.0, 12.0
    sol = m.simulate()
    t = np.asarray(sol.t)
    doses = np.arange(0, 96 + 1e-9, tau)
    assert len(sol.events) == len(doses) == 9  # t = 0 and t = 96 (the end) once each
    np.testing.assert_allclose(sol.events.times, doses, rtol=0, atol=1e-12)
    given = t[:, None] >= doses[None, :]  # right-continuous: a dose at a save time counts
    exact = np.sum(np.where(given, D / V * np.exp(-CL / V * (t[:, None] - doses)), 0.0),
                   axis=1)
    np.testing.assert_allclose(sol["C"], exact, rtol=1e-8)
    # the log keeps the concentration just before and after each dose
    np.testing.assert_allclose(sol.events.after("A") - sol.events.before("A"), D)


def test_integrate_and_fire_spike_times_match_the_closed_form():
    m = _load("integrate_and_fire")
    tau, drive, v_th, v_reset, t_ref = 10.0, 1.5, 1.0, 0.0, 2.0
    sol = m.simulate()
    first = tau * np.log(drive / (drive - v_th))  # from v = 0 = v_reset
    period = t_ref + tau * np.log((drive - v_reset) / (drive - v_th))
    spikes = first + period * np.arange(0, 20)
    spikes = spikes[spikes < 100]
    fired = sol.events.times[np.array(sol.events.which) == 0]
    np.testing.assert_allclose(fired, spikes, rtol=1e-9)
    releases = sol.events.times[np.array(sol.events.which) == 1]
    np.testing.assert_allclose(releases, (spikes + t_ref)[:len(releases)], rtol=1e-9)
    assert sol.events.after("spikes")[-1] == len(spikes)


def test_thermostat_switching_times_match_the_closed_form():
    m = _load("thermostat")
    k, T_out, P, low, high, T0 = 0.1, 5.0, 2.5, 19.0, 21.0, 15.0
    sol = m.simulate()
    target = T_out + P / k  # where heating would settle
    first = np.log((target - T0) / (target - high)) / k
    heat = np.log((target - low) / (target - high)) / k
    cool = np.log((high - T_out) / (low - T_out)) / k
    times = [first]
    while times[-1] < 120:
        times.append(times[-1] + (cool if len(times) % 2 else heat))
    times = np.array(times[:-1])
    np.testing.assert_allclose(sol.events.times, times, rtol=1e-9)
    assert list(sol.events.which[:4]) == [0, 1, 0, 1]  # off above T_high, on below T_low


def test_projectile_lands_where_the_closed_form_says_and_the_output_ends_there():
    m = _load("projectile")
    g, speed, angle = 9.81, 20.0, 0.7
    sol = m.simulate()
    t_land = 2 * speed * np.sin(angle) / g
    assert float(sol.t_reached) == pytest.approx(t_land, rel=1e-12)
    np.testing.assert_allclose(sol.events.times, [t_land], rtol=1e-12)
    assert sol.events.before("x")[0] == pytest.approx(speed * np.cos(angle) * t_land,
                                                     rel=1e-10)
    t = np.asarray(sol.t)
    assert np.all(np.isnan(np.asarray(sol["x"])[t > t_land]))
    assert np.all(np.isfinite(np.asarray(sol["x"])[t <= t_land]))
