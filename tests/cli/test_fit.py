"""`symflow fit` and `symflow run --steady` (the CLI commands in symflow/cli/)."""

from __future__ import annotations

import pathlib

import pytest

from symflow.cli import main

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_fit_reports_unknown_data_column(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("t,x,prey\n1,1,2\n2,1,2\n3,1,2\n")
    code = main(["fit", str(EXAMPLES / "lotka_volterra.sf"), "--data", str(data)])
    err = capsys.readouterr().err
    assert code == 1
    assert "data column 'prey' names nothing in LotkaVolterra" in err and "d.csv:1:5" in err
    assert "Traceback" not in err


def test_fit_rejects_non_parameter(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("t,x\n1,1\n2,1\n3,1\n")
    code = main(["fit", str(EXAMPLES / "lotka_volterra.sf"), "--data", str(data),
                 "--params", "alpha,total"])
    assert code == 1
    assert "cannot fit 'total'" in capsys.readouterr().err


@pytest.mark.slow
def test_fit_writes_table_plot_and_model(tmp_path, capsys):
    out, png = tmp_path / "fitted.sf", tmp_path / "fit.png"
    code = main(["fit", str(EXAMPLES / "lotka_volterra_start.sf"), "--data",
                 str(EXAMPLES / "lotka_volterra_data.csv"), "--scale", "relative",
                 "--plot", str(png), "-o", str(out), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "std. error" in text and "alpha" in text
    assert png.stat().st_size > 10_000
    assert "alpha = 1.50" in out.read_text()


@pytest.mark.slow
def test_run_steady(tmp_path, capsys):
    model = tmp_path / "m.sf"
    model.write_text("model M\n  parameters\n    a = 2.0\n    b = 0.5\n  variables\n"
                     "    x = 0.0\n  equations\n    der(x) = a - b*x\nend\n")
    assert main(["run", str(model), "--steady", "--set", "a=3"]) == 0
    out = capsys.readouterr().out
    assert "steady state" in out and "x = 6." in out and "stable" in out
