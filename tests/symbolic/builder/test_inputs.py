"""The `inputs` section: what it builds, and every mistake with its place.

A mistake of the model text points at the `inputs` line (line 6 of
tests/models/input_line_template.sf) or a part of it; a mistake in the table names
the file and its line in the message, points at the `inputs` line, and shows the
table's line as a note.
"""

from __future__ import annotations

import pathlib

import pytest
import sympy as sp

from models import model_text
from symflow import SymflowError
from symflow.lang import parse
from symflow.symbolic import TableInput, build

TEMPLATE = model_text("input_line_template")
LINE = 6  # where {line} is
TABLE = "t,F,G\n0,1,10\n0.5,2,20\n1.5,0,30\n2,-1,40\n"


def _build(folder: pathlib.Path, line: str, table: str | None = TABLE, use: str = "F",
           name: str = "table.csv"):
    if table is not None:
        (folder / name).write_text(table)
    path = folder / "m.sf"
    text = TEMPLATE.format(line=line, use=use)
    path.write_text(text)
    return build(parse(text, str(path)))


def _error(folder: pathlib.Path, line: str, table: str | None = TABLE, use: str = "F",
           ) -> SymflowError:
    with pytest.raises(SymflowError) as info:
        _build(folder, line, table, use)
    return info.value


def _points_at(err: SymflowError, text: str, line: int = LINE) -> None:
    """The error's span is on `line` and underlines `text`."""
    span = err.span
    assert span is not None and span.line == line
    source = span.source.splitlines()[line - 1]
    assert source[span.column - 1:span.end_column - 1] == text


def test_an_input_is_declared_with_its_table_and_used_as_a_function_of_time(tmp_path):
    s = _build(tmp_path, 'F = table("table.csv")   "the force"')
    (item,) = s.inputs
    assert (item.name, item.column, item.file) == ("F", "F", "table.csv")
    assert (item.interpolation, item.extrapolation) == ("linear", "error")  # the defaults
    assert item.knots == (0.0, 0.5, 1.5, 2.0) and item.values == (1.0, 2.0, 0.0, -1.0)
    assert item.span.line == LINE
    t = sp.Symbol("t", real=True)
    node = TableInput(sp.core.symbol.Str("F"), sp.core.symbol.Str("linear"),
                      sp.core.symbol.Str("error"), sp.Integer(0), t)
    assert s.equation_for("x").rhs.has(node)
    assert s.observed[0].expr == node
    assert "F(t)" in str(s) and 'F = table("table.csv", column = "F"' in str(s)
    assert sp.diff(node, t) == node.func(*node.args[:3], sp.Integer(1), t)


def test_options_choose_the_columns_the_interpolation_and_the_ends(tmp_path):
    table = "# comment lines and blank lines are skipped\n\ntime,u,v\n0,5,6\n1,7,8\n2,9,1\n"
    s = _build(tmp_path, 'U = table("table.csv", column = "v", time = "time", '
                         'interpolation = cubic, extrapolation = hold)', table, use="U")
    (item,) = s.inputs
    assert (item.column, item.interpolation, item.extrapolation) == ("v", "cubic", "hold")
    assert item.knots == (0.0, 1.0, 2.0) and item.values == (6.0, 8.0, 1.0)


def test_the_path_is_relative_to_the_model_file(tmp_path):
    (tmp_path / "data").mkdir()
    s = _build(tmp_path, 'F = table("data/table.csv")', name="data/table.csv")
    assert s.inputs[0].values == (1.0, 2.0, 0.0, -1.0)


@pytest.mark.parametrize("old, new", [("    k = 1.0", "    k = F"),
                                      ("    x = 0.0", "    x = F")])
def test_a_parameter_or_an_initial_value_cannot_use_an_input(tmp_path, old, new):
    """An input is a function of time: wherever time may not be used, neither may it."""
    (tmp_path / "table.csv").write_text(TABLE)
    text = TEMPLATE.format(line='F = table("table.csv")', use="F").replace(old, new)
    with pytest.raises(SymflowError) as info:
        build(parse(text, str(tmp_path / "m.sf")))
    assert "cannot use the input 'F'" in info.value.message


def test_a_missing_file(tmp_path):
    err = _error(tmp_path, 'F = table("nowhere.csv")', table=None)
    assert "cannot read the table of input 'F'" in err.message
    assert "nowhere.csv" in err.message and "No such file" in err.message
    assert err.help == "the path is relative to the model file"
    _points_at(err, '"nowhere.csv"')


def test_a_missing_column_lists_the_columns_there_are(tmp_path):
    err = _error(tmp_path, 'F = table("table.csv", column = "H")')
    assert "line 1 of" in err.message and "table.csv" in err.message
    assert "no column named 'H'" in err.message and "its columns: t, F, G" in err.message
    assert 'column = "..."' in err.help
    _points_at(err, 'F = table("table.csv", column = "H")')
    (note_span, note), = err.notes
    assert note_span.line == 1 and note_span.file.endswith("table.csv")
    assert "t,F,G" in err.pretty()


