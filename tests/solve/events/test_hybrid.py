"""The hybrid loop's rules: order at one instant, right-continuous saves, no event from
a rejected step, crossings between samples, the event log, refusals."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_text
from symflow.errors import SolverError, SymflowError


def test_events_of_one_instant_run_in_file_order_each_seeing_the_last():
    sol = symflow.loads(model_text("events_same_instant")).simulate()
    # at t = 1: x = pre(x) + 1 = 2, then x = 2*x = 4 (file order; the second sees
    # the first's result); at y = 2 (t = 2): x + 10 = 14, then 3*x = 42 and y back to 0
    np.testing.assert_allclose(sol.events.times, [1, 1, 2, 2])
    assert list(sol.events.which) == [0, 1, 2, 3]
    np.testing.assert_allclose(sol.events.before("x"), [1, 2, 4, 14])
    np.testing.assert_allclose(sol.events.after("x"), [2, 4, 14, 42])
    # right-continuous saves: t = 1 holds the state after its events; `y > 2` first
    # holds just after t = 2 (at t = 2, y > 2 is false), so t = 2 holds the state before
    np.testing.assert_allclose(sol.t, [0, 0.5, 1, 1.5, 2, 2.5, 3])
    np.testing.assert_allclose(sol["x"], [1, 1, 4, 4, 4, 42, 42])
    np.testing.assert_allclose(sol["y"], [0, 0.5, 1, 1.5, 2, 0.5, 1], atol=1e-12)
    assert sol.events.times[2] > 2 and sol.events.times[2] == pytest.approx(2, abs=1e-14)


def test_a_rejected_step_fires_nothing():
    # dt = 0.1 makes the first trial step of der(x) = -50x overshoot to x = 10 > 2; it is
    # rejected, and the solution itself never exceeds 1
    sol = symflow.loads(model_text("events_overshoot")).simulate()
    assert len(sol.events) == 0
    assert np.all(np.asarray(sol["fired"]) == 0)


def test_an_excursion_shorter_than_the_step_is_found_at_its_crossing():
    # x = sin(t) is above 0.999 for 0.09 of each period, far less than the solver's steps
    # at rtol 1e-6, and event_samples = 0 checks no interior point: the extremum
    # between the step's ends finds each excursion
    sol = symflow.loads(model_text("events_short_bump")).simulate()
    exact = np.arcsin(0.999) + 2 * np.pi * np.arange(3)
    np.testing.assert_allclose(sol.events.times, exact, atol=1e-5)


def test_the_event_log_reads_by_name_and_label():
    sol = symflow.loads(model_text("events_same_instant")).simulate()
    assert sol.events.names[0] == "at t = 1 then x = pre(x) + 1"
    assert "t = 1" in repr(sol.events)


def test_adjoints_that_cannot_see_events_are_refused():
    m = symflow.loads(model_text("events_same_instant"))
    with pytest.raises(SymflowError, match="does not differentiate through events"):
        m.simulate(adjoint="backsolve")
    with pytest.raises(SymflowError, match="dense output"):
        m.simulate(dense=True)
    with pytest.raises(SymflowError, match="samplers do not run events"):
        m.simulate(solver="ddim")


def test_more_events_than_the_log_holds_is_an_error_that_says_which():
    text = model_text("events_same_instant").replace("saveat = [0.5, 1, 1.5, 2, 2.5]",
                                                     "max_events = 3")
    with pytest.raises(SolverError, match="more events than max_events") as info:
        symflow.loads(text).simulate()
    assert "max_events" in (info.value.help or "")


def test_an_event_on_a_field_reduction_fires_where_the_grid_solution_says():
    # u = sin(pi x) on the grid is an eigenvector of the discrete Laplacian (Dirichlet
    # ends), eigenvalue -(4/h^2) sin^2(pi h/2): its maximum (at x = 1/2) decays as
    # exp(-D lambda_h t) until the heater switches on where it falls to 0.5
    m = symflow.loads(model_text("events_heat"))
    sol = m.simulate(rtol=1e-10, atol=1e-12)
    h = 1 / 40
    rate = 0.1 * (4 / h**2) * np.sin(np.pi * h / 2) ** 2
    # `auto` picks rodas5p here (stiff, 42 states, no band proven next to the scalar
    # state): its dense output of order 4 locates the crossing to 3e-11 (kvaerno5's cubic
    # Hermite, over its long steps, to about 1e-8)
    assert m.runner.choose_auto(m.params, {}, 0.0, 5.0) == "rodas5p"
    assert sol.events.times[0] == pytest.approx(np.log(2) / rate, rel=1e-9)
    # then the heating brings max(u) back up to 0.8, where the solve stops
    assert list(sol.events.which) == [0, 1]
    assert float(sol.t_reached) == sol.events.times[1]
    assert np.max(sol.events.before("u")[1]) == pytest.approx(0.8, abs=1e-12)
