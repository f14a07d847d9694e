"""Declared values (constants, parameters, initial values, event times) may call
built-in and user functions; a function body that uses what the value may not is an
error at the body, with a note at the call."""

from __future__ import annotations

import math

import pytest

import symflow
from symflow.errors import SymflowError

MODEL = """model Values
  functions
    half_life(k) = log(2) / k
    twice(x) = 2 * x
  constants
    c = twice(1.5)
  parameters
    k = exp(2) / 10
    tau = half_life(k)
    k2 = twice(floor(c + 0.5)) in [0, twice(5)]
  variables
    x = twice(k2)
  discrete
    n = 0
  equations
    der(x) = -k * x
  events
    at t = twice(tau) then n = pre(n) + 1
  simulate
    tspan = [0, 10]
end
"""


def test_values_call_functions():
    m = symflow.loads(MODEL)
    k = math.exp(2) / 10
    assert float(m.params["k"]) == pytest.approx(k, rel=1e-15)
    assert float(m.params["tau"]) == pytest.approx(math.log(2) / k, rel=1e-15)
    assert float(m.params["k2"]) == 6.0  # twice(floor(3.5))
    x = next(v for v in m.system.variables if v.name == "x")
    at = m.system.events[0].times[0]
    values = {p.symbol: p.value for p in m.system.parameters}
    assert float(x.initial.xreplace(values)) == 12.0
    assert float(at.xreplace(values)) == pytest.approx(2 * math.log(2) / k, rel=1e-15)


def test_a_body_using_time_is_an_error_at_the_body_with_the_call_noted():
    text = MODEL.replace("twice(x) = 2 * x", "twice(x) = 2 * x + t")
    with pytest.raises(SymflowError) as info:
        symflow.loads(text)
    e = info.value
    assert e.message == ("the value of constant 'c' (through function 'twice') cannot "
                         "depend on the time t")
    assert (e.span.line, e.span.column) == (4, 24)
    assert e.notes and e.notes[0][0].line == 6 and "'twice' is called here" in e.notes[0][1]
