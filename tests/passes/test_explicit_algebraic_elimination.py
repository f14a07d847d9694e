import pytest
import sympy as sp

from symflow import SymflowError
from symflow.lang import parse
from symflow.passes import eliminate_explicit_algebraics, simplify
from symflow.symbolic import Concat, build


def _build(text):
    return build(parse(text, "m.sf"))


CHAIN = """
model Chain
  parameters
    k = 1.5
  variables
    x = 1
    y = 0
    a
    b
  equations
    b = 2*a          # b depends on a: eliminated in dependency order
    a = k*x
    der(x) = -a
    der(y) = a - b*y
  observed
    ratio = b/a
end
"""


def test_algebraics_become_observed_in_dependency_order():
    out = eliminate_explicit_algebraics(_build(CHAIN))
    assert [v.name for v in out.variables] == ["x", "y"]
    assert [e.kind for e in out.equations] == ["ode", "ode"]
    assert [o.name for o in out.observed] == ["a", "b", "ratio"]
    k, x, y = sp.symbols("k x y", real=True)
    rhs = {e.target: e.rhs for e in out.equations}
    assert sp.simplify(rhs["x"] + k * x) == 0
    assert sp.simplify(rhs["y"] - (k * x - 2 * k * x * y)) == 0
    observed = {o.name: o.expr for o in out.observed}
    assert sp.simplify(observed["b"] - 2 * k * x) == 0
    assert sp.simplify(observed["ratio"] - 2) == 0


def test_a_system_with_no_algebraics_is_unchanged():
    system = _build("""
model A
  variables
    x = 1
  equations
    der(x) = -x
end
""")
    assert eliminate_explicit_algebraics(system) is system


def test_array_algebraic_pieces_are_picked_elementwise():
    out = simplify(_build("""
model Arr
  variables
    x[3] = 1
    z[2]
  equations
    z[0] = sum(x)
    z[1] = 2*x[0]
    der(x[0]) = -z[1]
    der(x[1:]) = -x[1:]
end
"""))
    (eq,) = out.equations
    # element 1 of the assembled z is substituted directly, not as concat(...)[1]
    assert isinstance(eq.rhs, Concat)
    first = eq.rhs.pieces()[0][1]
    x = sp.Symbol("x", real=True)
    assert "concat" not in str(first)
    assert str(first) == "-2*x[0]"
    assert x in first.free_symbols


def test_algebraic_loop_is_reported_with_places():
    with pytest.raises(SymflowError) as info:
        eliminate_explicit_algebraics(_build("""
model Loop
  variables
    x = 1
    a
    b
  equations
    a = b + 1
    b = 2*a
    der(x) = -a
end
"""))
    err = info.value
    assert "algebraic loop" in err.message
    assert err.span is not None and err.span.line in (7, 8)
    assert "m.sf" in str(err)
