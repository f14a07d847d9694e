"""`symflow run`: what its summary shows, NetCDF output, save times as asked for."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_path, model_text
from symflow.cli import EXIT_OK, EXIT_USAGE, main
from symflow.cli._kept import final_value, shown_names


def test_the_summary_shows_the_models_variables_not_the_compilers():
    # index reduction adds der_x, der2_y, ... as observed outputs: not the model's
    m = symflow.loads(model_text("pendulum"))
    assert {"der_x", "der2_y"} <= set(m.observed_names)
    assert shown_names(m) == ["x", "y", "vx", "vy", "lam"]


def test_a_field_is_summarised_not_printed_whole():
    line = final_value(np.sin(np.pi * np.linspace(0, 1, 40)))
    assert line.startswith(": 40 values, min 0, max 0.99") and "[" not in line
    assert final_value(np.array([1.0, 2.0])) == " = [1. 2.]"
    assert final_value(np.float64(0.5)) == " = 0.5"


def test_netcdf_output_and_short_save_times(tmp_path):
    xr = pytest.importorskip("xarray")
    out, table = tmp_path / "dose.nc", tmp_path / "dose.csv"
    args = ["run", str(model_path("labelled_dose")), "--tspan", "0", "1", "--saveat", "11",
            "--no-progress"]
    assert main([*args, "-o", str(out)]) == EXIT_OK
    assert main([*args, "-o", str(table)]) == EXIT_OK
    with xr.open_dataset(out, engine="scipy") as ds:
        assert ds["conc"].attrs["units"] == "mg/mL"
        np.testing.assert_allclose(ds["x"].to_numpy(), 2 * np.exp(-0.5 * ds["t"].to_numpy()),
                                   rtol=1e-6)
    times = [line.split(",")[0] for line in table.read_text().splitlines()[1:]]
    assert times[3] == "0.3" and times[7] == "0.7"


def test_netcdf_without_xarray_is_refused_before_the_solve(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "xarray" else real(name, *a))
    assert main(["run", str(model_path("labelled_dose")), "-o",
                 str(tmp_path / "x.nc")]) == EXIT_USAGE
    assert "pip install symflow[data]" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()


def test_plot_without_saveat_draws_from_dense_output_where_it_is_cheap():
    from symflow.cli._run import _dense_plot

    assert _dense_plot(symflow.loads(model_text("lv")))
    heat = symflow.loads(model_text("heat_1d_template").format(
        n=9, periodic="", u0="sin(pi*x)", bcs="    u = 0 at x = 0\n    u = 0 at x = 1",
        order=2))
    assert not _dense_plot(heat)  # a field: a heat map of the saved times
    assert not _dense_plot(symflow.loads(model_text("events_same_instant")))


@pytest.mark.slow
def test_an_spde_ensemble_is_summarised_and_written_to_netcdf(examples_dir, tmp_path, capsys):
    xr = pytest.importorskip("xarray")
    out = tmp_path / "heat.nc"
    assert main(["run", str(examples_dir / "stochastic_heat.sf"), "--trajectories", "4",
                 "--no-progress", "-o", str(out)]) == EXIT_OK
    line, = [s for s in capsys.readouterr().out.splitlines() if s.strip().startswith("u(")]
    assert "17 values, mean from" in line and "[" not in line
    with xr.open_dataset(out, engine="scipy") as ds:
        assert ds["u"].dims == ("trajectory", "t", "x") and ds.sizes["trajectory"] == 4
