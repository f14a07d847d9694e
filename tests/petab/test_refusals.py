"""What the PEtab import refuses, by name, with the file and row: each case edits one
cell of a copy of the Boehm problem. The model is never compiled here (`read_problem`
stops at the text), so these run in well under a second each."""

from __future__ import annotations

import os
import shutil

import pytest

pytest.importorskip("petab")
pytest.importorskip("libsbml")

from symflow import petab  # noqa: E402
from symflow.cli import EXIT_OK, EXIT_USAGE, main  # noqa: E402
from symflow.errors import SymflowError  # noqa: E402

NAME = "Boehm_JProteomeRes2014"
SOURCE = os.path.join(os.path.dirname(__file__), "..", "data", "petab", NAME)


@pytest.fixture
def boehm(tmp_path):
    folder = tmp_path / NAME
    shutil.copytree(SOURCE, folder)
    return folder


def _edit(folder, table: str, old: str, new: str, count: int = 1) -> None:
    path = folder / f"{table}_{NAME}.tsv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def _refusal(folder) -> str:
    with pytest.raises(SymflowError) as e:
        petab.read_problem(folder / f"{NAME}.yaml")
    return str(e.value)


def test_the_text_holds_observables_noise_and_bounds(boehm):
    text = petab.read_problem(boehm / f"{NAME}.yaml").text
    assert "    pSTAT5A_rel ~ normal(sigma = sd_pSTAT5A_rel)" in text
    assert "    sd_pSTAT5A_rel = 3.85261197844677 in [1e-05, 100000.0]" in text
    assert "    k_phos = 15766.5070195731 in [1e-05, 100000.0]" in text  # nominal, not SBML's
    assert "    ratio = 0.693\n" in text  # estimate 0: no bounds, not fitted
    assert "    tspan = [0, 240.0]" in text


def test_log10_laplace_is_refused(boehm):
    _edit(boehm, "observables", "\tlin\tnormal", "\tlog10\tlaplace")
    message = _refusal(boehm)
    assert "observables table" in message and "row 2 (pSTAT5A_rel)" in message
    assert "noiseDistribution 'laplace' with observableTransformation 'log10'" in message


def test_log_laplace_is_refused(boehm):
    _edit(boehm, "observables", "\tlin\tnormal", "\tlog\tlaplace")
    assert "noiseDistribution 'laplace' with observableTransformation 'log'" in _refusal(boehm)


def test_noise_formula_of_several_terms_is_refused(boehm):
    _edit(boehm, "observables", "noiseParameter1_pSTAT5A_rel\t",
          "noiseParameter1_pSTAT5A_rel + 0.1 * pApB\t")
    message = _refusal(boehm)
    assert "row 2 (pSTAT5A_rel)" in message and "noiseFormula is not one parameter" in message


def test_placeholders_that_vary_as_parameters_split_the_observable(boehm):
    _edit(boehm, "measurementData", "\tsd_pSTAT5A_rel\t", "\tsd_pSTAT5B_rel\t")
    read = petab.read_problem(boehm / f"{NAME}.yaml")
    text = read.text
    assert read.variants["pSTAT5A_rel"] == [((), ("sd_pSTAT5B_rel",)),
                                              ((), ("sd_pSTAT5A_rel",))]
    assert "    pSTAT5A_rel__1 ~ normal(sigma = sd_pSTAT5B_rel)" in text
    assert "    pSTAT5A_rel__2 ~ normal(sigma = sd_pSTAT5A_rel)" in text
    assert "    pSTAT5A_rel = " not in text


def test_steady_state_measurements_are_refused(boehm):
    _edit(boehm, "measurementData", "\t240.0\t", "\tinf\t")
    path = boehm / f"{NAME}.yaml"
    with pytest.raises(SymflowError, match="steady-state measurements are not supported"):
        petab.load(path)


def test_priors_are_refused(boehm):
    path = boehm / f"parameters_{NAME}.tsv"
    lines = path.read_text().splitlines()
    lines = [lines[0] + "\tobjectivePriorType\tobjectivePriorParameters",
             lines[1] + "\tnormal\t0;1", *(line + "\t\t" for line in lines[2:])]
    path.write_text("\n".join(lines) + "\n")
    message = _refusal(boehm)
    assert "row 2 (Epo_degradation_BaF3)" in message and "priors are not supported" in message


def test_a_formula_that_does_not_parse_is_refused_with_its_row(boehm):
    _edit(boehm, "observables", "(100 * pApB", "(100 ** pApB")
    message = _refusal(boehm)  # petab's checks read the formulas first
    assert "does not pass petab's checks" in message and "(100 ** pApB" in message


def test_formulas_are_never_evaluated(boehm):
    _edit(boehm, "observables", "(100 * pApB", "(__import__('os').getcwd() * pApB")
    message = _refusal(boehm)  # not a formula: refused, never run
    assert "does not pass petab's checks" in message and "__import__" in message


def test_a_missing_file_and_a_broken_table_are_errors(boehm):
    with pytest.raises(SymflowError, match="no such file"):
        petab.read_problem(boehm / "nothing.yaml")
    (boehm / f"parameters_{NAME}.tsv").write_text("parameterId\tnominalValue\nk\t1\n")
    assert f"PEtab problem {boehm / NAME}.yaml" in _refusal(boehm)


def test_import_writes_the_problem_model(boehm, tmp_path, capsys):
    out = tmp_path / "boehm.sf"
    assert main(["import", str(boehm / f"{NAME}.yaml"), "-o", str(out)]) == EXIT_OK
    text = out.read_text()
    assert "  fit\n    pSTAT5A_rel ~ normal(sigma = sd_pSTAT5A_rel)" in text
    assert main(["fit", str(boehm / f"{NAME}.yaml"), "--data", "x.csv"]) != EXIT_OK
    assert "--data and --preequilibrate do not apply" in capsys.readouterr().err
    assert main(["fit", str(out)]) == EXIT_USAGE  # a model file still needs its data
    assert "fit needs --data CSV (or a PEtab problem, FILE.yaml)" in capsys.readouterr().err
