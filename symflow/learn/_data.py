"""Measured data for fitting: CSV files (or arrays) checked against a model.

A data set is a table with a `t` column and one column per measured state or
observed output (an array element is written `z[0]`). Empty cells, `nan` and
`NA` are missing values: they are left out of the fit; an infinite value is
refused (it is no measurement, and would be dropped as silently as a missing one).
Each data set is one *experiment*, which may carry its own parameter values and
initial values (a different dose, a different starting population).

Mistakes point into the file: an unknown column at its header cell, a
non-increasing time at its row.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import Span, SymflowError
from ..files import read_text
from ._model import SimulatedModel

__all__ = ["Experiment", "load_data", "as_experiments"]

_MISSING = {"", "nan", "na", "n/a", "null", "none", "-"}

DATA_LIMIT = 2**30  # the largest data file read (1 GiB)


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One data set: times `t`, measured `columns` (NaN where missing), and the
    parameter and initial-value overrides under which it was measured.

    `preequilibration`, when not `None`, starts the experiment at the model's
    steady state under these parameter overrides (on top of the experiment's own
    and the fitted values; `{}`: under the experiment's own parameters), as a
    system at rest before a stimulus; `initial` still overrides single states.
    """

    t: np.ndarray
    columns: dict[str, np.ndarray]
    params: dict[str, float] = dataclasses.field(default_factory=dict)
    initial: dict[str, Any] = dataclasses.field(default_factory=dict)
    name: str = "data"
    # where each column's header is, for errors (absent for data given as arrays)
    header_spans: dict[str, Span] = dataclasses.field(default_factory=dict, repr=False)
    row_spans: tuple[Span, ...] = dataclasses.field(default=(), repr=False)
    preequilibration: dict[str, float] | None = None

    @property
    def n_points(self) -> int:
        """Number of measured (non-missing) values."""
        return int(sum(np.sum(np.isfinite(v)) for v in self.columns.values()))


def load_data(source: str | os.PathLike | Mapping[str, Any], *,
              params: Mapping[str, float] | None = None,
              initial: Mapping[str, Any] | None = None,
              name: str | None = None,
              preequilibration: Mapping[str, float] | None = None) -> Experiment:
    """Read one experiment from a CSV file, or from a dict of columns (with `t`);
    `preequilibration` starts it at a steady state (see `Experiment`)."""
    experiment = _load(source, params, initial, name)
    if preequilibration is None:
        return experiment
    return dataclasses.replace(experiment, preequilibration=dict(preequilibration))


def _load(source, params, initial, name) -> Experiment:
    if isinstance(source, Mapping):
        return _from_columns(dict(source), params, initial, name or "data")
    path = os.fspath(source)
    text = read_text(path, what="data file", limit=DATA_LIMIT)
    return _from_csv(text, path, params, initial, name or path)


def _span(file: str, text: str, line: int, column: int, width: int) -> Span:
    return Span(file, line, column, line, column + max(1, width), text)


