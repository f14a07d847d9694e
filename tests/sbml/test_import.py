"""SBML import: small documents built with libsbml, translated, and the text checked
(and, for a few, compiled and solved against a closed form)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symflow.errors import SymflowError

pytest.importorskip("libsbml")

import symflow  # noqa: E402
from sbml_suite.documents import document  # noqa: E402
from symflow.sbml import read_sbml_string  # noqa: E402


def _text(**parts) -> str:
    return read_sbml_string(document(**parts)).text


def _body(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if not line.startswith("#")]


def test_parameters_rules_and_functions() -> None:
    text = _text(
        parameters=[("k", 2.0, True, "rate constant"), ("x", 1.0, False), ("y", None, False),
                    ("z", 0.5, False)],
        functions=[("f", "lambda(a, b, a*b + 1)")],
        rates=[("x", "-k*x")], assignments=[("y", "f(x, k)")],
        events=[{"trigger": "x < 0.5", "assign": [("z", "z + 1")]}])
    body = _body(text)
    assert body[:2] == ["model m", "functions"]
    assert "f(a, b) = a*b + 1" in body
    assert 'k = 2 "rate constant"' in body
    assert body[body.index("variables") + 1:body.index("variables") + 3] == ["x = 1", "y"]
    assert body[body.index("discrete") + 1] == "z = 0.5"
    assert "der(x) = -k*x" in body and "y = f(x, k)" in body
    assert "when x < 0.5 then z = z + 1" in body
    m = symflow.loads(text)
    sol = m.simulate(tspan=(0.0, 1.0), saveat=[0.0, 0.25, 1.0], rtol=1e-10, atol=1e-12)
    assert np.asarray(sol["x"])[-1] == pytest.approx(math.exp(-2.0), rel=1e-8)
    assert np.asarray(sol["y"])[-1] == pytest.approx(2 * math.exp(-2.0) + 1, rel=1e-8)
    # x falls through 0.5 at ln(2)/2 = 0.347: z is 0.5 before, 1.5 after
    assert np.asarray(sol["z"]).tolist() == [0.5, 0.5, 1.5]


def test_piecewise_and_mathml_functions() -> None:
    text = _text(parameters=[("p", 3.0, True), ("q", None, False)],
                 assignments=[("q", "piecewise(1, p > 2, 2, p > 1, 0) + sec(p) + log(100)"
                                    " + root(3, 8) + ln(exponentiale) + pi")])
    assert ("q = (if p > 2 then 1 else if p > 1 then 2 else 0) + 1/cos(p) + "
            "log(100)/log(10) + 8^(1/3) + log(e) + pi") in _body(text)


def test_reserved_ids_are_renamed_and_listed() -> None:
    text = _text(parameters=[("t", 1.0, True), ("exp", 2.0, True), ("x", 0.0, False)],
                 rates=[("x", "t*exp + time")])
    assert "# Renamed (SBML id -> name here, the SBML id is a reserved word): t -> t_, " \
           "exp -> exp_" in text
    assert "der(x) = t_*exp_ + t" in _body(text)


def test_initial_assignments_resolve_in_dependency_order() -> None:
    text = _text(parameters=[("a", None, True), ("b", None, True), ("c", 4.0, True)],
                 initial=[("a", "2*b"), ("b", "c + 1")])
    body = _body(text)
    assert body.index("c = 4") < body.index("a = 2*(c + 1)")
    assert "b = c + 1" in body
    assert symflow.loads(text).params["a"] == pytest.approx(10.0)


def test_circular_initial_assignments_are_an_error() -> None:
    with pytest.raises(SymflowError, match="circle: a -> b -> a"):
        _text(parameters=[("a", None, True), ("b", None, True)],
              initial=[("a", "2*b"), ("b", "a + 1")])


def test_species_and_reactions() -> None:
    text = _text(
        parameters=[("k", 0.5, True)], compartments=[("cell", 2.0)],
        species=[{"Id": "A", "Compartment": "cell", "InitialAmount": 4.0},
                 {"Id": "B", "Compartment": "cell", "InitialConcentration": 0.0,
                  "HasOnlySubstanceUnits": True},
                 {"Id": "E", "Compartment": "cell", "InitialConcentration": 1.0,
                  "BoundaryCondition": True}],
        reactions=[{"id": "r", "reactants": [("A", 2.0)], "products": [("B", 1.0)],
                    "law": "cell*k*A*E*kl", "local": [("kl", 1.0)]}])
    body = _body(text)
    assert "A = 4/cell in cell" in body
    assert "B = 0 in cell, amount" in body
    assert "E = 1 in cell, boundary" in body
    assert "r_kl = 1" in body
    assert "r: 2 A => B, k*A*E*r_kl in cell" in body
    m = symflow.loads(text)
    sol = m.simulate(tspan=(0.0, 1.0), saveat=[0.0, 1.0], rtol=1e-10, atol=1e-12)
    # d[A]/dt = -2*k*[A], amount of B = (A0 - A)*V/2
    a = 2.0 * math.exp(-1.0)
    assert np.asarray(sol["A"])[-1] == pytest.approx(a, rel=1e-8)
    assert np.asarray(sol["B"])[-1] == pytest.approx((2.0 - a) * 2.0 / 2, rel=1e-8)


@pytest.mark.parametrize("parts, match", [
    ({"parameters": [("x", 1.0, False)], "rates": [("x", "delay(x, 1)")]}, "delay"),
    ({"parameters": [("x", 1.0, False)], "rates": [("x", "factorial(x)")]}, "factorial"),
    ({"parameters": [("x", 1.0, False)],
      "events": [{"trigger": "x > 1", "assign": [("x", "0")], "delay": "1"}]},
     "EventWithDelay"),
    ({"parameters": [("x", 1.0, False)],
      "events": [{"trigger": "x > 1 && x != 3", "assign": [("x", "0")]}]},
     "joins `!=` with and/or/not"),
    ({"parameters": [("x", 1.0, False)],
      "events": [{"trigger": "x > 1 && (x + 1)", "assign": [("x", "0")]}]},
     "joins `!=` with and/or/not"),
    ({"compartments": [("c", 1.0)],
      "species": [{"Id": "A", "Compartment": "c", "InitialAmount": 1.0}],
      "reactions": [{"id": "r", "reactants": [("A", 1.0)], "law": "A", "fast": True}],
      "version": 1},
     "FastReaction"),
])
def test_refused_by_name(parts: dict, match: str) -> None:
    with pytest.raises(SymflowError, match=match):
        _text(**parts)


def test_event_with_false_initial_value_that_is_false_at_the_start() -> None:
    text = _text(parameters=[("x", 1.0, False)], rates=[("x", "1")],
                 events=[{"trigger": "x > 2", "assign": [("x", "0")], "initial_value": False}])
    assert "when x > 2 then x = 0" in _body(text)


def test_events_ordered_by_priority_and_read_values_at_the_trigger() -> None:
    text = _text(parameters=[("x", 0.0, False), ("a", 1.0, False), ("b", 2.0, False)],
                 rates=[("x", "1")],
                 events=[{"trigger": "x > 1", "assign": [("a", "b")], "priority": "1"},
                         {"trigger": "x > 1", "assign": [("b", "a")], "priority": "2"}])
    body = _body(text)
    first, second = body.index("when x > 1 then b = pre(a)"), body.index(
        "when x > 1 then a = pre(b)")
    assert first < second


def test_not_sbml() -> None:
    with pytest.raises(SymflowError, match="not valid SBML"):
        read_sbml_string("<sbml>nothing</sbml>")


def test_a_model_without_states_solves() -> None:
    """Only an assignment rule: no state at all (the generated derivative is empty)."""
    text = _text(parameters=[("y", None, False)], assignments=[("y", "2*time + 1")])
    sol = symflow.loads(text).simulate(tspan=(0.0, 1.0), saveat=[0.0, 0.5, 1.0])
    assert np.asarray(sol["y"]).tolist() == [1.0, 2.0, 3.0]


def test_algebraic_rule_linear_in_its_unknown_becomes_an_assignment() -> None:
    text = _text(parameters=[("k", 2.0, True), ("x", 1.0, False), ("y", None, False),
                             ("z", 1.0, False)],
                 rates=[("x", "-x")], algebraic=["k*y - x", "z^3 + z - x"])
    body = _body(text)
    assert "y = x/k" in body  # 0 = k*y - x
    assert "0 = z^3 + z - x" in body  # not linear: stays implicit


def test_boundary_species_in_a_growing_compartment_keeps_its_amount() -> None:
    text = _text(compartments=[("c", 2.0, False)],
                 species=[{"Id": "B", "Compartment": "c", "InitialConcentration": 3.0,
                           "BoundaryCondition": True},
                          {"Id": "A", "Compartment": "c", "InitialConcentration": 1.0}],
                 rates=[("c", "1")],
                 reactions=[{"id": "r", "reactants": [("A", 1.0)], "law": "c*B*A"}],
                 events=[{"trigger": "time > 1", "assign": [("B", "5")]}])
    body = _body(text)
    assert "B = 6 in c, amount, boundary" in body  # 3 per volume 2
    assert "r: A => 0, B/c*A in c" in body  # B reads its concentration
    assert "when t > 1 then B = 5*c" in body  # set as a concentration


def test_event_that_fires_at_the_start() -> None:
    text = _text(parameters=[("x", 1.0, False), ("n", 0.0, False)], rates=[("x", "1")],
                 events=[{"trigger": "x > 0.5", "assign": [("n", "n + 1")],
                          "initial_value": False}])
    body = _body(text)
    assert body[body.index("events") + 1:body.index("events") + 3] == [
        "at t = 0 then n = n + 1  # event e1 at the start", "when x > 0.5 then n = n + 1"]


def test_conditions_as_numbers_and_numbers_as_conditions() -> None:
    text = _text(parameters=[("p", 2.0, True), ("q", None, False)],
                 assignments=[("q", "(p > 1) + piecewise(1, p, 0)")])
    assert "q = (if p > 1 then 1 else 0) + (if p != 0 then 1 else 0)" in _body(text)


def test_floor_ceiling_reciprocal_inverse_hyperbolics_and_chained_comparisons() -> None:
    text = _text(parameters=[("x", 0.0, False), ("y", None, False), ("z", None, False)],
                 rates=[("x", "1")],
                 assignments=[("y", "floor(x) + ceiling(2*x) + piecewise(1, lt(0, x, 1), 0)"),
                              ("z", "arcsech(0.5) + arccsch(2) + arccoth(3)")])
    assert "y = floor(x) + ceiling(2*x) + (if 0 < x and x < 1 then 1 else 0)" in _body(text)
    sol = symflow.loads(text).simulate(tspan=(0.0, 1.5), saveat=[0.25, 1.25], rtol=1e-10,
                                       atol=1e-12)
    # floor(x) + ceiling(2x) + [0 < x < 1] at x = t: 0 + 1 + 1, then 1 + 3 + 0
    np.testing.assert_allclose(np.asarray(sol["y"])[1:3], [2.0, 4.0])  # (t0, t1 saved too)
    # arcsech(x) = arccosh(1/x), arccsch(x) = arcsinh(1/x), arccoth(x) = arctanh(1/x)
    z = math.acosh(2.0) + math.asinh(0.5) + math.atanh(1 / 3)
    np.testing.assert_allclose(np.asarray(sol["z"]), z, rtol=1e-14)


def test_compound_trigger_and_a_trigger_on_its_threshold_at_the_start() -> None:
    """`x >= 1` holds at the start (x = 1): with initialValue true it is written as it
    is (symflow's rule is SBML's: it waits to become true again,
    tests/solve/events/test_triggers.py); `and`/`or`/`not`/`xor` triggers become
    compound `when` conditions."""
    text = _text(parameters=[("x", 1.0, False), ("n", 0.0, False), ("m", 0.0, False),
                             ("k", 0.0, False)],
                 rates=[("x", "1")],
                 events=[{"trigger": "x >= 1", "assign": [("n", "n + 1")]},
                         {"trigger": "x > 1.5 && (time < 2 || x > 10)",
                          "assign": [("m", "m + 1")]},
                         {"trigger": "!(x < 2) && xor(x > 0, x > 2.5)",
                          "assign": [("k", "k + 1")]}])
    body = _body(text)
    assert "at t = 0" not in " ".join(body)
    assert "when x >= 1 then n = pre(n) + 1" in body
    assert "when x > 1.5 and (t < 2 or x > 10) then m = pre(m) + 1" in body
    assert ("when not x < 2 and (x > 0 and not x > 2.5 or not x > 0 and x > 2.5) then "
            "k = pre(k) + 1") in body
    assert len(symflow.loads(text).system.events) == 3  # the text compiles
