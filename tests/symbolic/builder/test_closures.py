"""The `closures` section: what it builds, and every mistake with its place."""

from __future__ import annotations

import pytest
import sympy as sp

from models import model_text
from symflow import SymflowError
from symflow.lang import parse
from symflow.symbolic import ClosureOutput, build

LV = model_text("ude_closures_template")


def _build(closures="(U1, U2) = mlp(x, y, width = 8, depth = 2, activation = tanh)",
           u1="U1", u2="U2"):
    return build(parse(LV.format(closures=closures, u1=u1, u2=u2), "m.sf"))


def _error(**kw) -> SymflowError:
    with pytest.raises(SymflowError) as info:
        _build(**kw)
    return info.value


def test_a_closure_builds_into_output_nodes_and_a_description():
    s = _build("(U1, U2) = mlp(x, y*alpha, width = 8, depth = 3, activation = gelu, "
               "scale = 0.5, seed = 7)")
    (c,) = s.closures
    assert c.name == "U1_U2" and c.outputs == ("U1", "U2")
    x, y, alpha = (sp.Symbol(n, real=True) for n in ("x", "y", "alpha"))
    assert c.inputs == (x, y * alpha)
    assert c.input_text == ("x", "y*alpha")
    assert c.depends_on == ("alpha", "x", "y")
    assert (c.width, c.depth, c.activation, c.scale, c.seed) == (8, 3, "gelu", 0.5, 7)
    nodes = s.equation_for("x").rhs.atoms(ClosureOutput)
    assert [(n.output, n.inputs) for n in nodes] == [("U1", (x, y * alpha))]
    assert "U2(x, alpha*y)" in str(s)


def test_defaults_and_several_closures_one_using_another():
    s = _build("(U1) = mlp(x)\n    (U2) = mlp(U1, y, activation = swish)")
    a, b = s.closures
    assert (a.width, a.depth, a.activation, a.scale, a.seed) == (32, 2, "tanh", 1.0, 0)
    assert b.depends_on == ("U1", "x", "y")  # x through U1
    (inner,) = [n for n in b.inputs[0].atoms(ClosureOutput)]
    assert inner.output == "U1"


@pytest.mark.parametrize("closures, message, line, column", [
    ("(x, U2) = mlp(x, y)", "closure output 'x' collides with the variable 'x'", 9, 5),
    ("(alpha) = mlp(x, y)", "closure output 'alpha' collides with the parameter 'alpha'", 9, 5),
    ("(U1, U1) = mlp(x, y)", "a closure names an output twice", 9, 5),
    ("(U1, U2) = mlp(x, y, activation = sigmoid)", "unknown activation 'sigmoid'", 9, 39),
    ("(U1, U2) = mlp(x, y, widht = 4)", "unknown option 'widht' of mlp", 9, 26),
    ("(U1, U2) = mlp(x, y, width = 0)", "the width of a closure must be in [1, 4096], not 0",
     9, 34),
    ("(U1, U2) = mlp(x, y, depth = 1.5)", "the depth of a closure must be a whole number, "
                                          "not 1.5", 9, 34),
    ("(U1, U2) = net(x, y)", "unknown closure 'net'", 9, 16),
    ("(U1, U2) = mlp(width = 3)", "a closure needs at least one input", 9, 16),
    ("(U1, U2) = mlp(x, U2)", "algebraic loop: an input of closure (U1, U2) uses its own "
                              "output 'U2'", 9, 23),
    ("(U1) = mlp(x, U2)\n    (U2) = mlp(U1)",
     "algebraic loop between closures: (U1) -> (U2) -> (U1)", 10, 16),
    ("(U1, U2) = mlp(x, undeclared)", "undeclared name 'undeclared'", 9, 23),
])
def test_closure_mistakes_point_at_their_place(closures, message, line, column):
    err = _error(closures=closures)
    assert err.message == message
    assert (err.span.line, err.span.column) == (line, column)


def test_an_output_used_but_never_declared_suggests_a_closure():
    err = _error(closures="(U1) = mlp(x, y)", u2="U12")
    assert err.message == "undeclared name 'U12'"
    assert (err.span.line, err.span.column) == (12, 25)
    assert "did you mean 'U1'?" in err.help


def test_an_output_used_but_never_declared_without_a_close_name_mentions_closures():
    err = _error(closures="(U1) = mlp(x, y)", u2="Interaction")
    assert "closure" in err.help


def test_a_closure_output_in_an_initial_value_is_refused():
    text = LV.format(closures="(U1, U2) = mlp(x, y)", u1="U1", u2="U2").replace(
        "y = 4.6", "y = U1")
    with pytest.raises(SymflowError) as info:
        build(parse(text, "m.sf"))
    assert "cannot use the closure 'U1'" in info.value.message
