"""Events in models with implicit equations and components: resets of a circuit's
state, and a reset that breaks a DAE's constraint, re-initialized consistently."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_path, model_text
from symflow import SymflowError


def test_relaxation_oscillator_from_components_resets_at_the_closed_form_times():
    # v_C = V (1 - exp(-t/(R C))) from 0 reaches the threshold after R C ln(V/(V - th))
    m = symflow.load(model_path("events_rc_relaxation"))
    sol = m.simulate()
    period = 2.0 * np.log(1.0 / (1.0 - 0.5))
    np.testing.assert_allclose(sol.events.times, period * np.arange(1, 8), rtol=1e-9)
    np.testing.assert_allclose(sol.events.after("flashes"), np.arange(1, 8))
    np.testing.assert_allclose(sol.events.after("c.vc"), 0.0)


def test_a_kick_that_breaks_the_velocity_constraint_is_reinitialized_consistently():
    # vx = pre(vx) + 1 violates x vx + y vy = 0: the position (which satisfies its
    # constraint) and the kicked vx are kept, and vy is solved from the constraint
    sol = symflow.loads(model_text("events_pendulum_kick")).simulate()
    before = {k: sol.events.before(k)[0] for k in ("x", "y", "vx", "vy")}
    after = {k: sol.events.after(k)[0] for k in ("x", "y", "vx", "vy")}
    assert (after["x"], after["y"]) == (before["x"], before["y"])
    assert after["vx"] == pytest.approx(before["vx"] + 1, abs=1e-14)
    assert after["vy"] == pytest.approx(-after["x"] * after["vx"] / after["y"], rel=1e-12)
    # and the solve goes on on the constraints
    x, y, vx, vy = (np.asarray(sol[k]) for k in ("x", "y", "vx", "vy"))
    np.testing.assert_allclose(x**2 + y**2, 1.0, atol=1e-9)
    np.testing.assert_allclose(x * vx + y * vy, 0.0, atol=1e-8)


def test_an_event_on_a_variable_that_index_reduction_left_algebraic_is_refused():
    text = model_text("events_rc_relaxation").replace("c.vc = 0, flashes", "c.i = 0, flashes")
    with pytest.raises(SymflowError, match="not a state of the reduced system") as info:
        symflow.loads(text, file=str(model_path("events_rc_relaxation")))
    assert info.value.span is not None and info.value.span.line == 19
