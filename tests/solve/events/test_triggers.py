"""When a `when` condition fires (solve/events/triggers.py): compound conditions where
the whole condition becomes true, and conditions exactly on their threshold at the
start (true there: they do not fire; false there: they fire as they become true),
checked against closed forms."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

import symflow
from models import model_text


@pytest.fixture(scope="module")
def compound():
    return symflow.loads(model_text("events_compound"))


def test_compound_conditions_fire_where_the_whole_condition_becomes_true(compound):
    sol = compound.simulate()
    first = math.asin(0.5)  # x = sin t reaches a = 0.5 (y = cos t > 0 there)
    two_pi = 2 * math.pi
    # 0-2: `x > a and y > 0`, `x > a or y < -a`, `not (x < a)` all become true at
    # asin(a) + 2 pi k (the `or` stays true from there to 4 pi/3, where y < -a ends:
    # its second part becoming true at 2 pi/3 fires nothing); 3: `x >= 0 and y > 0`
    # holds at the start, so it fires first at 2 pi; 4: checked at 0.5, 1.5, ...: x > 0
    # and y <= 0 (sin t > 0 >= cos t on [pi/2, pi] + 2 pi k) at 2.5 and 8.5 only
    times = np.asarray(sol.events.times)
    which = list(sol.events.which)
    expected = [(first, 0), (first, 1), (first, 2), (2.5, 4), (two_pi, 3),
                (first + two_pi, 0), (first + two_pi, 1), (first + two_pi, 2), (8.5, 4)]
    assert which == [k for _, k in expected]
    np.testing.assert_allclose(times, [t for t, _ in expected], rtol=1e-9, atol=1e-12)
    # (events of one instant each read pre(n), the value before the instant)
    assert float(sol["n"][-1]) == 3 + 200


@pytest.mark.slow  # (30 s: reverse mode through the event loop compiles slowly)
def test_a_compound_event_time_has_its_implicit_function_derivative(compound):
    def first_time(a):
        return compound.simulate(params={"a": a}, tspan=(0.0, 3.0)).events.t[0]

    # t* = asin(a): dt*/da = 1/sqrt(1 - a^2)
    assert float(first_time(0.3)) == pytest.approx(math.asin(0.3), rel=1e-9)
    assert float(jax.grad(first_time)(0.3)) == pytest.approx(1 / math.sqrt(1 - 0.09),
                                                             rel=1e-6)


def test_a_condition_on_its_threshold_at_the_start_fires_only_if_false_there():
    sol = symflow.loads(model_text("events_thresholds")).simulate()
    times = np.asarray(sol.events.times)
    which = list(sol.events.which)
    # t = 0: `x > 1` and `z < 1` are false at the start and true right after (they
    # fire); `x >= 1`, `z <= 1`, `t >= 0` and `w == 1` hold at the start (they wait
    # to become true again). 0.5: x reaches 1.5. 1: z jumps to 3, so `z >= 3` holds
    # from that instant (it fires in the jump's round). 3: z falls through 1
    # (`z < 1` and `z <= 1`). pi: w = 1 + sin(t) is back at 1.
    # (the two at the start are located apart by a few 1e-17: in either order)
    assert sorted(which[:2]) == [1, 2]
    expected = [(0.0, 0), (0.0, 0), (0.5, 5), (1.0, 7), (1.0, 8), (3.0, 2), (3.0, 3),
                (math.pi, 6)]
    assert which[2:] == [k for _, k in expected[2:]]
    np.testing.assert_allclose(times, [t for t, _ in expected], rtol=1e-9, atol=1e-12)
    assert float(sol["n"][-1]) == 6  # the at-event sets z, not n
