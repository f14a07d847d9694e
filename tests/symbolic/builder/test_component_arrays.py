"""Arrays of components (`r[n]: Resistor(...)`), loops over connections and
equations (`for i in 0:n ... end`), array parameters `r.R`, and their errors."""

import re

import numpy as np
import pytest
import sympy as sp

from models import model_text
from symflow.errors import SymflowError
from symflow.lang import parse
from symflow.passes import simplify
from symflow.symbolic import build

LADDER = model_text("rc_ladder_array")


def built(text, file="m.sf"):
    return build(parse(text, file))


def hand_written_ladder(n: int) -> str:
    """The same ladder with every component written out (benchmarks/components.py)."""
    lines = ["model Ladder", "  import electrical", "  components",
             "    s: ConstantVoltage(V = 1)", "    gnd: Ground"]
    for k in range(n):
        lines += [f"    r{k}: Resistor(R = 1)", f"    c{k}: Capacitor(C = 1, vc = 0)"]
    lines += ["  connections", "    connect(s.p, r0.p)"]
    grounds = ["s.n", "gnd.g"]
    for k in range(n):
        nxt = f", r{k + 1}.p" if k + 1 < n else ""
        lines.append(f"    connect(r{k}.n, c{k}.p{nxt})")
        grounds.append(f"c{k}.n")
    lines += ["    connect(" + ", ".join(grounds) + ")", "end"]
    return "\n".join(lines) + "\n"


def _scalar_names(expr: sp.Expr, n: int) -> sp.Expr:
    """An expression of the array model in the hand-written model's names: `c[3].vc` is
    `c3.vc`, the element `r.R[3]` of the array parameter is `r3.R`."""
    from symflow.symbolic.nodes import Element

    expr = expr.replace(lambda e: isinstance(e, Element),
                        lambda e: sp.Symbol(f"{e.args[0].name[0]}{int(e.args[1])}."
                                            f"{e.args[0].name[2:]}", real=True))
    return expr.xreplace({s: sp.Symbol(re.sub(r"\[(\d+)\]", r"\1", s.name), real=True)
                          for s in expr.free_symbols})


def test_ladder_is_the_hand_written_ladder():
    arrays, scalars = simplify(built(LADDER)), simplify(built(hand_written_ladder(5)))
    assert [v.name for v in arrays.states] == [f"c[{k}].vc" for k in range(5)]
    assert [v.name for v in scalars.states] == [f"c{k}.vc" for k in range(5)]
    values = {sp.Symbol(f"{x}{k}.{p}", real=True): 1.0 for k in range(5)
              for x, p in (("r", "R"), ("c", "C"))} | {sp.Symbol("s.V", real=True): 1.0}
    for a, b in zip(arrays.equations, scalars.equations):
        assert sp.simplify(_scalar_names(a.rhs, 5).xreplace(values)
                           - b.rhs.xreplace(values)) == 0


def test_parameters_of_an_array_are_array_parameters():
    system = built(LADDER)
    params = {p.name: p for p in system.parameters}
    assert params["r.R"].shape == (5,) and params["r.R"].value == (1.0,) * 5
    assert params["c.C"].shape == (5,)
    assert "r[0].R" not in params
    assert {"r[3].p.v", "c[4].vc"} <= {v.name for v in system.variables}


def test_per_element_modifier_from_an_array_parameter():
    text = LADDER.replace("R0 = 1.0", "Rs = [1, 2, 3, 4, 5]\n    v0 = [0, 0.1, 0.2, 0.3, 0.4]"
                          ).replace("Resistor(R = R0)", "Resistor(R = 2*Rs)").replace(
        "Capacitor(C = 1, vc = 0)", "Capacitor(C = 1, vc = v0)")
    system = built(text)
    params = {p.name: p for p in system.parameters}
    assert params["Rs"].shape == (5,)
    assert params["r.R"].value == (2.0, 4.0, 6.0, 8.0, 10.0)
    initial = {v.name: v.initial for v in system.variables}
    assert str(initial["c[3].vc"]) == "v0[3]"


def test_nested_loop_over_equations():
    text = """
model Grid
  constants
    n = 3
  variables
    x[6] = 1.0
  equations
    for i in 0:2
      for j in 0:n
        der(x[n*i + j]) = -(i + 1)*x[n*i + j]
      end
    end
end
"""
    (equation,) = built(text).equations
    assert equation.target == "x"
    assert str(equation.rhs) == "concat(-x[0], -x[1], -x[2], -2*x[3], -2*x[4], -2*x[5])"


