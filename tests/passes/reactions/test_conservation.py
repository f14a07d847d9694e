"""Conserved moieties eliminated (passes/reactions/conservation.py)."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_text


def _eliminating(text: str) -> str:
    return text.replace("  simulate\n", "  simulate\n    conserved = eliminate\n")


def test_eliminating_the_enzymes_moieties_leaves_two_states_and_the_same_solution():
    kept = symflow.loads(model_text("enzyme"))
    eliminated = symflow.loads(_eliminating(model_text("enzyme")))
    assert set(eliminated.state_names) == {"C", "P"}
    assert {"S", "E"} <= set(eliminated.observed_names)
    assert float(eliminated.params["total_E"]) == 0.1
    assert float(eliminated.params["total_S"]) == 10.0
    # (tsit5: the test is of the elimination, not of the stiff solver auto would pick)
    a = kept.simulate(saveat=11, solver="tsit5", tspan=(0, 10))
    b = eliminated.simulate(saveat=11, solver="tsit5", tspan=(0, 10))
    for name in "SECP":
        np.testing.assert_allclose(np.asarray(b[name]), np.asarray(a[name]), rtol=1e-6,
                                   atol=1e-9)


def test_a_total_is_a_parameter_that_moves_the_solution():
    m = symflow.loads(_eliminating(model_text("enzyme")))
    more = m.simulate(params={"total_E": 0.2}, saveat=[5.0], solver="tsit5", tspan=(0, 10))
    less = m.simulate(saveat=[5.0], solver="tsit5", tspan=(0, 10))
    assert float(np.asarray(more["P"])[-1]) > float(np.asarray(less["P"])[-1])
    np.testing.assert_allclose(np.asarray(more["E"]) + np.asarray(more["C"]), 0.2,
                               rtol=1e-10)


def test_a_law_whose_species_an_event_resets_is_kept():
    text = _eliminating(model_text("enzyme")).replace(
        "  simulate\n", "  events\n    at t = 1 then E = 0.3\n  simulate\n")
    m = symflow.loads(text)
    assert "E" in m.state_names and "C" in m.state_names  # E + C jumps: not eliminated
    assert "S" not in m.state_names  # S + C + P is still conserved


# ------------------------------------------------ plain equations (no reactions section)

# ROBER of the Test Set for IVP Solvers at t = 1e11 (published reference values)
ROBER_1E11 = {"y1": 0.2083340149701255e-07, "y2": 0.8333360770334713e-13,
              "y3": 0.9999999791665050}


def test_robertsons_invariant_eliminated_over_thirteen_decades():
    # y1 + y2 + y3 = 1: y3 (declared first) is computed from it, y1 and y2 stay states.
    # Over [0, 1e11], where y1 falls to 2e-8 and y2 to 8e-14, the reduced form matches
    # the published values to 1e-9 relative with rodas5p at rtol 1e-10 (measured 2.6e-10;
    # the full form 9.6e-9; kvaerno5 stops at t = 7 on either form, max_steps reached).
    m = symflow.loads(_eliminating(model_text("robertson_long")))
    assert m.state_names == ("y1", "y2") and "y3" in m.observed_names
    assert float(m.params["total_y3"]) == 1.0
    sol = m.simulate(solver="rodas5p")
    for name, value in ROBER_1E11.items():
        assert abs(float(np.asarray(sol[name])[-1]) / value - 1) < 1e-9, name


@pytest.mark.slow
def test_the_reduced_robertson_matches_the_full_one():
    full = symflow.loads(model_text("robertson")).simulate(solver="rodas5p")
    reduced = symflow.loads(_eliminating(model_text("robertson"))).simulate(solver="rodas5p")
    for name in ("y1", "y2", "y3"):
        np.testing.assert_allclose(np.asarray(reduced[name]), np.asarray(full[name]),
                                   rtol=1e-6)
