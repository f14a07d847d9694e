"""The importer's expression printer: the text it writes means the tree it printed.

Each expression is printed, read back by symflow's own parser and builder (as an
observed output), and both are evaluated at the same point: the printer's
parentheses must keep the meaning, including the language's rules that `^` binds
tighter than unary minus and that `else` extends to the right.
"""

from __future__ import annotations

import math

import pytest

from symflow.lang import parse
from symflow.sbml._expr import (
    Call,
    Cmp,
    Expr,
    If,
    Logic,
    Num,
    Op,
    Sym,
    Time,
    evaluate,
    number_text,
    to_text,
)
from symflow.symbolic import build

X, Y, Z = Sym("x"), Sym("y"), Sym("z")
VALUES = {"x": 1.7, "y": -0.6, "z": 2.3}

CASES: list[Expr] = [
    Op("neg", (Op("^", (X, Num(2.0))),)),                      # -(x^2)
    Op("^", (Op("neg", (X,)), Num(2.0))),                      # (-x)^2
    Op("^", (X, Op("neg", (Num(2.0),)))),                      # x^(-2)
    Op("^", (Op("^", (Z, Num(2.0))), Num(0.5))),               # (z^2)^0.5
    Op("^", (Z, Op("^", (Num(2.0), Num(0.5))))),               # z^(2^0.5)
    Op("-", (X, Op("-", (Y, Z)))),                             # x - (y - z)
    Op("-", (Op("-", (X, Y)), Z)),
    Op("/", (X, Op("*", (Y, Z)))),                             # x/(y*z)
    Op("/", (Op("/", (X, Y)), Z)),
    Op("*", (X, Op("/", (Y, Z)))),
    Op("*", (X, Op("neg", (Y,)))),
    Op("+", (X, Op("neg", (Y,)), Num(-3.0))),                  # x - y - 3
    Op("-", (X, Op("neg", (Y,)))),
    Op("+", (If(Cmp("<", X, Y), X, Y), Num(1.0))),             # (if ...) + 1
    If(Cmp(">", X, Num(1.0)), If(Cmp("<", Y, Num(0.0)), X, Y), Z),
    If(Logic("and", (Cmp(">", X, Num(1.0)), Logic("not", (Cmp("<", Y, Num(0.0)),)))),
       Num(1.0), If(Logic("or", (Cmp("==", X, Y), Cmp(">=", Z, X))), Num(2.0), Num(3.0))),
    Call("exp", (Op("neg", (Op("*", (X, Time())),)),)),
    Call("max", (X, Y, Z)),
    Op("*", (Call("pi", ()), Op("^", (Call("e", ()), X)))),
    Op("neg", (Op("neg", (X,)),)),
    Op("neg", (Op("+", (X, Y)),)),
    Op("*", (Num(1.5e-7), X)),
    Op("+", (Call("floor", (Op("*", (Num(2.0), X)),)), Call("ceiling", (Op("neg", (Y,)),)))),
]


def _symflow_value(text: str) -> float:
    model = f"""
model M
  parameters
    x = {VALUES['x']}
    y = {VALUES['y']}
    z = {VALUES['z']}
  variables
    u = 0
  equations
    der(u) = 0
  observed
    out = {text}
end
"""
    system = build(parse(model))
    expr = system.observed[0].expr
    # the parameters by name, and t = 0.5
    return float(expr.subs({s: VALUES.get(s.name, 0.5) for s in expr.free_symbols}))


@pytest.mark.parametrize("expr", CASES, ids=lambda e: to_text(e, str))
def test_printed_text_means_the_tree(expr: Expr) -> None:
    text = to_text(expr, str)
    expected = evaluate(expr, VALUES, time=0.5)
    assert _symflow_value(text) == pytest.approx(expected, rel=1e-12), text


def test_minimal_parentheses() -> None:
    assert to_text(Op("neg", (Op("^", (X, Num(2.0))),)), str) == "-x^2"
    assert to_text(Op("+", (X, Op("neg", (Y,)))), str) == "x - y"
    assert to_text(Op("*", (X, Y, Z)), str) == "x*y*z"
    assert to_text(If(Cmp("<", X, Y), X, If(Cmp("<", Y, Z), Y, Z)), str) == \
        "if x < y then x else if y < z then y else z"


@pytest.mark.parametrize("value, text", [(2.0, "2"), (0.5, "0.5"), (1.5e-7, "1.5e-07"),
                                         (6.02214179e23, "6.02214179e+23")])
def test_numbers_read_back_exactly(value: float, text: str) -> None:
    assert number_text(value) == text
    assert float(text) == value


def test_evaluate_conditions_and_functions() -> None:
    assert evaluate(Cmp(">=", X, Num(1.7)), VALUES) == 1.0
    assert evaluate(Logic("not", (Cmp(">", X, Y),)), VALUES) == 0.0
    assert evaluate(Call("f", (X,), user=True), VALUES,
                    functions={"f": (("a",), Op("*", (Sym("a"), Num(2.0))))}) == 3.4
    assert evaluate(Call("pi", ()), {}) == math.pi
