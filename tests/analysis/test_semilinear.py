"""The semilinear split: linear part, remainder, a(t), its integral, g(t)."""

import sympy as sp

from symflow import passes, symbolic
from symflow.analysis import split_semilinear
from symflow.lang import parse


def final(text: str):
    return passes.simplify(symbolic.build(parse(text)))


def symbols(system):
    return {p.name: p.symbol for p in system.parameters} | {
        v.name: v.symbol for v in system.variables}


VP = """
model VP
  parameters
    b0 = 0.1
    b1 = 20
  functions
    beta(t) = b0 + t*(b1 - b0)
  variables
    x = 1
  equations
    der(x) = -0.5*beta(t)*x - 0.5*beta(t)*sin(x)
end
"""


def test_scalar_time_varying_coefficient_integral_and_factor():
    system = final(VP)
    split = split_semilinear(system)
    assert split.kind == "scalar" and split.time_varying
    s = symbols(system)
    t, x, b0, b1 = system.time, s["x"], s["b0"], s["b1"]
    beta = b0 + t * (b1 - b0)
    (term,) = split.terms
    assert sp.simplify(term.coefficient - (-beta / 2)) == 0
    assert sp.simplify(sp.diff(term.integral, t) - term.coefficient) == 0
    assert sp.simplify(term.factor - (-beta / 2)) == 0 and term.reduced == sp.sin(x)
    assert sp.simplify(term.linear + term.remainder - system.equations[0].rhs) == 0
    assert split.scalar_coefficient == term.coefficient


def test_integral_falls_back_to_quadrature_without_closed_form():
    system = final("""
model Q
  variables
    x = 1
  equations
    der(x) = -exp(sin(t))*x + x^2
end
""")
    split = split_semilinear(system)
    (term,) = split.terms
    assert split.kind == "scalar" and term.integral is None
    assert "quadrature" in str(split)


def test_linear_terms_inside_a_nonlinear_product_stay_in_the_remainder():
    system = final("""
model R
  parameters
    k = 2
  variables
    x = 1
  equations
    der(x) = -k*x + x*sin(x) + 3
end
""")
    (term,) = split_semilinear(system).terms
    s = symbols(system)
    assert term.coefficient == -s["k"]
    assert sp.simplify(term.remainder - (s["x"] * sp.sin(s["x"]) + 3)) == 0
    assert term.factor == 1  # nothing state-free multiplies the whole remainder


def test_diagonal_and_dense_kinds():
    diagonal = split_semilinear(final("""
model D
  variables
    x = 1
    y = 2
  equations
    der(x) = -x + y^2
    der(y) = -2*t*y
end
"""))
    assert diagonal.kind == "diagonal" and diagonal.time_varying
    dense = split_semilinear(final("""
model C
  variables
    x = 1
    y = 0
  equations
    der(x) = -y + x^2
    der(y) = x
end
"""))
    assert dense.kind == "dense" and not dense.time_varying
    s = symbols(final("model C\n variables\n  x = 1\n  y = 0\n equations\n"
                      "  der(x) = -y\n  der(y) = x\nend\n"))
    assert dense.term("x").linear == -s["y"] and dense.term("y").remainder == 0


def test_array_state_with_scalar_coefficient_is_scalar_kind():
    split = split_semilinear(final("""
model A
  variables
    x[3] = [1, 2, 3]
  equations
    der(x) = -(1 + t)*x + x^2
end
"""))
    assert split.kind == "scalar" and split.time_varying


def test_no_linear_part_says_what_it_found():
    split = split_semilinear(final("""
model N
  variables
    x = 1
  equations
    der(x) = x^2 + sin(t)
end
"""))
    assert split.kind == "none"
    assert "der(x) = x**2 + sin(t)" in split.reason


def test_cli_show_stage_semilinear(tmp_path, capsys):
    from symflow.cli import main

    path = tmp_path / "vp.sf"
    path.write_text(VP)
    assert main(["show", str(path), "--stage", "semilinear"]) == 0
    out = capsys.readouterr().out
    assert "semilinear split: scalar (time-varying)" in out and "h = sin(x)" in out
