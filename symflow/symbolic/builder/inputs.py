"""The `inputs` section: time-varying inputs read from CSV tables.

`F = table("forcing.csv", column = "F", time = "t", interpolation = linear,
extrapolation = error)` reads two columns of a CSV file (the path relative to
the model file) and declares `F`, a function of `t` that equations, observed
outputs, closures and boundary conditions use like any expression of `t`. The
file is read with the `csv` module, every cell with `float`; nothing is
evaluated. Every mistake in the file is an error at the `inputs` line, with the
file's line as a note (and its number in the message).
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os

import sympy as sp
from sympy.core.symbol import Str

from ... import catalog
from ...errors import Span, SymflowError
from ...lang import ast
from ..nodes import TableInput
from ..system import Input
from .scope import TIME, Scope

__all__ = ["MAX_ROWS", "build_inputs", "input_node"]

# The most rows a table may have (its numbers are written into the generated module).
MAX_ROWS = 1_000_000
# The fewest rows each interpolation needs (a cubic through two points is a line).
_MIN_ROWS = {"linear": 2, "previous": 2, "cubic": 3, "monotone": 3}
_TIME_COLUMN = "t"  # the default time column, as in data files (docs/fitting.md)


def input_node(item: Input) -> sp.Expr:
    """The expression an input's name stands for: `TableInput(..., t)`."""
    return TableInput(Str(item.name), Str(item.interpolation),
                      Str(item.extrapolation), sp.Integer(0), TIME)


def build_inputs(scope: Scope, nodes) -> list[Input]:
    """Read the table of every `inputs` line and declare its name (kind `input`)."""
    out = []
    for node in nodes:
        item = _build(scope, node)
        scope.declare(node.name, "input", node.name_span, symbol=input_node(item))
        out.append(item)
    return out


def _build(scope: Scope, node: ast.Input) -> Input:
    if node.function != "table":
        close = difflib.get_close_matches(node.function, ["table"], n=1)
        raise SymflowError(
            f"unknown input function '{node.function}'", node.function_span,
            help=("did you mean 'table'? " if close else "")
            + 'an input is read from a CSV file: name = table("file.csv", column = "name")')
    options = _options(node)
    interpolation = options.get("interpolation", catalog.INTERPOLATIONS[0])
    extrapolation = options.get("extrapolation", catalog.EXTRAPOLATIONS[0])
    for name, value, choices in (("interpolation", interpolation, catalog.INTERPOLATIONS),
                                 ("extrapolation", extrapolation, catalog.EXTRAPOLATIONS)):
        if value not in choices:
            span = next(o.span for o in node.options if o.name == name)
            raise SymflowError(f"unknown {name} '{value}'", span,
                               help=f"{name} = " + ", ".join(choices))
    column = options.get("column", node.name)
    time = options.get("time", _TIME_COLUMN)
    path = _path(scope.program.file, node.file)
    knots, values = _read(path, node, time, column, _MIN_ROWS[interpolation], interpolation)
    return Input(node.name, knots, values, interpolation, extrapolation, node.file, column,
                 node.span, path=path)


def _options(node: ast.Input) -> dict[str, str]:
    out: dict[str, str] = {}
    for option in node.options:
        if option.name not in catalog.INPUT_OPTIONS:
            close = difflib.get_close_matches(option.name, catalog.INPUT_OPTIONS, n=1)
            raise SymflowError(
                f"unknown option '{option.name}' of table(...)", option.span,
                help=(f"did you mean '{close[0]}'? " if close else "")
                + "the options: " + ", ".join(catalog.INPUT_OPTIONS))
        if option.name in out:
            raise SymflowError(f"option '{option.name}' is given twice", option.span)
        out[option.name] = option.value
    return out


def _path(model_file: str, file: str) -> str:
    """The table's path: as written if absolute, else relative to the model file's
    folder (the working folder for model text that has no file)."""
    if os.path.isabs(file) or model_file.startswith("<"):
        return file
    return os.path.join(os.path.dirname(model_file), file)


