"""The parser: model text to AST, with exact spans and clear syntax errors.

Nothing here builds or solves a model; only `symflow.lang.parse` is called.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

import pytest

from symflow import Span, SymflowError
from symflow.lang import ast, parse

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The language specification the project starts from, and the user reference.
SPEC_FILES = [pathlib.Path("/work/shared/LANGUAGE.md"), ROOT / "docs" / "language.md"]


def _model_blocks() -> list:
    params = []
    for path in SPEC_FILES:
        if not path.is_file():
            continue
        blocks = re.findall(r"```[A-Za-z]*\n(.*?)```", path.read_text(), re.S)
        for i, block in enumerate(blocks):
            if re.search(r"^\s*(model|connector)\s+\w+", block, re.M):
                params.append(pytest.param(block, id=f"{path.name}-{i}"))
    return params


SPEC_BLOCKS = _model_blocks()


def _strip(node):
    """An AST node as nested tuples, without spans (to compare shapes of trees)."""
    if dataclasses.is_dataclass(node) and not isinstance(node, Span):
        return (type(node).__name__,) + tuple(
            _strip(getattr(node, f.name)) for f in dataclasses.fields(node)
            if not f.name.endswith("span"))
    if isinstance(node, tuple):
        return tuple(_strip(x) for x in node)
    return node


def _equations(text: str) -> tuple[ast.Equation, ...]:
    return parse(text, "m.sf").models[-1].items("equations")


def _rhs(expr: str):
    """The AST of one expression, as the right side of an equation."""
    (eq,) = _equations(f"model M\n  equations\n    y = {expr}\nend\n")
    return eq.rhs


def _syntax_error(text: str) -> SymflowError:
    with pytest.raises(SymflowError) as info:
        parse(text, "m.sf")
    err = info.value
    assert type(err) is SymflowError
    assert err.message.startswith("syntax error")
    return err


def _underlined(err: SymflowError) -> str:
    """The text the caret line of `err.pretty()` underlines."""
    lines = err.pretty().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^ (\d+) \| (.*)$", line)
        if m:
            text = m.group(2)
            carets = lines[i + 1]
            start = carets.index("^") - (len(m.group(1)) + 4)
            width = len(carets) - carets.index("^")
            assert set(carets[carets.index("^"):]) == {"^"}
            return text[start:start + width]
    raise AssertionError(f"no caret line in:\n{err.pretty()}")


# ---------------------------------------------------------------- whole files


def test_the_spec_has_model_blocks():
    assert len(SPEC_BLOCKS) >= 7 or not pathlib.Path("/work/shared/LANGUAGE.md").is_file()
    assert SPEC_BLOCKS, "no model blocks found in the language documents"


@pytest.mark.parametrize("block", SPEC_BLOCKS)
def test_every_model_block_of_the_spec_parses(block):
    program = parse(block, "spec.sf")
    models = re.findall(r"^\s*model\s+(\w+)", block, re.M)
    connectors = re.findall(r"^\s*connector\s+(\w+)", block, re.M)
    assert [m.name for m in program.models] == models
    assert [c.name for c in program.connectors] == connectors


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.sf")), ids=lambda p: p.name)
def test_every_example_parses(path):
    program = parse(path.read_text(), str(path))
    assert program.models
    assert program.file == str(path)


def test_spec_sections_are_read_into_the_ast():
    text = (
        "model LotkaVolterra\n"
        "  parameters\n"
        "    alpha = 1.5   in [0, 10]   \"prey birth rate\"\n"
        "    beta  = 1.0\n"
        "  variables\n"
        "    x = 1.0   \"prey\"\n"
        "    v[3] = [1, 2, 3]\n"
        "    lam\n"
        "  equations\n"
        "    der(x) = alpha*x - beta*x\n"
        "    0 = lam - x\n"
        "  simulate\n"
        "    tspan = [0, 10]\n"
        "    solver = tsit5\n"
        "end\n")
    (model,) = parse(text, "lv.sf").models
    alpha, beta = model.items("parameters")
    assert alpha.name == "alpha" and alpha.doc == "prey birth rate"
    assert _strip(alpha.bounds) == (("Number", 0), ("Number", 10))
    assert beta.bounds is None and beta.doc is None
    x, v, lam = model.items("variables")
    assert x.doc == "prey" and x.size is None
    assert _strip(v.size) == ("Number", 3) and isinstance(v.initial, ast.ArrayLiteral)
    assert lam.initial is None
    ode, constraint = model.items("equations")
    assert isinstance(ode.lhs, ast.Call) and ode.lhs.func == "der"
    assert _strip(constraint.lhs) == ("Number", 0)
    assert [s.name for s in model.items("simulate")] == ["tspan", "solver"]


# ---------------------------------------------------------------- continuation, comments


@pytest.mark.parametrize("text", [
    "y = 1 +\n        2*x",               # after a binary operator
    "y = 1 +\n\n   2*x",                  # blank line in between
    "y =\n  1 + 2*x",                     # after `=`
    "y = (1\n  + 2*x)",                   # inside parentheses
    "y = 1 + 2*\n  x",
    "y = 1 + \\\n  2*x",                  # a backslash at the end of the line
    "y = 1 +   # a comment after the operator\n  2*x",
])
def test_a_statement_continues_after_an_operator_or_inside_brackets(text):
    (eq,) = _equations(f"model M\n  equations\n    {text}\nend\n")
    assert _strip(eq.rhs) == _strip(_rhs("1 + 2*x"))


def test_a_statement_continues_inside_brackets_and_calls():
    text = ("model M\n  variables\n    v[3] = [1,\n      2,\n      3]\n"
            "  equations\n    y = max(v[0],\n            v[1])\nend\n")
    (model,) = parse(text, "m.sf").models
    (v,) = model.items("variables")
    assert len(v.initial.items) == 3
    (eq,) = model.items("equations")
    assert isinstance(eq.rhs, ast.Call) and len(eq.rhs.args) == 2
    assert eq.span.line == 7 and eq.span.end_line == 8


def test_a_newline_without_a_trailing_operator_ends_the_statement():
    # `+ 2` on its own line is a new (and incomplete) statement.
    err = _syntax_error("model M\n  equations\n    y = 1\n      + 2\nend\n")
    assert (err.span.line, err.span.column) == (4, 10)
    assert err.help == "expected '='"


def test_comments_are_ignored_everywhere():
    text = ("# leading comment\n"
            "model M   # after the name\n"
            "  # on a line of its own\n"
            "  parameters\n"
            "    a = 1   # after a value\n"
            "    b = 2 \"a # inside a doc string is text\"\n"
            "\n"
            "  equations   # after a section keyword\n"
            "    y = a + b # after an equation\n"
            "end # after end\n"
            "# trailing comment")
    (model,) = parse(text, "m.sf").models
    a, b = model.items("parameters")
    assert b.doc == "a # inside a doc string is text"
    (eq,) = model.items("equations")
    assert _strip(eq.rhs) == _strip(_rhs("a + b"))


def test_windows_line_endings_and_a_byte_order_mark():
    text = "\ufeffmodel M\r\n  equations\r\n    y = 1 +\r\n      2\r\nend\r\n"
    (eq,) = parse(text, "m.sf").models[0].items("equations")
    assert _strip(eq.rhs) == _strip(_rhs("1 + 2"))


def test_several_models_and_a_connector_in_one_file():
    text = ("connector Pin\n  potential v\n  flow i\nend\n\n"
            "model A\n  variables\n    x = 1\nend\n"
            "model B\n  variables\n    y = 1\nend\n")
    program = parse(text, "m.sf")
    assert [m.name for m in program.models] == ["A", "B"]
    (pin,) = program.connectors
    assert [(v.kind, v.name) for v in pin.variables] == [("potential", "v"), ("flow", "i")]


# ---------------------------------------------------------------- precedence


@pytest.mark.parametrize("text, tree", [
    # `else` takes everything to its right: `if` binds loosest.
    ("if c then a else b + 1",
     ("IfThenElse", ("Name", "c"), ("Name", "a"),
      ("BinaryOp", "+", ("Name", "b"), ("Number", 1)))),
    ("1 + if c then a else b",
     ("BinaryOp", "+", ("Number", 1),
      ("IfThenElse", ("Name", "c"), ("Name", "a"), ("Name", "b")))),
    ("if a > 1 and not b < 2 or c == 0 then 1 else 2",
     ("IfThenElse",
      ("BoolOp", "or",
       ("BoolOp", "and", ("Compare", ">", ("Name", "a"), ("Number", 1)),
        ("UnaryOp", "not", ("Compare", "<", ("Name", "b"), ("Number", 2)))),
       ("Compare", "==", ("Name", "c"), ("Number", 0))),
      ("Number", 1), ("Number", 2))),
    ("if p then if q then 1 else 2 else 3",
     ("IfThenElse", ("Name", "p"),
      ("IfThenElse", ("Name", "q"), ("Number", 1), ("Number", 2)), ("Number", 3))),
    ("a + b * c ^ d",
     ("BinaryOp", "+", ("Name", "a"),
      ("BinaryOp", "*", ("Name", "b"), ("BinaryOp", "^", ("Name", "c"), ("Name", "d"))))),
    ("a - b - c",
     ("BinaryOp", "-", ("BinaryOp", "-", ("Name", "a"), ("Name", "b")), ("Name", "c"))),
    ("a / b * c",
     ("BinaryOp", "*", ("BinaryOp", "/", ("Name", "a"), ("Name", "b")), ("Name", "c"))),
    ("a ^ b ^ c",  # right-associative
     ("BinaryOp", "^", ("Name", "a"), ("BinaryOp", "^", ("Name", "b"), ("Name", "c")))),
    ("-x ^ 2",  # the power binds tighter than unary minus
     ("UnaryOp", "-", ("BinaryOp", "^", ("Name", "x"), ("Number", 2)))),
    ("2 ^ -1",
     ("BinaryOp", "^", ("Number", 2), ("UnaryOp", "-", ("Number", 1)))),
    ("x[1:]", ("Subscript", ("Name", "x"), ("Slice", ("Number", 1), None))),
    ("v[0] * 2.5e-3",
     ("BinaryOp", "*", ("Subscript", ("Name", "v"), ("Number", 0)), ("Number", 2.5e-3))),
])
def test_precedence(text, tree):
    assert _strip(_rhs(text)) == tree


@pytest.mark.parametrize("power, caret", [
    ("a ** b", "a ^ b"),
    ("a ** b ** c", "a ^ b ^ c"),
    ("-x ** 2", "-x ^ 2"),
    ("2 ** -x", "2 ^ -x"),
    ("(a + b)**2 * c", "(a + b)^2 * c"),
])
def test_double_star_is_the_same_as_caret(power, caret):
    assert _strip(_rhs(power)) == _strip(_rhs(caret))


def test_numbers():
    assert _strip(_rhs("[1, 2.5, 1e-3, .5, 3E+2, 10.]")) == (
        "ArrayLiteral", (("Number", 1), ("Number", 2.5), ("Number", 1e-3), ("Number", 0.5),
                         ("Number", 300.0), ("Number", 10.0)))
    assert isinstance(_rhs("7").value, int) and isinstance(_rhs("7.0").value, float)


def test_a_long_chain_does_not_exhaust_the_stack():
    # A left-leaning tree as deep as the chain is long.
    rhs = _rhs(" + ".join(f"a{i}" for i in range(5000)))
    depth = 0
    while isinstance(rhs, ast.BinaryOp):
        rhs, depth = rhs.left, depth + 1
    assert depth == 4999 and rhs.id == "a0"


# ---------------------------------------------------------------- spans


SPAN_MODEL = """\
model Spans
  parameters
    alpha = 1.5   in [0, 10]   "doc"
  functions
    f(u, v) = u*v
  variables
    x = 1.0
  equations
    der(x) = alpha*x +
             f(x, 2)
  simulate
    solver = tsit5