def test_nested_loop_over_connections():
    text = LADDER.replace("""    for i in 0:n
      connect(r[i].n, c[i].p)
      connect(c[i].n, gnd.g)
    end""", """    for i in 0:n
      for j in 0:2
        connect(r[i].n, c[i].p)
      end
      connect(c[i].n, gnd.g)
    end""")
    assert len(built(text).equations) == len(built(LADDER).equations)


@pytest.mark.slow
def test_simulation_matches_the_hand_written_ladder():
    from symflow import loads

    a = loads(LADDER).simulate(saveat=[10.0])
    b = loads(hand_written_ladder(5) + "").simulate(tspan=(0.0, 10.0), saveat=[10.0])
    for k in range(5):
        assert np.allclose(a[f"c[{k}].vc"], b[f"c{k}.vc"], rtol=1e-6)


def _error(text: str) -> SymflowError:
    with pytest.raises(SymflowError) as info:
        built(text)
    return info.value


@pytest.mark.parametrize("change, message, at", [
    # an index out of range points at the index
    (("connect(s.p, r[0].p)", "connect(s.p, r[n].p)"),
     "index 5 is out of range: 'r' has 5 components, r[0] ... r[4]", "n"),
    (("connect(r[i].n, r[i + 1].p)", "connect(r[i].n, r[i + 2].p)"),
     "index 5 is out of range", "i + 2"),
    # an array of components without an index
    (("connect(s.p, r[0].p)", "connect(s.p, r.p)"),
     "r is an array of 5 components: index it, r[i].p", "r.p"),
    # an index into one component
    (("connect(s.p, r[0].p)", "connect(s[0].p, r[0].p)"),
     "'s' is one component, not an array of components", "s[0]"),
    # loop bounds
    (("for i in 0:n - 1", "for i in 0:n/2"), "the end of the loop over i must be an "
     "integer constant expression (it is 2.5)", "n/2"),
    (("for i in 0:n - 1", "for i in -1:n - 1"), "the loop over i starts at -1", "-1"),
    (("for i in 0:n - 1", "for i in 0:R0"), "must be an integer constant expression",
     "R0"),
    # a loop variable that shadows a name
    (("for i in 0:n - 1", "for R0 in 0:n - 1"),
     "loop variable 'R0' shadows the parameter 'R0'", "R0"),
    (("for i in 0:n - 1", "for c in 0:n - 1"),
     "loop variable 'c' shadows the component 'c'", "c"),
    # a modifier array of another length
    (("Resistor(R = R0)", "Resistor(R = [1, 2, 3])"),
     "the modifier R has 3 values, but 'r' has 5 components", "[1, 2, 3]"),
])
def test_errors_point_at_the_place(change, message, at):
    old, new = change
    assert old in LADDER
    text = LADDER.replace(old, new, 1)
    err = _error(text)
    assert message in err.message, err.pretty()
    assert err.span is not None and err.span.file == "m.sf"
    line = text.splitlines()[err.span.line - 1]
    assert line[err.span.column - 1:err.span.end_column - 1] == at, err.pretty()
    assert f"--> m.sf:{err.span.line}:{err.span.column}" in err.pretty()


def test_an_error_in_a_loop_says_which_iteration():
    err = _error(LADDER.replace("connect(r[i].n, r[i + 1].p)", "connect(r[i].n, r[i + 2].p)"))
    assert err.message.endswith("(at i = 3)")


def test_nested_loop_variables_must_differ():
    text = LADDER.replace("for i in 0:n - 1\n", "for i in 0:1\n    for i in 0:n - 1\n").replace(
        "connect(r[i].n, r[i + 1].p)\n    end", "connect(r[i].n, r[i + 1].p)\n    end\n    end")
    err = _error(text)
    assert "already the variable of an enclosing loop" in err.message


def test_member_of_a_variable_is_an_error():
    err = _error("model M\n  variables\n    x[2] = 0\n  equations\n    der(x) = -x[0].v\nend\n")
    assert "only an element of an array of components has members" in err.message


CHAIN = """
model Chain
  import mechanical
  constants
    n = 4
  parameters
    s0 = [0, 0, 0, 0.1]
  components
    wall: Fixed
    k[n]: Spring(k = 1)
    m[n]: Mass(m = 1, s = s0)
  connections
    connect(wall.flange, k[0].a)
    for i in 0:n
      connect(k[i].b, m[i].a)
    end
    for i in 0:n - 1
      connect(m[i].b, k[i + 1].a)
    end
  observed
    last = m[n - 1].s
    stiffness = sum(k.k) + k[0].k
end
"""


