"""Loops `for i in a:b ... end` over equations, unrolled before the model is built
(`symbolic/builder/loops.py`); loops over connections are tested with arrays of
components (`test_component_arrays.py`)."""

import pytest

from symflow.errors import SymflowError
from symflow.lang import ast, parse
from symflow.symbolic import build
from symflow.symbolic.builder.loops import constant_value, integer_value, unroll

MODEL = """
model M
  constants
    n = 4
  parameters
    k = 2.0
  variables
    x[n] = 1.0
  equations
    der(x[0]) = -x[0]
    for i in {range}
      der(x[i]) = x[i - 1] - k*x[i]
    end
end
"""


def test_a_loop_defines_elements_of_an_array():
    (equation,) = build(parse(MODEL.format(range="1:n"), "m.sf")).equations
    assert str(equation.rhs) == ("concat(-x[0], -k*x[1] + x[0], -k*x[2] + x[1], "
                                 "-k*x[3] + x[2])")


@pytest.mark.parametrize("bounds, message, at", [
    ("1:n/3", "the end of the loop over i must be an integer constant expression", "n/3"),
    ("-1:n", "the loop over i starts at -1: a range starts at 0 or later", "-1"),
    ("3:1", "the loop over i ends (1) before it starts (3)", "1"),
    ("1:k", "the end of the loop over i must be an integer constant expression", "k"),
])
def test_loop_bounds_are_checked_at_their_place(bounds, message, at):
    text = MODEL.format(range=bounds)
    with pytest.raises(SymflowError) as info:
        build(parse(text, "m.sf"))
    err = info.value
    assert message in err.message
    line = text.splitlines()[err.span.line - 1]
    assert line[err.span.column - 1:err.span.end_column - 1] == at


def test_an_empty_range_gives_no_equations():
    text = MODEL.format(range="1:1").replace("x[n] = 1.0", "x[1] = 1.0")
    (equation,) = build(parse(text, "m.sf")).equations
    assert str(equation.rhs) == "-x[0]"


def test_a_loop_variable_may_not_shadow_a_name():
    with pytest.raises(SymflowError, match="loop variable 'k' shadows the parameter 'k'"):
        build(parse(MODEL.format(range="1:n").replace("for i in", "for k in"), "m.sf"))


def test_unroll_gives_each_copy_its_loop_variables():
    (loop,) = parse("model M\n  equations\n    for i in 0:2\n      for j in i:2\n"
                    "        x = i + j\n      end\n    end\nend\n").models[0].items("equations")
    copies = list(unroll((loop,), {}.get, taken={}))
    assert [b for _, b in copies] == [(("i", 0), ("j", 0)), (("i", 0), ("j", 1)),
                                      (("i", 1), ("j", 1))]
    first = copies[0][0]
    assert isinstance(first.rhs.left, ast.Number) and first.rhs.left.value == 0


def test_constant_expressions():
    values = {"n": 10, "v": [1, 2, 3]}.get
    e = parse("model M\n  equations\n    x = (n - 1)*2 / 3 + v[1]^2\nend\n").models[0]
    expr = e.items("equations")[0].rhs
    assert constant_value(expr, values) == 10
    assert integer_value(expr, values, "it") == 10
