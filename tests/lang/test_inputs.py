"""The syntax of the `inputs` section: `name = table("file.csv", option = value, ...)`.

Only `symflow.lang.parse` is called: what the options mean, and the table itself,
are the builder's (tests/symbolic/builder/test_inputs.py).
"""

from __future__ import annotations

import pytest

from models import model_text
from symflow import SymflowError
from symflow.lang import ast, parse

TEMPLATE = model_text("input_line_template")


def _inputs(line: str) -> tuple[ast.Input, ...]:
    return parse(TEMPLATE.format(line=line, use="F"), "m.sf").models[0].items("inputs")


def test_an_input_line_with_options_and_a_doc_string():
    line = 'F = table("data/forcing.csv", column = "F (N)", interpolation = cubic)  "the force"'
    (item,) = _inputs(line)
    assert (item.name, item.function, item.file, item.doc) == (
        "F", "table", "data/forcing.csv", "the force")
    assert [(o.name, o.value, o.quoted) for o in item.options] == [
        ("column", "F (N)", True), ("interpolation", "cubic", False)]
    text = TEMPLATE.format(line=line, use="F").splitlines()[5]

    def of(span):
        assert span.line == span.end_line == 6
        return text[span.column - 1:span.end_column - 1]

    assert of(item.span) == line[:line.index("cubic)") + 6]  # to the closing bracket
    assert of(item.name_span) == "F" and of(item.function_span) == "table"
    assert of(item.file_span) == '"data/forcing.csv"'
    assert of(item.options[0].span) == 'column = "F (N)"'


def test_the_shortest_line_and_a_line_continued_inside_the_brackets():
    (item,) = _inputs('G = table("g.csv")')
    assert item.options == () and item.doc is None
    (item,) = _inputs('G = table("g.csv",\n        interpolation = previous)')
    assert item.options[0].value == "previous"


@pytest.mark.parametrize("line, unexpected", [
    ("F = table(forcing.csv)", "'forcing.csv'"),  # the file must be a "string"
    ('F = table("f.csv", column = 1)', "'1'"),  # an option is a "string" or a word
    ('F = table("f.csv", cubic)', "')'"),  # an option has a name
    ('F = 2*table("f.csv")', "'2'"),  # not an expression
])
def test_what_is_not_an_input_line(line, unexpected):
    with pytest.raises(SymflowError) as info:
        parse(TEMPLATE.format(line=line, use="F"), "m.sf")
    err = info.value
    assert err.message == f"syntax error: unexpected {unexpected}"
    assert err.span is not None and err.span.line == 6


def test_inputs_is_a_section_keyword():
    with pytest.raises(SymflowError) as info:
        parse("model M\n  inputz\n    F = table(\"f.csv\")\nend\n", "m.sf")
    assert "did you mean 'inputs'?" in (info.value.help or "")