def _read(path: str, node: ast.Input, time: str, column: str, min_rows: int,
          interpolation: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The time column and the value column of the table at `path`, checked."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except OSError as e:
        raise SymflowError(f"cannot read the table of input '{node.name}': {path}: "
                           f"{e.strerror}", node.file_span,
                           help="the path is relative to the model file") from None
    except UnicodeDecodeError:
        raise SymflowError(f"the table {path} of input '{node.name}' is not UTF-8 text",
                           node.file_span, help="save it as a UTF-8 CSV file") from None
    lines = text.splitlines()
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        raise SymflowError(f"{path} is not a CSV file: {e}", node.file_span) from None
    # skip blank lines and comment lines (#), as data files do; keep the file's line numbers
    numbered = [(i + 1, row) for i, row in enumerate(rows)
                if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
    if not numbered:
        raise SymflowError(f"the table {path} of input '{node.name}' is empty", node.file_span,
                           help=f"write a header line `{time},{column}` and one row per time")
    header_line, header = numbered[0]
    header = [h.strip() for h in header]

    def fail(message: str, line: int, help: str | None = None):
        text_line = lines[line - 1] if line <= len(lines) else ""
        where = Span(path, line, 1, line, max(2, len(text_line) + 1), text)
        return SymflowError(f"line {line} of {path}: {message}", node.span, help=help,
                            notes=((where, f"line {line} of {path}"),))

    indices = []
    for what, name in (("time", time), ("value", column)):
        if name not in header:
            close = difflib.get_close_matches(name, header, n=1)
            if what == "time" and not close:
                close = [h for h in header if h.lower() in ("t", "time", "times")][:1]
            option = "time" if what == "time" else "column"
            raise fail(f"no column named '{name}' (the {what} column of input "
                       f"'{node.name}'); its columns: " + ", ".join(header), header_line,
                       help=(f"did you mean '{close[0]}'? " if close else "")
                       + f'name the column with {option} = "..."')
        if header.count(name) > 1:
            raise fail(f"column '{name}' appears twice in the header", header_line)
        indices.append(header.index(name))
    if len(numbered) - 1 > MAX_ROWS:
        raise SymflowError(f"the table {path} of input '{node.name}' has "
                           f"{len(numbered) - 1:,} rows, more than {MAX_ROWS:,}",
                           node.file_span, help="resample it to fewer rows")
    knots: list[float] = []
    values: list[float] = []
    for line, row in numbered[1:]:
        if len(row) != len(header):
            raise fail(f"the row has {len(row)} cells but the header names {len(header)} "
                       "columns", line)
        for (what, name), index, out in zip((("time", time), ("value", column)), indices,
                                            (knots, values)):
            cell = row[index].strip()
            try:
                number = float(cell)
            except ValueError:
                raise fail(f"{cell!r} in column '{name}' is not a number", line,
                           help="every row of an input table needs a number in its time "
                                "and value columns") from None
            if not math.isfinite(number):
                raise fail(f"column '{name}' holds {cell!r}, not a finite number", line,
                           help="an input table cannot have missing values: fill them "
                                "in or drop the row")
            out.append(number)
        if len(knots) > 1 and knots[-1] <= knots[-2]:
            raise fail(f"the time {knots[-1]:g} does not come after {knots[-2]:g}: the "
                       f"time column '{time}' must increase strictly", line,
                       help="sort the rows by time and drop repeated times")
    if len(knots) < min_rows:
        raise SymflowError(
            f"the table {path} of input '{node.name}' has {len(knots)} row"
            f"{'s' if len(knots) != 1 else ''}; interpolation = {interpolation} needs at "
            f"least {min_rows}", node.span,
            help="use interpolation = linear for two rows" if min_rows > 2 else None)
    return tuple(knots), tuple(values)
