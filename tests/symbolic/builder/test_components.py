"""Flattening of components: names, modifiers, connection sets, and errors."""

import pytest
import sympy as sp

from symflow.errors import SymflowError
from symflow.lang import parse
from symflow.passes import simplify
from symflow.symbolic import build


def built(text, file="<string>"):
    return build(parse(text, file))


RC = """
model RC
  import electrical
  components
    r: Resistor(R = 2)
    c: Capacitor(C = 1, vc = 0)
    s: ConstantVoltage(V = 1)
    gnd: Ground
  connections
    connect(s.p, r.p)
    connect(r.n, c.p)
    connect(c.n, s.n, gnd.g)
end
"""


def test_flattening_names_modifiers_and_connection_equations():
    system = built(RC)
    names = {v.name for v in system.variables}
    assert {"r.p.v", "r.p.i", "c.vc", "gnd.g.i"} <= names
    assert {p.name: p.value for p in system.parameters} == {"r.R": 2, "c.C": 1, "s.V": 1}
    # One connection set of three pins: two potential equations and one flow sum.
    conn = [e for e in system.equations if e.target == "connection"]
    assert len(conn) == 2 + 2 + 3
    flows = sp.Symbol("c.n.i", real=True) + sp.Symbol("s.n.i", real=True) + sp.Symbol(
        "gnd.g.i", real=True)
    assert any(sp.expand(e.rhs + flows) == 0 or sp.expand(e.rhs - flows) == 0 for e in conn)
    final = simplify(system)
    assert [v.name for v in final.states] == ["c.vc"]


def test_connection_sets_are_merged():
    text = RC.replace("connect(c.n, s.n, gnd.g)", "connect(c.n, s.n)\n    connect(s.n, gnd.g)")
    conn = [e for e in built(text).equations if e.target == "connection"]
    assert len(conn) == 7  # the same as one connect of three pins


def test_unconnected_flow_is_zero():
    text = RC.replace("    connect(r.n, c.p)\n", "")
    system = built(text)
    zero = [e for e in system.equations if e.target.startswith("unconnected flow")]
    assert {e.target for e in zero} == {"unconnected flow r.n.i", "unconnected flow c.p.i"}


def test_local_components_ports_and_extends():
    text = """
connector Pin
  potential v
  flow i
end
model TwoPin
  ports
    p: Pin
    n: Pin
  variables
    v
  equations
    v = p.v - n.v
    0 = p.i + n.i
end
model Res
  extends TwoPin
  parameters
    R = 1.0
  equations
    v = R*p.i
end
model Top
  parameters
    R0 = 3.0
  components
    a: Res(R = 2*R0)
    b: Res
  connections
    connect(a.n, b.p)
end
"""
    system = built(text)
    r = {p.name: p.default for p in system.parameters}
    assert r["a.R"] == 2 * sp.Symbol("R0", real=True)
    assert len([e for e in system.equations]) == 3 * 2 + 2 + 2  # a.p.i = b.n.i = 0 (unconnected)


@pytest.mark.parametrize("change, message", [
    ("r: Resistor(R = 2)", "unknown component type 'Resistr'"),
    ("c: Capacitor(C = 1, vc = 0)", "'Capacitor' has no parameter or variable 'Cx'"),
])
def test_unknown_component_or_modifier(change, message):
    wrong = {"r: Resistor(R = 2)": "r: Resistr(R = 2)",
             "c: Capacitor(C = 1, vc = 0)": "c: Capacitor(Cx = 1, vc = 0)"}[change]
    with pytest.raises(SymflowError, match=message) as info:
        built(RC.replace(change, wrong))
    assert info.value.span is not None


def test_incompatible_connectors():
    text = RC.replace("import electrical", "import electrical\n  import thermal").replace(
        "gnd: Ground", "gnd: Ground\n    h: HeatCapacitor").replace(
        "connect(s.p, r.p)", "connect(s.p, h.port)\n    connect(s.p, r.p)")
    with pytest.raises(SymflowError, match="cannot connect a Pin to a HeatPort"):
        built(text)


def test_import_cycle_and_missing_file(tmp_path):
    (tmp_path / "a.sf").write_text('import "b.sf"\nmodel A\n  variables\n    x = 1.0\n'
                                   "  equations\n    der(x) = -x\nend\n")
    (tmp_path / "b.sf").write_text('import "a.sf"\nmodel B\n  variables\n    y = 1.0\n'
                                   "  equations\n    der(y) = -y\nend\n")
    path = tmp_path / "a.sf"
    with pytest.raises(SymflowError, match="import cycle: a.sf -> b.sf -> a.sf"):
        built(path.read_text(), str(path))
    with pytest.raises(SymflowError, match="cannot import 'missing.sf'") as info:
        built('import "missing.sf"\n' + RC, str(tmp_path / "c.sf"))
    assert info.value.span.line == 1


def test_import_of_a_file(tmp_path):
    (tmp_path / "lib.sf").write_text(
        "model Decay\n  parameters\n    k = 2.0\n  variables\n    x = 1.0\n"
        "  equations\n    der(x) = -k*x\nend\n")
    text = 'model Top\n  import "lib.sf"\n  components\n    d: Decay(k = 3)\nend\n'
    system = simplify(built(text, str(tmp_path / "top.sf")))
    (eq,) = system.equations
    assert eq.target == "d.x"
    assert sp.expand(eq.rhs + sp.Symbol("d.k", real=True) * sp.Symbol("d.x", real=True)) == 0


def test_unconnected_ports_that_leave_the_system_singular_are_named():
    text = ("model Lonely\n  import electrical\n  components\n    c: Capacitor(C = 1)\n"
            "    r: Resistor\n  connections\n    connect(c.p, r.p)\nend\n")
    with pytest.raises(SymflowError, match="structurally singular") as info:
        simplify(built(text))
    message = str(info.value)
    assert "no equation determines" in message
    assert "flows set to zero" in message and "c.n.i" in message
