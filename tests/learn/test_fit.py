"""`Model.fit`: Lotka–Volterra parameters recovered from noisy data, standard errors,
the model written back at its value spans, failures reported with the best point.

The data file (`examples/lotka_volterra_data.csv`) is made by
`docs/make_fitting_example.py` from alpha=1.5, beta=1, gamma=3, delta=1 with 1%
multiplicative noise (seed 0) and one missing value; the model starts from wrong
defaults (`examples/lotka_volterra_start.sf`).
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import symflow
from symflow.learn import FitError

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
TRUE = {"alpha": 1.5, "beta": 1.0, "gamma": 3.0, "delta": 1.0}


@pytest.fixture(scope="module")
def start():
    return symflow.load(EXAMPLES / "lotka_volterra_start.sf")


@pytest.fixture(scope="module")
def result(start):
    # the noise is multiplicative: residuals relative to the data match its model
    return start.fit(EXAMPLES / "lotka_volterra_data.csv", scale="relative")


def test_lotka_volterra_recovered_within_two_percent_and_two_stderr(result):
    assert result.converged and result.n_data == 79  # 80 cells, one missing
    for name, true in TRUE.items():
        value, se = result.values[name], result.stderr[name]
        assert abs(value - true) <= 0.02 * true, (name, value)
        assert abs(value - true) <= 2 * se, (name, value, se)
        assert 0 < se < 0.02 * true
    # 1% relative noise: the mean squared relative residual is about 0.01^2
    assert 0.5e-4 < result.loss / result.n_data < 2e-4


def test_write_back_edits_only_the_values(result, tmp_path):
    original = (EXAMPLES / "lotka_volterra_start.sf").read_text()
    text = result.write_model(tmp_path / "fitted.sf")
    changed = [(a, b) for a, b in zip(original.splitlines(), text.splitlines()) if a != b]
    assert len(changed) == 4 and len(text.splitlines()) == len(original.splitlines())
    for old, new in changed:
        # the bounds and the doc string survive; only the number changed
        assert old.split("in [")[1] == new.split("in [")[1]
    fitted = symflow.load(tmp_path / "fitted.sf")
    for name, value in result.values.items():
        np.testing.assert_allclose(float(fitted.params[name]), value, rtol=1e-7)


def test_table_lists_values_and_errors(result):
    table = result.table()
    assert "std. error" in table and "alpha" in table and "levenberg_marquardt" in table


def test_fit_that_cannot_converge_reports_best_point(start):
    # the same data and fitted names as `result` (the compiled solve is shared),
    # but only two steps allowed
    with pytest.raises(FitError) as info:
        start.fit(EXAMPLES / "lotka_volterra_data.csv", scale="relative", steps=2)
    message = str(info.value)
    assert "did not converge" in message and "most steps (2)" in message
    assert "best point: alpha =" in message
    best = info.value.best
    assert set(best.values) == set(TRUE) and best.loss > 0 and not best.converged


@pytest.mark.slow
def test_initial_value_and_several_experiments(start):
    """Two experiments with different initial prey; the initial predator is fitted."""
    experiments = []
    for x0 in (1.0, 2.0):
        ts = np.linspace(0.5, 6, 15)
        # beta and delta are not fitted: the data uses the model's (start) values
        sol = start.simulate({"alpha": 1.5, "gamma": 3.0}, initial={"x": x0, "y": 0.7},
                             saveat=ts)
        rows = np.searchsorted(np.asarray(sol.t), ts)
        experiments.append(symflow.Experiment(
            t=ts, columns={"x": np.asarray(sol["x"])[rows], "y": np.asarray(sol["y"])[rows]},
            initial={"x": x0}))
    r = start.fit(experiments, ["alpha", "gamma", "y"])
    np.testing.assert_allclose(r.values["alpha"], 1.5, rtol=1e-5)
    np.testing.assert_allclose(r.values["gamma"], 3.0, rtol=1e-5)
    np.testing.assert_allclose(r.values["y"], 0.7, rtol=1e-5)


@pytest.mark.slow
def test_bfgs_and_adam_agree_with_levenberg_marquardt(start, result):
    r = start.fit(EXAMPLES / "lotka_volterra_data.csv", optimizer="bfgs", scale="relative")
    for name in TRUE:
        np.testing.assert_allclose(r.values[name], result.values[name], rtol=1e-4)


@pytest.mark.slow
def test_robertson_rate_constants_in_log_space():
    """k1, k2, k3 from 12 sparse points of y1 and y3 (and y2 scaled), fitted in log
    space from starting values off by factors of 2-3."""
    m = symflow.load(EXAMPLES / "robertson.sf")
    ts = np.array([1e-3, 1e-2, 0.1, 0.4, 1, 4, 10, 40, 100, 400, 1000, 4000])
    sol = m.simulate(saveat=ts)
    rows = np.searchsorted(np.asarray(sol.t), ts)
    data = {"t": ts, **{k: np.asarray(sol[k])[rows] for k in ("y1", "y2", "y3")}}
    text = (EXAMPLES / "robertson.sf").read_text()
    text = text.replace("k1 = 0.04 ", "k1 = 0.1  ").replace("k2 = 3e7 ", "k2 = 1e7 ") \
        .replace("k3 = 1e4 ", "k3 = 3e4 ")
    wrong = symflow.loads(text, file="robertson_start.sf")
    r = wrong.fit(data, log=["k1", "k2", "k3"], scale="column", tspan=(0.0, 4000.0),
                  solver="kvaerno5")
    for name, true in {"k1": 0.04, "k2": 3e7, "k3": 1e4}.items():
        np.testing.assert_allclose(r.values[name], true, rtol=1e-3)


def test_summary_holds_values_intervals_and_correlations(result, tmp_path):
    import json

    corr = result.correlation
    np.testing.assert_allclose(np.diag(corr), 1.0)
    np.testing.assert_allclose(corr, corr.T)
    assert np.all(np.abs(corr) <= 1 + 1e-12)
    result.write_summary(tmp_path / "fit.json")
    data = json.loads((tmp_path / "fit.json").read_text())
    alpha = next(p for p in data["parameters"] if p["name"] == "alpha")
    assert alpha["fitted"] == result.values["alpha"]
    assert alpha["lower95"] < TRUE["alpha"] < alpha["upper95"]
    assert data["objective"] == "sum of squared residuals" and len(data["correlation"]) == 4
    result.write_summary(tmp_path / "fit.csv")
    lines = (tmp_path / "fit.csv").read_text().splitlines()
    assert lines[0] == "name,start,fitted,stderr,lower95,upper95" and len(lines) == 5
    with pytest.raises(symflow.SymflowError, match="name it .json or .csv"):
        result.write_summary(tmp_path / "fit.txt")


@pytest.mark.slow
def test_initial_values_fitted_per_experiment_with_a_shared_rate():
    """Two decays with unknown starting amounts (one per experiment) and one rate."""
    from models import model_text

    m = symflow.loads(model_text("decay"))
    ts = np.linspace(0.1, 1.0, 6)
    experiments = [symflow.Experiment(t=ts, columns={"x": x0 * np.exp(-1.6 * ts)},
                                      initial={"x": 1.0}) for x0 in (1.3, 2.5)]
    r = m.fit(experiments, ["k", "x"], per_experiment=["x"])
    assert r.names == ("k", "x@0", "x@1")
    np.testing.assert_allclose([r.values["k"], r.values["x@0"], r.values["x@1"]],
                               [1.6, 1.3, 2.5], rtol=1e-6)
    assert r.params == {"k": r.values["k"]} and r.initial == {}
    assert "x@1" in r.table() and "(initial value)" in r.table()
    # each experiment simulates with its own starting amount
    np.testing.assert_allclose(float(r.simulate(1)["x"][0]), 2.5, rtol=1e-6)
    with pytest.raises(symflow.SymflowError, match="per_experiment='y'"):
        m.fit(experiments, ["k"], per_experiment=["y"])


def test_fit_leaves_array_parameters_out_and_refuses_them_by_name():
    import types

    from symflow.learn._fit import check_fitted_names

    system = types.SimpleNamespace(inputs=(), free_parameters=(
        types.SimpleNamespace(name="r.R", shape=(3,)), types.SimpleNamespace(name="R0", shape=())))
    model = types.SimpleNamespace(name="Ladder", system=system, params={"r.R": 0, "R0": 0})
    with pytest.raises(symflow.SymflowError, match="'r.R' is an array parameter"):
        check_fitted_names(model, ["r.R"], [])
    model.state_names = ()
    assert check_fitted_names(model, None, [])[0] == ("R0",)


def test_residuals_are_data_minus_model_and_give_the_objective(result, tmp_path):
    """The residuals, from a separate solve at the data times, reproduce the
    objective the fit minimised (relative scale: sum of (r / data)^2)."""
    residuals = result.residuals(0)
    data = result.experiments[0]
    assert set(residuals) == set(data.columns)
    total = 0.0
    for name, (t, r) in residuals.items():
        d = data.columns[name][np.isfinite(data.columns[name])]
        assert t.shape == r.shape == d.shape
        total += float(np.sum((r / d) ** 2))
    assert sum(r.size for _, r in residuals.values()) == result.n_data
    assert total == pytest.approx(result.loss, rel=1e-6)
    fig = result.plot_residuals(tmp_path / "residuals.png")
    (ax,) = fig.axes
    assert sum(len(line.get_xdata()) for line in ax.lines) == result.n_data + 2  # + y = 0
    assert (tmp_path / "residuals.png").stat().st_size > 5_000