def test_observed_outputs_use_elements_and_array_parameters():
    from symflow.symbolic.nodes import ArraySum, Element

    system = built(CHAIN)
    observed = {o.name: o.expr for o in system.observed}
    assert str(observed["last"]) == "m[3].s"
    k = sp.Symbol("k.k", real=True)
    assert observed["stiffness"] == ArraySum(k) + Element(k, sp.Integer(0))
    initial = {v.name: str(v.initial) for v in system.variables if v.initial is not None}
    assert initial["m[3].s"] == "s0[3]"


def test_an_array_of_components_inside_an_array_of_components():
    text = """
model Section
  import electrical
  parameters
    Rs = 1.0
  ports
    p: Pin
    n: Pin
  components
    r[2]: Resistor(R = Rs)
  connections
    connect(p, r[0].p)
    connect(r[0].n, r[1].p)
    connect(r[1].n, n)
end

model Top
  import electrical
  components
    s: ConstantVoltage(V = 1)
    gnd: Ground
    a[3]: Section(Rs = [1, 2, 3])
    c: Capacitor(C = 1, vc = 0)
  connections
    connect(s.p, a[0].p)
    for i in 0:2
      connect(a[i].n, a[i + 1].p)
    end
    connect(a[2].n, c.p)
    connect(c.n, s.n, gnd.g)
end
"""
    system = built(text)
    params = {p.name: p for p in system.parameters}
    assert params["a.Rs"].value == (1.0, 2.0, 3.0)
    assert params["a[2].r.R"].value == (3.0, 3.0)  # follows a.Rs[2]
    assert "a[1].r[0].p.v" in {v.name for v in system.variables}
    final = simplify(system)
    assert [v.name for v in final.states] == ["c.vc"]
    # R = 2*(1 + 2 + 3) in series: tau = 12
    (equation,) = final.equations
    values = {p.symbol: p.number for p in system.parameters}
    x = sp.Symbol("c.vc", real=True)
    assert sp.simplify(equation.rhs.xreplace(values).subs(x, 0) - sp.Rational(1, 12)) == 0


def test_per_element_modifier_from_an_array_constant():
    text = LADDER.replace("n = 5", "n = 5\n    Rs = [1, 2, 3, 4, 5]").replace(
        "Resistor(R = R0)", "Resistor(R = Rs)")
    system = built(text)
    params = {p.name: p for p in system.parameters}
    assert params["Rs"].constant and params["Rs"].shape == (5,)
    assert params["r.R"].value == (1.0, 2.0, 3.0, 4.0, 5.0)


def test_array_parameters_and_constants_outside_components():
    system = built("""
model M
  constants
    k = [1, 2, 3]
  parameters
    a = [0.5, 1, 2] in [0, 5]
  variables
    x[3] = 1.0
  equations
    der(x) = -a*k*x
end
""")
    params = {p.name: p for p in system.parameters}
    assert params["a"].shape == (3,) and params["a"].bounds == (0.0, 5.0)
    folded = simplify(system)
    assert str(folded.equations[0].rhs) == "-a*x*[1.0, 2.0, 3.0]"
    with pytest.raises(SymflowError, match=r"the value 7 of 'a' is outside its bounds"):
        built("model M\n  parameters\n    a = [1, 7] in [0, 5]\n  variables\n    x = 1\n"
              "  equations\n    der(x) = -x\nend\n")


def test_an_event_condition_on_an_element():
    text = LADDER.replace("  simulate", "  events\n    when c[n - 1].vc > 0.5 then terminate\n"
                          "  simulate")
    (event,) = built(text).events
    assert str(event.condition) == "c[4].vc - 0.5"


def test_a_negative_index_says_it_does_not_count_from_the_end():
    err = _error(LADDER.replace("connect(s.p, r[0].p)", "connect(s.p, r[-1].p)"))
    assert "index -1 is out of range" in err.message
    assert "does not count from the end" in (err.help or "")


def test_lengths_and_loop_bounds_from_constants_set_per_element():
    system = built(model_text("sections_of_different_lengths"))
    params = {p.name: p for p in system.parameters}
    assert [len(params[f"a[{k}].r.R"].value) for k in range(3)] == [1, 2, 3]
    assert len(params["b.r.R"].value) == 4
    (equation,) = simplify(system).equations
    values = {p.symbol: p.number for p in system.parameters}
    x = sp.Symbol("c.vc", real=True)
    rate = equation.rhs.xreplace(values)
    assert [float(rate.subs(x, v)) for v in (0, 1)] == pytest.approx([0.1, 0.0], abs=1e-15)
