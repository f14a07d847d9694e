"""Data files for fitting: parsing, missing values, and errors that point into the file."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import symflow
from symflow.learn import check_experiment, load_data

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def lv():
    return symflow.load(EXAMPLES / "lotka_volterra.sf")


def _write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_missing_values_and_comments(tmp_path, lv):
    e = load_data(_write(tmp_path, "# a comment\nt,x,total\n0.5,1,\n1.0,NA,2.5\n2,3,4\n"))
    np.testing.assert_array_equal(e.t, [0.5, 1.0, 2.0])
    assert np.isnan(e.columns["x"][1]) and np.isnan(e.columns["total"][0])
    assert e.n_points == 4
    check_experiment(lv, e, (0.0, 10.0))


def test_unknown_column_points_at_header(tmp_path, lv):
    e = load_data(_write(tmp_path, "t,x,prey\n0,1,2\n"))
    with pytest.raises(symflow.SymflowError) as info:
        check_experiment(lv, e, (0.0, 10.0))
    text = info.value.pretty()
    assert "data column 'prey' names nothing in LotkaVolterra" in text
    assert ":1:5" in text and "x, y, total" in text


def test_no_t_column(tmp_path):
    with pytest.raises(symflow.SymflowError, match="no `t` column"):
        load_data(_write(tmp_path, "time,x\n0,1\n"))


def test_non_increasing_times_point_at_row(tmp_path):
    with pytest.raises(symflow.SymflowError) as info:
        load_data(_write(tmp_path, "t,x\n0,1\n2,1\n2,3\n"))
    assert "times must increase: t = 2 follows t = 2" in info.value.pretty()
    assert ":4:1" in info.value.pretty()


def test_times_outside_span(tmp_path, lv):
    e = load_data(_write(tmp_path, "t,x\n1,1\n12,1\n"))
    with pytest.raises(symflow.SymflowError, match=r"t = 12 is outside the model's span"):
        check_experiment(lv, e, (0.0, 10.0))


def test_not_a_number(tmp_path):
    with pytest.raises(symflow.SymflowError, match="'abc' is not a number"):
        load_data(_write(tmp_path, "t,x\n0,abc\n"))


def test_fit_rejects_non_parameters(lv):
    data = {"t": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 3.0]}
    with pytest.raises(symflow.SymflowError, match="cannot fit 'total'.*observed output"):
        lv.fit(data, ["total"])
    with pytest.raises(symflow.SymflowError, match="cannot fit 'nope'"):
        lv.fit(data, ["alpha", "nope"])
    with pytest.raises(symflow.SymflowError, match="unknown optimizer"):
        lv.fit(data, ["alpha"], optimizer="newton")
