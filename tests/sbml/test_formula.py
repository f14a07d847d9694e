"""Formulas read from text (PEtab's tables) with libsbml's infix parser."""

from __future__ import annotations

import pytest

pytest.importorskip("libsbml")

from symflow.errors import SymflowError  # noqa: E402
from symflow.sbml import read_formula  # noqa: E402


def test_names_placeholders_and_time():
    f = read_formula("observableParameter1_obs * (A + B_2) / log(t)", "here")
    assert f.symbols == {"observableParameter1_obs", "A", "B_2"}
    text = f.text({"observableParameter1_obs": "scale", "B_2": 0.5},
                  lambda sid: {"A": "A_"}.get(sid, sid))
    assert text == "scale*(A_ + 0.5)/log(t)"  # log is the natural log, time is `t`


def test_log_is_natural_and_log10_is_log_over_log_10():
    assert read_formula("log(x)", "here").text({}, str) == "log(x)"  # libsbml's default: log10
    assert read_formula("log10(y)", "here").text({}, str) == "log(y)/log(10)"


def test_a_bare_name_or_number():
    assert read_formula("sd_x", "here").name == "sd_x"
    assert read_formula("0.25", "here").number == 0.25
    assert read_formula("2*sd_x", "here").name is None


def test_a_formula_that_does_not_parse_names_its_place():
    with pytest.raises(SymflowError, match=r"observables.tsv, row 3: cannot read the formula"):
        read_formula("a +* b", "observables.tsv, row 3")
