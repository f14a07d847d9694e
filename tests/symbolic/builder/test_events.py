"""The `discrete` and `events` sections: what they build, and one test per misuse
(the message, the place, the caret, the help)."""

from __future__ import annotations

import re

import pytest

import symflow
import symflow.passes
from symflow import SymflowError
from symflow.lang import parse
from symflow.symbolic import build

BASE = """model M
  parameters
    k = 2
  variables
    x = 1
    v = 0
    a
  discrete
    mode = 1
  equations
    der(x) = v
    der(v) = if mode == 1 then -k else k
    a = 2 * x
  events
{events}
end
"""


def _model(events: str) -> str:
    return BASE.format(events="\n".join("    " + line for line in events.splitlines()))


def _error(events: str) -> SymflowError:
    with pytest.raises(SymflowError) as info:
        symflow.loads(_model(events), file="m.sf")
    return info.value


def _underlined(err: SymflowError) -> str:
    lines = err.pretty().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^ (\d+) \| (.*)$", line)
        if m:
            carets = lines[i + 1]
            first = carets.index("^")
            start = first - (len(m.group(1)) + 4)
            return m.group(2)[start:start + len(carets) - first]
    raise AssertionError("no excerpt")


def test_events_are_built_with_their_kind_direction_and_affects():
    system = build(parse(_model(
        "when x < 0 then v = -0.5 * pre(v), mode = 2\n"
        "when a >= 4 then terminate\n"
        "at t = 3, 1 if v > 0 then mode = 1\n"
        "every 2 from 1 until 9 then x = x + k"), "m.sf"))
    when, stop, at, every = system.events
    assert (when.kind, when.direction, str(when.condition)) == ("when", -1, "x")
    assert [(a.target, str(a.value)) for a in when.affects] == [
        ("v", "-0.5*pre(v)"), ("mode", "2")]
    # before the passes the condition is over the algebraic a; they put a = 2x in
    assert (stop.direction, stop.terminate, str(stop.condition)) == (1, True, "a - 4")
    simplified = symflow.passes.simplify(system)
    assert str(simplified.events[1].condition) == "2*x - 4"
    assert [float(t) for t in at.times] == [3, 1] and str(at.check) == "v > 0"
    assert (float(every.start), float(every.period), float(every.stop)) == (1, 2, 9)
    assert when.label == "when x < 0 then v = -0.5 * pre(v), mode = 2"
    mode = next(v for v in system.variables if v.name == "mode")
    assert mode.discrete and system.equation_for("mode").rhs == 0


@pytest.mark.parametrize("events, message, line, underlined, help", [
    ("when x then v = 0", "is a comparison (`<`, `<=`", 15, "x", "becomes true"),
    ("when x < 0 and v then v = 0", "is a comparison (`<`, `<=`", 15, "v", "becomes true"),
    ("when x != 0 then v = 0", "is a comparison (`<`, `<=`", 15, "x != 0",
     "`!=` is not a crossing"),
    ("when x < 0 or not (v == 1) then v = 0", "`==` cannot be joined", 15, "v == 1",
     "holds only at instants"),
    ("when k < 0 and k > 1 then v = 0", "does not depend on the states or t", 15,
     "k < 0 and k > 1", "at t ="),
    ("when x < 0 then v = 1 + (x > 1 and v < 2)", "expected a value, not a condition", 15,
     "x > 1 and v < 2", "can only follow `if`"),
    ("when k < 0 then v = 0", "does not depend on the states or t", 15, "k < 0", "at t ="),
    ("when x < 0 then k = 1", "can only set a state; 'k' is a parameter", 15, "k",
     "under `discrete`"),
    ("when x < 0 then a = 1", "'a' is a algebraic variable", 15, "a", "states"),
    ("when x < 0 then y = 1", "undeclared name 'y'", 15, "y", None),
    ("when x < 0 then v = pre(k)", "pre(...) takes a state; 'k' is not one", 15,
     "pre(k)", None),
    ("when x < 0 then v = 1, v = 2", "sets 'v' twice", 15, "v = 2", None),
    ("at s = 1 then v = 0", "expected `at t = ...`", 15, "s", None),
    ("at t = x then v = 0", "an event time cannot use the variable 'x'", 15, "x", None),
    ("every 0 then v = 0", "period of an `every` event must be positive", 15, "0", None),
    ("every 1 if x then v = 0", "expected a condition after `if`", 15, "x", None),
])
def test_misuse_is_an_error_at_its_place(events, message, line, underlined, help):
    err = _error(events)
    assert message in err.message, err.message
    assert (err.span.file, err.span.line) == ("m.sf", line)
    assert _underlined(err) == underlined
    if help:
        assert help in (err.help or ""), err.help


def test_a_discrete_state_has_no_equation():
    text = _model("when x < 0 then v = 0").replace("a = 2 * x", "der(mode) = 1")
    with pytest.raises(SymflowError, match="'mode' is discrete") as info:
        symflow.loads(text, file="m.sf")
    assert info.value.span.line == 13


def test_pre_outside_an_event_is_an_error():
    text = _model("when x < 0 then v = 0").replace("a = 2 * x", "a = pre(x)")
    with pytest.raises(SymflowError, match="pre.x. may only appear in the value an event"):
        symflow.loads(text, file="m.sf")


def test_the_syntax_of_an_event_is_checked_with_what_was_expected():
    err = _error("when x < 0 v = 0")
    assert err.message == "syntax error: unexpected 'v'"
    assert (err.help or "").startswith("expected ")
    assert (err.span.line, err.span.column) == (15, 16)


def test_events_in_a_component_are_refused():
    text = """model Part
  variables
    x = 1
  equations
    der(x) = -x
  events
    when x < 0.5 then x = 1
end

model Whole
  components
    p: Part
end
"""
    with pytest.raises(SymflowError, match="an events section may only be in the model"):
        symflow.loads(text, file="m.sf")


def test_a_solver_that_cannot_run_events_is_refused_at_check_time():
    text = _model("when x < 0 then v = 0").replace("end\n", "  simulate\n    solver = ddim\nend\n")
    with pytest.raises(SymflowError, match="solver ddim does not run events") as info:
        symflow.loads(text, file="m.sf")
    assert _underlined(info.value) == "ddim"
