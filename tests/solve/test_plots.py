"""`Solution.plot` and `EnsembleSolution.plot`: panels, labels, embedding, fields on
their coordinate, smooth curves from dense output, no figure left open."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import symflow  # noqa: E402
from models import model_text  # noqa: E402
from symflow.solve import EnsembleSolution  # noqa: E402
from symflow.solve.plots import DENSE_POINTS, panels  # noqa: E402


@pytest.fixture(scope="module")
def dose():
    return symflow.loads(model_text("labelled_dose"))


def test_panels_split_by_units_kind_and_scale():
    t = np.linspace(0, 1, 5)
    values = {"a": 1 + t, "b": 50 * t, "c": 0.001 * t, "z": np.ones((5, 3)),
              "v": 100 + t, "w": np.zeros(5)}
    docs = {"v": "volume [mL]"}
    # a and b within 100x; c 1000x smaller; z an array; v other units; w zero joins
    assert panels(values, docs) == [["a", "b", "w"], ["c"], ["z"], ["v"]]


def test_panels_labels_title_and_smooth_curves_from_dense_output(dose, tmp_path):
    plt.close("all")
    sol = dose.simulate(dense=True)
    axes = sol.plot(tmp_path / "dose.png", names=["x", "v", "z", "conc"], title="Dose")
    assert [ax.get_ylabel() for ax in axes] == [
        "amount of drug [mg]", "volume [mL]", "tracer", "concentration [mg/mL]"]
    assert axes[0].figure.get_suptitle() == "Dose"
    assert len(axes[0].lines[0].get_xdata()) == DENSE_POINTS  # not the 11 saved points
    np.testing.assert_allclose(axes[3].lines[0].get_ydata()[-1], float(sol["conc"][-1]),
                               rtol=1e-9)
    assert (tmp_path / "dose.png").stat().st_size > 10_000
    assert plt.get_fignums() == []  # written to a file: closed, not shown again


def test_ax_embeds_the_plot_in_the_callers_figure(dose, tmp_path):
    sol = dose.simulate()  # no dense output: the saved points
    fig, (left, right) = plt.subplots(1, 2)
    drawn = sol.plot(tmp_path / "x.png", names=["x", "conc"], ax=right, title="mine")
    assert drawn is right and right.get_title() == "mine"
    assert [line.get_label() for line in right.lines] == ["x: amount of drug",
                                                          "conc: concentration"]
    assert len(right.lines[0].get_xdata()) == len(sol.t) and not left.lines
    assert plt.fignum_exists(fig.number)  # the caller's figure stays open
    plt.close(fig)


def test_a_field_is_drawn_over_its_coordinate():
    m = symflow.loads(model_text("heat_1d_template").format(
        n=9, periodic="", u0="sin(pi*x)", bcs="    u = 0 at x = 0\n    u = 0 at x = 1",
        order=2))
    fig, ax = plt.subplots()
    m.simulate(saveat=4, solver="tsit5").plot(ax=ax)
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "t"
    np.testing.assert_allclose(ax.get_xlim(), (-1 / 16, 1 + 1 / 16))  # the grid, not 0..8
    plt.close(fig)


def test_an_ensembles_field_profile_is_over_its_coordinate():
    paths = {"u": np.random.default_rng(0).normal(size=(6, 3, 5)), "s": np.ones((6, 3))}
    ens = EnsembleSolution(t=np.linspace(0, 1, 3), paths=paths, mean=None, std=None,
                           result=np.zeros(6, dtype=int), sweep={}, names=("u", "s"),
                           grid=(("x", 0.0, 2.0, 5, False),), fields=("u",))
    axes = ens.plot()
    assert axes[0].get_xlabel() == "x"
    np.testing.assert_allclose(axes[0].lines[-1].get_xdata(), np.linspace(0, 2, 5))
    plt.close("all")