def test_a_missing_time_column_suggests_the_option(tmp_path):
    err = _error(tmp_path, 'F = table("table.csv")', "time,F\n0,1\n1,2\n")
    assert "no column named 't' (the time column of input 'F')" in err.message
    assert err.help.startswith("did you mean 'time'?") and 'time = "..."' in err.help


def test_a_cell_that_is_not_a_number(tmp_path):
    err = _error(tmp_path, 'F = table("table.csv")', "t,F\n0,1\n1,two\n2,3\n")
    assert err.message.startswith("line 3 of ") and "'two' in column 'F' is not a number" \
        in err.message
    _points_at(err, 'F = table("table.csv")')
    assert err.notes[0][0].line == 3 and "1,two" in err.pretty()


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf"])
def test_a_value_that_is_not_finite(tmp_path, cell):
    err = _error(tmp_path, 'F = table("table.csv")', f"t,F\n0,1\n1,{cell}\n2,3\n")
    assert err.message.startswith("line 3 of ")
    assert f"column 'F' holds '{cell}', not a finite number" in err.message


def test_an_empty_cell_and_a_short_row(tmp_path):
    err = _error(tmp_path, 'F = table("table.csv")', "t,F\n0,1\n1,\n")
    assert "line 3" in err.message and "'' in column 'F' is not a number" in err.message
    err = _error(tmp_path, 'F = table("table.csv")', "t,F\n0,1\n1\n2,3\n")
    assert "line 3" in err.message and "the row has 1 cells but the header names 2" \
        in err.message


@pytest.mark.parametrize("times, line", [("0,1,1,2", 4), ("0,2,1,3", 4)])
def test_times_that_do_not_increase_strictly(tmp_path, times, line):
    table = "t,F\n" + "".join(f"{t},{i}\n" for i, t in enumerate(times.split(",")))
    err = _error(tmp_path, 'F = table("table.csv")', table)
    assert err.message.startswith(f"line {line} of ")
    assert "must increase strictly" in err.message
    assert err.help == "sort the rows by time and drop repeated times"


@pytest.mark.parametrize("interpolation, rows, needed", [
    ("linear", 1, 2), ("previous", 1, 2), ("cubic", 2, 3), ("monotone", 2, 3)])
def test_too_few_rows(tmp_path, interpolation, rows, needed):
    table = "t,F\n" + "".join(f"{i},{i}\n" for i in range(rows))
    line = f'F = table("table.csv", interpolation = {interpolation})'
    err = _error(tmp_path, line, table)
    assert f"has {rows} row" in err.message
    assert f"interpolation = {interpolation} needs at least {needed}" in err.message
    _points_at(err, line)


def test_an_empty_table(tmp_path):
    err = _error(tmp_path, 'F = table("table.csv")', "# only a comment\n")
    assert "is empty" in err.message
    assert err.help == "write a header line `t,F` and one row per time"


def test_unknown_function_option_interpolation_and_a_repeated_option(tmp_path):
    err = _error(tmp_path, 'F = tabel("table.csv")')
    assert err.message == "unknown input function 'tabel'"
    assert err.help.startswith("did you mean 'table'?")
    _points_at(err, "tabel")
    err = _error(tmp_path, 'F = table("table.csv", colum = "G")')
    assert err.message == "unknown option 'colum' of table(...)"
    assert err.help.startswith("did you mean 'column'?")
    _points_at(err, 'colum = "G"')
    err = _error(tmp_path, 'F = table("table.csv", interpolation = spline)')
    assert err.message == "unknown interpolation 'spline'"
    assert err.help == "interpolation = linear, cubic, monotone, previous"
    _points_at(err, "interpolation = spline")
    err = _error(tmp_path, 'F = table("table.csv", extrapolation = zero)')
    assert err.help == "extrapolation = error, hold"
    err = _error(tmp_path, 'F = table("table.csv", column = "F", column = "G")')
    assert err.message == "option 'column' is given twice"


def test_an_input_name_is_a_name_like_any_other(tmp_path):
    err = _error(tmp_path, 'k = table("table.csv", column = "F")', use="k")
    assert err.message == "'k' is declared twice"
    err = _error(tmp_path, 'sin = table("table.csv", column = "F")', use="1")
    assert "cannot be declared" in err.message


def test_an_input_in_a_component_is_refused(tmp_path):
    (tmp_path / "table.csv").write_text(TABLE)
    text = '''model Source
  inputs
    F = table("table.csv")
  variables
    v
  equations
    v = F
end

model Top
  components
    s: Source
  variables
    x = 0
  equations
    der(x) = s.v - x
end
'''
    with pytest.raises(SymflowError) as info:
        build(parse(text, str(tmp_path / "m.sf")))
    assert "may only be in the model being compiled" in info.value.message
    assert info.value.span.line == 2
