"""Conserved moieties eliminated (passes/reactions/conservation.py)."""

from __future__ import annotations

import numpy as np

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
