"""Span-based rewriting of model text and the one number format (`symflow.lang.edit`)."""

import math
import random

import pytest

from symflow.errors import SymflowError
from symflow.lang import ast, edit, parse

TEXT = "model M\r\n  parameters\r\n    k = 0.5  # rate\r\n    c = 2\r\nend\r\n"


def test_lines_map_spans_to_offsets():
    lines = edit.Lines(TEXT)
    decl = parse(TEXT).models[0].items("parameters")[0]
    start, stop = lines.span(decl.value.span)
    assert TEXT[start:stop] == "0.5"
    assert lines.line(3) == "    k = 0.5  # rate"  # without the \r\n
    assert lines.indent(3) == "    "
    assert TEXT[lines.start(4):lines.end(4)] == "    c = 2"


def test_apply_edits_keeps_everything_else():
    lines = edit.Lines(TEXT)
    k, c = parse(TEXT).models[0].items("parameters")
    out = edit.apply_edits(TEXT, [(*lines.span(c.value.span), "3.25"),
                                  (*lines.span(k.value.span), "0.125")])
    assert out == TEXT.replace("0.5", "0.125").replace("c = 2", "c = 3.25")
    assert edit.apply_edits(TEXT, []) == TEXT
    assert edit.apply_edits("abc", [(1, 1, "X"), (1, 2, "Y")]) == "aXYc"  # touching


def test_overlapping_edits_are_refused():
    with pytest.raises(SymflowError, match="overlap"):
        edit.apply_edits("abcdef", [(0, 3, "x"), (2, 4, "y")])


def test_number_format_round_trips_every_float():
    rng = random.Random(0)
    values = [0.1, 1 / 3, 2.0, -1e-7, 5e-324, 1.7976931348623157e308, 123456789.123456789]
    values += [rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(200)]
    for v in values:
        text = edit.format_number(v)
        assert float(text) == v
        # and the parser reads it back as the same number
        program = parse(f"model M\n  parameters\n    k = {text}\nend\n")
        value = program.models[0].items("parameters")[0].value
        if isinstance(value, ast.UnaryOp):
            value = value.operand
            assert -float(value.value) == v
        else:
            assert float(value.value) == v


def test_number_format_refuses_non_finite():
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(SymflowError):
            edit.format_number(bad)