def _rows(text: str, file: str) -> list[list[str]]:
    """The cells of a CSV text, row by row; a cell too long to be a number (a
    runaway quote, a pasted blob) is refused with its line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return list(reader)
    except csv.Error as e:
        line = reader.line_num
        lines = text.splitlines()
        cells = lines[line - 1].split(",") if 0 < line <= len(lines) else []
        long = [i for i, c in enumerate(cells) if len(c) > csv.field_size_limit()]
        what = (f"cell {long[0] + 1} holds {len(cells[long[0]]):,} characters, too many "
                "for a number" if long else f"cannot read the row ({e})")
        raise SymflowError(
            f"data file {file}, line {line}: {what}",
            help="each cell holds one number; look for a quote (\") that is never closed, "
                 "or text pasted into a cell") from None


def _from_csv(text: str, file: str, params, initial, name: str) -> Experiment:
    rows = _rows(text, file)
    lines = text.splitlines()
    # skip comment lines (#) and blank lines, remembering file line numbers
    numbered = [(i + 1, row) for i, row in enumerate(rows)
                if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
    if not numbered:
        raise SymflowError(f"data file {file} is empty",
                           help="write a header line `t,x,...` and one row per time")
    header_line, header = numbered[0]
    header = [h.strip() for h in header]
    header_text = lines[header_line - 1] if header_line <= len(lines) else ""
    spans, column = {}, 1
    for raw in header_text.split(","):
        h = raw.strip()
        spans[h] = _span(file, text, header_line, column + len(raw) - len(raw.lstrip()),
                         len(h))
        column += len(raw) + 1
    if "t" not in header:
        raise SymflowError(f"data file {file} has no `t` column",
                           _span(file, text, header_line, 1, len(header_text)),
                           help="the first line names the columns; one must be `t`, the time")
    seen = set()
    for h in header:
        if h in seen:
            raise SymflowError(f"column {h!r} appears twice", spans.get(h))
        seen.add(h)
    values: dict[str, list[float]] = {h: [] for h in header}
    row_spans = []
    for line, row in numbered[1:]:
        if len(row) != len(header):
            raise SymflowError(
                f"row has {len(row)} values but the header names {len(header)} columns",
                _span(file, text, line, 1, len(lines[line - 1]) if line <= len(lines) else 1))
        for h, cell in zip(header, row):
            cell = cell.strip()
            if cell.lower() in _MISSING:
                if h == "t":
                    raise SymflowError("a time is missing",
                                       _span(file, text, line, 1, len(lines[line - 1])))
                values[h].append(np.nan)
                continue
            col = lines[line - 1].find(cell) + 1 if line <= len(lines) else 1
            try:
                value = float(cell)
            except ValueError:
                shown = cell if len(cell) <= 40 else cell[:37] + "..."
                raise SymflowError(f"{shown!r} is not a number (column {h!r})",
                                   _span(file, text, line, max(col, 1), len(cell)),
                                   help="leave the cell empty, or write nan, for a missing "
                                        "value") from None
            if math.isinf(value):
                raise SymflowError(
                    f"{cell!r} is infinite (column {h!r}, line {line} of {file})",
                    _span(file, text, line, max(col, 1), len(cell)),
                    help="a measurement is a finite number; leave the cell empty, or write "
                         "nan, for a missing value")
            values[h].append(value)
        row_spans.append(_span(file, text, line, 1, len(lines[line - 1])))
    experiment = _from_columns({h: np.asarray(v, dtype=float) for h, v in values.items()},
                               params, initial, name, spans, tuple(row_spans))
    return experiment


def _from_columns(columns: dict, params, initial, name: str, spans=None, rows=()
                  ) -> Experiment:
    if "t" not in columns:
        raise SymflowError(f"data set {name} has no `t` column",
                           help="give the times as a column named `t`")
    t = np.asarray(columns.pop("t"), dtype=float).ravel()
    if t.size == 0:
        raise SymflowError(f"data set {name} has no rows")
    if not np.all(np.isfinite(t)):
        raise SymflowError(f"data set {name} has a missing or infinite time")
    bad = np.nonzero(np.diff(t) <= 0)[0]
    if bad.size:
        i = int(bad[0]) + 1
        raise SymflowError(
            f"times must increase: t = {t[i]:g} follows t = {t[i - 1]:g}",
            rows[i] if i < len(rows) else None,
            help="sort the rows by time; put repeated measurements in another data file")
    cols = {}
    for key, value in columns.items():
        value = np.asarray(value, dtype=float).ravel()
        if value.shape != t.shape:
            raise SymflowError(f"column {key!r} has {value.size} values, `t` has {t.size}")
        infinite = np.nonzero(np.isinf(value))[0]
        if infinite.size:
            i = int(infinite[0])
            raise SymflowError(
                f"data set {name}: column {key!r} is infinite at t = {t[i]:g}",
                rows[i] if i < len(rows) else None,
                help="a measurement is a finite number; NaN marks a missing value")
        cols[str(key)] = value
    if not cols:
        raise SymflowError(f"data set {name} has only a `t` column: nothing to fit to")
    return Experiment(t=t, columns=cols, params=dict(params or {}), initial=dict(initial or {}),
                      name=name, header_spans=dict(spans or {}), row_spans=rows)


def as_experiments(data) -> list[Experiment]:
    """`data` as a list of experiments: a path, a dict of columns, an `Experiment`,
    or a list of these."""
    if isinstance(data, (str, os.PathLike, Mapping, Experiment)):
        data = [data]
    out = []
    for item in data:
        out.append(item if isinstance(item, Experiment) else load_data(item))
    if not out:
        raise SymflowError("no data to fit")
    return out


def check_experiment(model: SimulatedModel, experiment: Experiment,
                     tspan: tuple[float, float]) -> None:
    """Every column names a state, an array element or an observed output; every time
    is inside the model's span; the overrides name parameters and states."""
    targets = set(output_names(model))
    for column in experiment.columns:
        if column not in targets:
            raise SymflowError(
                f"data column {column!r} names nothing in {model.name}",
                experiment.header_spans.get(column),
                help="columns are `t` and states or observed outputs: "
                     + ", ".join(output_names(model)))
    t0, t1 = sorted(tspan)
    outside = np.nonzero((experiment.t < t0) | (experiment.t > t1))[0]
    if outside.size:
        i = int(outside[0])
        raise SymflowError(
            f"data time t = {experiment.t[i]:g} is outside the model's span "
            f"[{tspan[0]:g}, {tspan[1]:g}]",
            experiment.row_spans[i] if i < len(experiment.row_spans) else None,
            help="change tspan under simulate in the model, or pass tspan= (on the "
                 "command line: --tspan T0 T1)")
    for key in experiment.params:
        if key not in model.params:
            raise SymflowError(f"experiment {experiment.name}: {model.name} has no parameter "
                               f"named {key!r}")
    for key in experiment.initial:
        if key not in model.state_names:
            raise SymflowError(f"experiment {experiment.name}: {model.name} has no state "
                               f"named {key!r}")
    for key in experiment.preequilibration or {}:
        if key not in model.params:
            raise SymflowError(f"experiment {experiment.name}: pre-equilibration sets "
                               f"{key!r}, which is not a parameter of {model.name}")


def output_names(model: SimulatedModel) -> list[str]:
    """Names a data column may take: scalar states and outputs, and array elements."""
    names = []
    shapes = {s.name: s.shape for s in model.generated.states}
    shapes.update(dict(model.generated.observed))
    for name in (*model.state_names, *model.observed_names):
        shape = shapes[name]
        if shape == ():
            names.append(name)
        else:
            names.extend(f"{name}[{i}]" for i in range(shape[0]))
    return names