end
"""


def _text_at(span: Span) -> str:
    lines = SPAN_MODEL.splitlines()
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1:span.end_column - 1]
    return "\n".join([lines[span.line - 1][span.column - 1:],
                      *lines[span.line:span.end_line - 1],
                      lines[span.end_line - 1][:span.end_column - 1]])


def test_spans_of_declared_names_are_exact():
    (model,) = parse(SPAN_MODEL, "spans.sf").models
    (alpha,) = model.items("parameters")
    assert alpha.name_span == Span("spans.sf", 3, 5, 3, 10)
    assert _text_at(alpha.name_span) == "alpha"
    assert _text_at(alpha.value.span) == "1.5"
    assert _text_at(alpha.bounds[1].span) == "10"
    (f,) = model.items("functions")
    assert f.name_span == Span("spans.sf", 5, 5, 5, 6)
    assert _text_at(f.body.span) == "u*v"
    (x,) = model.items("variables")
    assert x.name_span == Span("spans.sf", 7, 5, 7, 6)
    (setting,) = model.items("simulate")
    assert _text_at(setting.name_span) == "solver"
    assert _text_at(setting.value.span) == "tsit5"
    assert setting.value.span == Span("spans.sf", 12, 14, 12, 19)
    assert model.span.line == 1 and model.span.file == "spans.sf"


def test_spans_of_names_in_expressions_are_exact():
    (model,) = parse(SPAN_MODEL, "spans.sf").models
    (eq,) = model.items("equations")
    assert _text_at(eq.lhs.span) == "der(x)"
    assert eq.lhs.func_span == Span("spans.sf", 9, 5, 9, 8)
    rhs = eq.rhs
    assert isinstance(rhs, ast.BinaryOp) and rhs.op == "+"
    alpha = rhs.left.left
    assert isinstance(alpha, ast.Name) and alpha.id == "alpha"
    assert alpha.span == Span("spans.sf", 9, 14, 9, 19)
    call = rhs.right
    assert call.func_span == Span("spans.sf", 10, 14, 10, 15)
    assert _text_at(call.span) == "f(x, 2)"
    assert call.args[0].span == Span("spans.sf", 10, 16, 10, 17)
    # A statement continued on the next line spans both lines, without its newline.
    assert (eq.span.line, eq.span.column, eq.span.end_line, eq.span.end_column) == (9, 5, 10, 21)
    assert _text_at(eq.span).endswith("f(x, 2)")


def test_spans_carry_the_source_for_error_excerpts():
    (model,) = parse(SPAN_MODEL, "spans.sf").models
    (x,) = model.items("variables")
    assert x.name_span.source.splitlines()[6] == "    x = 1.0"
    assert str(x.name_span) == "spans.sf:7:5"


# ---------------------------------------------------------------- syntax errors


@pytest.mark.parametrize("text, line, column, underlined, expected", [
    # an operator where an operand belongs
    ("model M\n  parameters\n    a = 1 +* 2\nend\n", 3, 12, "*", "a number"),
    # a model with no name
    ("model\n  variables\n    x = 1\nend\n", 1, 6, None, "a name"),
    # an unclosed bracket runs on to `end`
    ("model M\n  equations\n    y = (1 + 2\nend\n", 4, 1, "end", "')'"),
    # a stray closing bracket
    ("model M\n  equations\n    y = 1)\nend\n", 3, 10, ")", "the end of the line"),
    # comparisons do not chain
    ("model M\n  equations\n    y = a < b == c\nend\n", 3, 15, "==", "the end of the line"),
    # two `=` in one equation
    ("model M\n  equations\n    y = 1 = 2\nend\n", 3, 11, "=", "the end of the line"),
    # bounds on a variable
    ("model M\n  variables\n    x = 1 in [0, 1]\nend\n", 3, 11, "in", "the end of the line"),
    # text is not a value
    ('model M\n  equations\n    y = "abc"\nend\n', 3, 9, '"abc"', "a number"),
    # a missing `end`
    ("model M\n  variables\n    x = 1\n", 3, 10, None, "'end'"),
    ("model M\n  variables\n    x = 1", 3, 10, None, "'end'"),
    # a character that is no part of the language
    ("model M\n  equations\n    y = $x\nend\n", 3, 9, "$", "a name"),
    ("model M\n  variables\n    \u03b1 = 1\nend\n", 3, 5, "\u03b1", "a name"),
    # a misspelt section keyword
    ("model M\n  paramters\n    a = 1\nend\n", 2, 3, "paramters", "did you mean 'parameters'?"),
    # a doc string cannot hold a double quote
    ('model M\n  variables\n    x = 1 "a """ b"\nend\n', 3, 15, '""', "the end of the line"),
])
def test_syntax_errors_point_at_the_place_and_say_what_was_expected(
        text, line, column, underlined, expected):
    err = _syntax_error(text)
    assert (err.span.line, err.span.column) == (line, column)
    assert err.span.file == "m.sf"
    assert err.help and expected in err.help
    assert "expected " in err.help
    pretty = str(err)
    assert pretty.startswith("error: syntax error")
    assert f"--> m.sf:{line}:{column}" in pretty
    assert "^" in pretty.splitlines()[4]
    if underlined is not None:
        assert _underlined(err) == underlined
    assert "Traceback" not in pretty and "lark" not in pretty.lower()


