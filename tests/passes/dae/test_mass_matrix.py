"""Row compression of a constant singular mass matrix (passes/dae/mass_matrix.py)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symflow
from models import model_text, published_reference
from symflow.errors import SymflowError
from symflow.lang import parse
from symflow.passes import PIPELINE, compress_mass_matrix
from symflow.symbolic import build, is_der

# M = [[1, -1], [-1, 1]] (rank 1): the rows' sum is 0 = y2 - exp(-2 t), and then
# y1' + y1 = -2 exp(-2 t): y1 = exp(-t) + 2 exp(-2 t) from y1(0) = 3, y2(0) = 1.
SMALL = """
model Small
  parameters
    a = 2
  variables
    y1 = 3
    y2 = 1
  equations
    der(y1) - der(y2) = -y1
    -der(y1) + der(y2) = y1 + y2 - exp(-a*t)
  simulate
    tspan = [0, 1]
end
"""


def _compressed(text: str):
    """The built system of `text` through the pipeline up to the mass-matrix pass."""
    system = build(parse(text, "m.sf"))
    for name, run in PIPELINE:
        system = run(system)
        if name == "mass_matrix":
            return system
    raise AssertionError("no mass_matrix pass in PIPELINE")


def _algebraic_rows(system) -> list[sp.Expr]:
    """The implicit rows without derivatives, their symbols replaced by plain ones of
    the same names (the system's carry assumptions)."""
    rows = [e.rhs for e in system.equations
            if e.kind == "implicit" and not any(is_der(s) for s in e.rhs.free_symbols)]
    return [r.xreplace({s: sp.Symbol(s.name) for s in r.free_symbols}) for r in rows]


def _same_up_to_sign(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether the residuals `0 = a` and `0 = b` are one equation (a = ±b)."""
    a = sp.nsimplify(a)
    return sp.simplify(a - b) == 0 or sp.simplify(a + b) == 0


def test_a_singular_constant_mass_matrix_gives_one_algebraic_row_per_lost_rank():
    rows = _algebraic_rows(_compressed(SMALL))
    y1, y2, a, t = sp.symbols("y1 y2 a t")
    assert len(rows) == 1
    # the row is the sum of the two rows (up to sign): y2 - exp(-a t), y1 gone
    assert _same_up_to_sign(rows[0], y2 - sp.exp(-a * t))


def test_the_compressed_model_solves_to_the_closed_form():
    m = symflow.loads(SMALL)
    s = m.simulate(saveat=[0.5, 1.0], solver="rodas5p", rtol=1e-9, atol=1e-12)
    t = np.array([0.5, 1.0])
    np.testing.assert_allclose(np.asarray(s["y1"])[-2:], np.exp(-t) + 2 * np.exp(-2 * t),
                               rtol=1e-7)
    np.testing.assert_allclose(np.asarray(s["y2"])[-2:], np.exp(-2 * t), rtol=1e-7)


def test_a_regular_system_passes_through_unchanged():
    text = SMALL.replace("-der(y1) + der(y2)", "der(y1) + der(y2)")
    system = build(parse(text, "m.sf"))
    assert compress_mass_matrix(system) is system


def test_the_rank_is_exact_with_decimal_coefficients():
    # 3e-6 = 3 * 1e-6 as the decimals written (as binary doubles 3e-6/1e-6 is
    # 2.9999999999999996, and the rows would look independent)
    text = """
model Caps
  variables
    x = 1
    z = 0
  equations
    3e-6*der(x) + 3e-6*der(z) = -x
    1e-6*der(x) + 1e-6*der(z) = z - x
end
"""
    (row,) = _algebraic_rows(_compressed(text))
    x, z = sp.symbols("x z")
    assert _same_up_to_sign(row, z - x - sp.Rational(1, 3) * (-x))


def test_the_combination_is_an_expression_of_the_parameters():
    # rows C*(x' + z') = -x and 2e-6*(x' + z') = z - x: the second less 2e-6/C times
    # the first, for every value of C (not only the default)
    text = """
model Caps
  parameters
    C = 1e-6
  variables
    x = 1
    z = 0
  equations
    C*der(x) + C*der(z) = -x
    2e-6*der(x) + 2e-6*der(z) = z - x
end
"""
    (row,) = _algebraic_rows(_compressed(text))
    x, z, c = sp.symbols("x z C")
    assert _same_up_to_sign(row, z - x - sp.Rational(2, 10**6) / c * (-x))


def test_the_transistor_amplifier_loses_three_ranks():
    system = _compressed(model_text("transistor_amplifier"))
    rows = _algebraic_rows(system)
    assert len(rows) == 3  # M has rank 5 of 8
    # the algebraic rows are the sums of rows 1+2, 4+5, 7+8: no capacitor left in them
    capacitors = set(sp.symbols("C1:6"))
    assert all(not (r.free_symbols & capacitors) for r in rows)


def test_a_singular_mass_matrix_that_depends_on_the_state_is_refused():
    text = SMALL.replace("der(y1) - der(y2) = -y1", "y2*der(y1) - y2*der(y2) = -y1")
    with pytest.raises(SymflowError, match="state-dependent singular mass matrix is not "
                                           "supported") as err:
        symflow.loads(text, file="m.sf")
    assert err.value.span.line == 9


def test_a_rank_that_holds_only_at_the_parameters_values_is_refused():
    text = SMALL.replace("a = 2", "a = 2\n    b = 1").replace(
        "der(y1) - der(y2) = -y1", "der(y1) - b*der(y2) = -y1")
    with pytest.raises(SymflowError, match="depends on the parameters' values"):
        symflow.loads(text, file="m.sf")


@pytest.mark.slow  # about 11 s to compile (dae_to_ode's symbolic solves) and 19 s to jit
def test_the_transistor_amplifier_matches_the_test_sets_reference():
    # rodas5p at rtol = atol = 1e-8 (the model's settings): 6.9 digits measured (the
    # largest relative error 1.3e-7, in y8); asserted: 6 digits in every node voltage.
    t1, reference = published_reference("transamp")  # the Test Set's published values
    m = symflow.loads(model_text("transistor_amplifier"))
    s = m.simulate(saveat=[t1])
    for name, value in reference.items():
        got = float(np.asarray(s[name])[-1])
        assert abs(got - value) <= 1e-6 * abs(value), (name, got, value)


def test_show_prints_the_compressed_rows(tmp_path, capsys):
    from symflow.cli import main

    path = tmp_path / "small.sf"
    path.write_text(SMALL)
    assert main(["show", str(path), "--stage", "mass_matrix", "--quiet"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.split("equations")[-1].splitlines() if "0 = " in line]
    # one row keeps the derivatives, the other is the rows' sum: y2 - exp(-a t), no y1
    assert len(rows) == 2 and sum("der(" in row for row in rows) == 1
    (algebraic,) = (row for row in rows if "der(" not in row)
    assert "exp(-a*t)" in algebraic and "y2" in algebraic and "y1" not in algebraic
