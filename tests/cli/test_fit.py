"""`symflow fit` and `symflow run --steady` (the CLI commands in symflow/cli/)."""

from __future__ import annotations

import math
import pathlib
import re

import pytest

import symflow
from models import model_text
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
    assert (tmp_path / "fit_residuals.png").stat().st_size > 5_000
    assert "alpha = 1.50" in out.read_text()


@pytest.mark.slow
def test_run_steady(tmp_path, capsys):
    model = tmp_path / "m.sf"
    model.write_text("model M\n  parameters\n    a = 2.0\n    b = 0.5\n  variables\n"
                     "    x = 0.0\n  equations\n    der(x) = a - b*x\nend\n")
    assert main(["run", str(model), "--steady", "--set", "a=3"]) == 0
    out = capsys.readouterr().out
    assert "steady state" in out and "x = 6." in out and "stable" in out


def test_fit_noise_and_profile_mistakes_are_usage_or_model_errors(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("t,x\n1,1\n2,1\n3,1\n4,1\n5,1\n")
    model = str(EXAMPLES / "lotka_volterra.sf")
    assert main(["fit", model, "--data", str(data), "--noise", "x=normal(sigma=1)"]) == 2
    assert "write NAME~MODEL" in capsys.readouterr().err
    assert main(["fit", model, "--data", str(data), "--noise", "x~gauss(sigma=1)"]) == 1
    assert "unknown noise model 'gauss'" in capsys.readouterr().err
    assert main(["profile", model, "--data", str(data), "--params", "total"]) == 1
    err = capsys.readouterr().err
    assert "cannot profile 'total'" in err and "Traceback" not in err


@pytest.mark.slow
def test_fit_multistart_and_profile_from_the_command_line(tmp_path, capsys):
    import numpy as np

    ts = np.linspace(0.05, 1.0, 12)
    y = 0.7 + 1.3 * ts + 0.1 * np.random.default_rng(3).standard_normal(ts.size)
    data = tmp_path / "line.csv"
    data.write_text("t,y\n" + "".join(f"{t},{v}\n" for t, v in zip(ts, y)))
    model = tmp_path / "line.sf"
    model.write_text(model_text("line_known_noise").replace("a = 1.0", "a = 1.0 in [-5, 5]")
                     .replace("b = 0.5", "b = 0.5 in [-5, 5]"))
    png = tmp_path / "fit.png"
    assert main(["fit", str(model), "--data", str(data), "--starts", "4",
                 "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "multistart: best" in out and "4 starts (lhs, seed 0, sequential); 100% reached" in out
    assert (tmp_path / "fit_waterfall.png").stat().st_size > 5_000
    assert main(["profile", str(model), "--data", str(data), "--params", "b", "--quiet",
                 "--plot", str(tmp_path / "profile.png")]) == 0
    out = capsys.readouterr().out
    assert "identifiable" in out and "95% profile-likelihood intervals" in out
    assert (tmp_path / "profile.png").stat().st_size > 5_000


def test_preequilibrate_refuses_states(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("t,x\n1,1\n2,1\n3,1\n4,1\n5,1\n")
    code = main(["fit", str(EXAMPLES / "lotka_volterra.sf"), "--data", str(data),
                 "--preequilibrate", "x=1"])
    assert code == 2 and "'x' is a state" in capsys.readouterr().err


@pytest.mark.slow
def test_fit_with_preequilibration_from_the_command_line(tmp_path, capsys):
    import numpy as np

    ts = np.linspace(0.25, 5.0, 12)
    x = 6.0 / 0.8 + (1.0 / 0.8 - 6.0 / 0.8) * np.exp(-0.8 * ts)  # k_in 2, u 0.5 -> 3
    data = tmp_path / "stimulus.csv"
    data.write_text("t,x\n" + "".join(f"{float(t)!r},{float(v)!r}\n" for t, v in zip(ts, x)))
    model = tmp_path / "m.sf"
    model.write_text(model_text("baseline_stimulus"))
    assert main(["fit", str(model), "--data", f"{data}:u=3", "--params", "k_in,k_out",
                 "--preequilibrate", "u=0.5", "--quiet",
                 "--summary", str(tmp_path / "fit.json")]) == 0
    import json

    fitted = {p["name"]: p["fitted"] for p in
              json.loads((tmp_path / "fit.json").read_text())["parameters"]}
    np.testing.assert_allclose([fitted["k_in"], fitted["k_out"]], [2.0, 0.8], rtol=1e-6)



def _late_decay_data(tmp_path):
    """Decay's model file, and data at t = 1.5..3 (outside its span [0, 1]) made with
    the rate 0.7."""
    model = tmp_path / "decay.sf"
    model.write_text(model_text("decay"))
    data = tmp_path / "d.csv"
    data.write_text("t,x\n" + "".join(f"{t},{math.exp(-0.7 * t)!r}\n"
                                      for t in (1.5, 2.0, 2.5, 3.0)))
    return model, data


def test_fit_names_tspan_for_data_beyond_the_models_span(tmp_path, capsys):
    model, data = _late_decay_data(tmp_path)
    assert main(["fit", str(model), "--data", str(data), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "outside the model's span [0, 1]" in err and "--tspan T0 T1" in err


@pytest.mark.slow
def test_fit_tspan_reaches_data_beyond_the_models_span(tmp_path, capsys):
    """With `--tspan 0 3` the fit finds the decay rate the data were made with."""
    model, data = _late_decay_data(tmp_path)
    assert main(["fit", str(model), "--data", str(data), "--tspan", "0", "3", "--quiet",
                 "--solver", "dopri5", "-o", str(tmp_path / "fitted.sf")]) == 0
    fitted = (tmp_path / "fitted.sf").read_text()
    k = float(re.search(r"k = ([0-9.e+-]+)", fitted).group(1))
    assert k == pytest.approx(0.7, rel=1e-6)


def test_preequilibrate_once_for_all_or_once_per_experiment():
    from symflow.cli._common import UsageError
    from symflow.cli._fit import with_preequilibration
    from symflow.learn import Experiment

    m = symflow.loads(model_text("baseline_stimulus"))
    experiments = [Experiment(name=f"e{i}", t=[1.0], columns={"x": [1.0]}) for i in range(3)]
    every = with_preequilibration(experiments, ["u=0.5"], m)
    assert [e.preequilibration for e in every] == [{"u": 0.5}] * 3
    each = with_preequilibration(experiments, ["u=0.5", "none", ""], m)
    assert [e.preequilibration for e in each] == [{"u": 0.5}, None, {}]
    assert with_preequilibration(experiments, [], m) == experiments
    with pytest.raises(UsageError, match="given 2 times for 3 --data files"):
        with_preequilibration(experiments, ["u=0.5", "u=1"], m)
