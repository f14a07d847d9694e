"""A solution into the data stack: pandas, xarray, NetCDF; save times as asked for."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import symflow
from models import model_text
from symflow.solve.frames import split_doc
from symflow.solve.simulate import even_times

pd = pytest.importorskip("pandas")
xr = pytest.importorskip("xarray")

DIRICHLET = "    u = 0 at x = 0\n    u = 0 at x = 1"


@pytest.fixture(scope="module")
def dose():
    return symflow.loads(model_text("labelled_dose")).simulate()


@pytest.fixture(scope="module")
def heat():
    m = symflow.loads(model_text("heat_1d_template").format(
        n=9, periodic="", u0="sin(pi*x)", bcs=DIRICHLET, order=2))
    return m.simulate(saveat=4, solver="tsit5")


@pytest.mark.parametrize("doc, expected", [
    ("amount of drug [mg]", ("amount of drug", "mg")),
    ("rate [1/h] ", ("rate", "1/h")),
    ("tracer", ("tracer", None)),
    ("the [a] in the middle", ("the [a] in the middle", None)),
    (None, (None, None)),
])
def test_a_doc_string_gives_its_label_and_a_trailing_bracketed_unit(doc, expected):
    assert split_doc(doc) == expected


def test_to_pandas_is_indexed_by_time_with_the_csv_columns(dose):
    df = dose.to_pandas()
    assert df.index.name == "t"
    np.testing.assert_array_equal(df.index.to_numpy(), np.asarray(dose.t))
    assert list(df.columns) == ["x", "v", "z[0]", "z[1]", "z[2]", "conc"]
    np.testing.assert_array_equal(df["z[2]"].to_numpy(), np.asarray(dose["z"])[:, 2])
    np.testing.assert_allclose(df["conc"].to_numpy(), df["x"] / df["v"], rtol=1e-14)
    assert df.attrs["units"] == {"x": "mg", "v": "mL", "conc": "mg/mL"}
    assert df.attrs["docs"]["z"] == "tracer"
    assert list(dose.to_pandas(names=["conc"]).columns) == ["conc"]


def test_to_xarray_labels_each_variable_from_its_doc_string(dose):
    ds = dose.to_xarray()
    assert ds["x"].dims == ("t",) and ds["z"].dims == ("t", "z_index")
    assert ds["conc"].attrs == {"long_name": "concentration", "units": "mg/mL"}
    assert ds["z"].attrs == {"long_name": "tracer"}
    np.testing.assert_array_equal(ds["t"].to_numpy(), np.asarray(dose.t))
    np.testing.assert_array_equal(ds["z"].to_numpy(), np.asarray(dose["z"]))
    with pytest.raises(symflow.SymflowError, match="no variable or output named 'w'"):
        dose.to_xarray(names=["w"])


def test_a_field_lies_on_its_grid_as_a_coordinate(heat):
    ds = heat.to_xarray()
    assert ds["u"].dims == ("t", "x")
    np.testing.assert_allclose(ds["x"].to_numpy(), np.linspace(0, 1, 9))
    np.testing.assert_array_equal(ds["u"].to_numpy(), np.asarray(heat["u"]))
    # the initial profile, read by coordinate
    np.testing.assert_allclose(ds["u"].sel(t=0.0, x=0.5).item(), 1.0, atol=1e-12)
    assert list(heat.to_pandas().attrs["grid"]) == ["x"]


def test_netcdf_round_trip_through_scipy(dose, tmp_path):
    path = tmp_path / "dose.nc"
    path.write_text("an older file")
    dose.save(path)
    with xr.open_dataset(path, engine="scipy") as back:
        np.testing.assert_array_equal(back["z"].to_numpy(), np.asarray(dose["z"]))
        assert back["x"].attrs["units"] == "mg"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".symflow-")]


def test_a_missing_optional_dependency_says_what_to_install(dose, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(symflow.SymflowError, match="xarray is not installed") as info:
        dose.to_xarray()
    assert "pip install symflow[data]" in info.value.help


@pytest.mark.parametrize("t0, t1, n", [(0, 1, 11), (0, 10, 101), (1, 2, 11), (0, 0.5, 6)])
def test_even_save_times_are_the_decimals_asked_for(t0, t1, n):
    ts = even_times(t0, t1, n)
    expected = [float(f"{t0 + (t1 - t0) * i / (n - 1):.12g}") for i in range(n)]
    assert [repr(float(x)) for x in ts] == [repr(x) for x in expected]


def test_a_csv_of_evenly_spaced_times_shows_short_decimals(dose, tmp_path):
    path = tmp_path / "dose.csv"
    dose.to_csv(path)  # saveat = 11 on [0, 1], from the model file
    times = [line.split(",")[0] for line in path.read_text().splitlines()[1:]]
    assert times == ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9",
                     "1.0"]


def test_an_ensemble_as_a_dataset_with_its_field_on_the_grid(tmp_path):
    from symflow.solve import EnsembleSolution

    rng = np.random.default_rng(1)
    paths = {"u": rng.normal(size=(6, 3, 5)), "s": rng.normal(size=(6, 3))}
    ens = EnsembleSolution(t=np.linspace(0, 1, 3), paths=paths, mean=None, std=None,
                           result=np.zeros(6, dtype=int), sweep={"k": np.arange(6.0)},
                           names=("u", "s"), grid=(("x", 0.0, 2.0, 5, False),),
                           fields=("u",))
    ds = ens.to_xarray()
    assert ds["u"].dims == ("trajectory", "t", "x")
    assert ds["s_quantiles"].dims == ("quantile", "t")
    np.testing.assert_allclose(ds["x"].to_numpy(), np.linspace(0, 2, 5))
    np.testing.assert_allclose(ds["u_mean"].to_numpy(), paths["u"].mean(axis=0))
    np.testing.assert_array_equal(ds["k"].to_numpy(), np.arange(6.0))  # sweep coordinate
    ens.save(tmp_path / "ens.nc")
    with xr.open_dataset(tmp_path / "ens.nc", engine="scipy") as back:
        np.testing.assert_allclose(back["s_std"].to_numpy(), ds["s_std"].to_numpy())
