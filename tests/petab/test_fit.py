"""Fitting a PEtab problem, from Python and from the command line (slow: each compiles
a BFGS program over the problem's solves, about 45 s on 2 cores)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("petab")
pytest.importorskip("libsbml")

import symflow  # noqa: E402
from symflow import petab  # noqa: E402
from symflow.cli import EXIT_OK, main  # noqa: E402

NAME = "Boehm_JProteomeRes2014"
PROBLEM = os.path.join(os.path.dirname(__file__), "..", "data", "petab", NAME, f"{NAME}.yaml")


@pytest.mark.slow
def test_a_fit_from_the_nominal_values_does_not_get_worse():
    problem = petab.load(PROBLEM)
    nominal = problem.nominal_nll()
    result = problem.fit(steps=300)
    # observed: 138.2219760 from 138.2219977 in 159 BFGS steps
    assert result.loss < nominal - 1e-6
    assert set(result.values) == set(problem.fitted)
    # the loss the fit reports is the likelihood evaluated anew at its values
    assert problem.nll(result.values) == pytest.approx(result.loss, rel=1e-9)


@pytest.mark.slow
def test_symflow_fit_reads_a_petab_problem(tmp_path, capsys):
    out = tmp_path / "fitted.sf"
    assert main(["fit", PROBLEM, "--steps", "300", "--quiet", "-o", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "fitted 9 values to 48 data points in 1 experiment(s)" in printed
    assert "negative log-likelihood = 138.22" in printed
    fitted = symflow.load(str(out))  # the whole model, tables included, with new values
    assert "pSTAT5A_rel" in fitted.observed_names
    assert float(fitted.params["k_phos"]) != pytest.approx(15766.5070195731, rel=1e-9)