def test_a_syntax_error_at_the_end_of_a_line_puts_the_caret_after_the_text():
    err = _syntax_error("model\n  variables\n    x = 1\nend\n")
    assert err.message == "syntax error: unexpected end of line"
    lines = str(err).splitlines()
    assert lines[3] == " 1 | model"
    assert lines[4] == "   |      ^"  # right after `model`


def test_the_file_name_is_the_one_given():
    with pytest.raises(SymflowError) as info:
        parse("model M\n  equations\n    y = (\nend\n", "models/lv.sf")
    assert "--> models/lv.sf:4:1" in str(info.value)


def test_an_empty_file_parses_to_no_models():
    program = parse("", "empty.sf")
    assert program.models == () and program.connectors == ()
    assert parse("# only a comment\n\n", "c.sf").models == ()


def test_a_fit_section_holds_noise_models_with_named_parameters():
    text = ("model M\n  parameters\n    s = 0.1\n  fit\n    x ~ normal(sigma = s)  \"doc\"\n"
            "    z[0] ~ laplace(scale = 0.2)\nend\n")
    entries = parse(text).models[0].items("fit")
    assert [type(e) for e in entries] == [ast.NoiseDef, ast.NoiseDef]
    assert entries[1].name == "z[0]"  # an element of an array observable
    first = entries[0]
    assert (first.name, first.distribution.func, first.doc) == ("x", "normal", "doc")
    (keyword,) = first.distribution.keywords
    assert keyword.name == "sigma" and keyword.value.id == "s"
    assert (first.name_span.line, first.name_span.column) == (5, 5)
    assert (first.distribution.func_span.column, first.distribution.func_span.end_column) == \
        (9, 15)


def test_arrays_of_components_loops_and_members_are_read_into_the_ast():
    program = parse("""
model M
  components
    r[n]: Resistor(R = Rs)
  connections
    for i in 0:n - 1
      connect(r[i].n, r[i + 1].p)
    end
  equations
    for i in 1:3
      r[i].v = 0
    end
end
""")
    (model,) = program.models
    (component,) = model.items("components")
    assert component.name == "r" and isinstance(component.size, ast.Name)
    (loop,) = model.items("connections")
    assert isinstance(loop, ast.ForLoop) and loop.variable == "i"
    assert (loop.variable_span.line, loop.variable_span.column) == (6, 9)
    (call,) = loop.body
    first = call.args[0]
    assert isinstance(first, ast.Member) and first.name == "n"
    assert isinstance(first.target, ast.Subscript) and first.target.target.id == "r"
    (equation_loop,) = model.items("equations")
    assert isinstance(equation_loop.body[0], ast.Equation)
    assert isinstance(equation_loop.body[0].lhs, ast.Member)


@pytest.mark.parametrize("text, hint", [
    ("model M\n  variables\n    x = 1\n  equations\n    for i in 0:1\n      der(x) = -x\nend\n",
     "model M (line 1) or one of its loops (`for i`, line 5) has no `end`"),
    ("model M\n  observed\n    for i in 0:1\n      y = 1\n    end\nend\n",
     "loops (`for i in 0:n ... end`) may only be in equations and connections"),
])
def test_slips_with_loops(text, hint):
    with pytest.raises(SymflowError) as info:
        parse(text, "m.sf")
    assert hint in (info.value.help or "")
