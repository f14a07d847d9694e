"""`symflow import` and `symflow.load` of an SBML file."""

from __future__ import annotations

import pytest

pytest.importorskip("libsbml")

import symflow  # noqa: E402
from sbml_suite.documents import document  # noqa: E402
from symflow.cli import EXIT_MODEL, EXIT_OK, EXIT_USAGE, main  # noqa: E402

DECAY = document(parameters=[("k", 0.5, True), ("x", 2.0, False)], rates=[("x", "-k*x")],
                 model_id="decay")


@pytest.fixture
def sbml_file(tmp_path):
    path = tmp_path / "decay.xml"
    path.write_text(DECAY)
    return path


def test_import_writes_the_model_and_it_checks(sbml_file, tmp_path, capsys):
    out = tmp_path / "decay.sf"
    out.write_text("the user's old file\n")
    assert main(["import", str(sbml_file), "-o", str(out)]) == EXIT_USAGE  # not unasked
    assert out.read_text() == "the user's old file\n"
    assert main(["import", str(sbml_file), "-o", str(out), "--force"]) == EXIT_OK
    text = out.read_text()
    assert "model decay" in text and "der(x) = -k*x" in text
    assert [p.name for p in tmp_path.iterdir()] != [] and not any(
        p.name.startswith(".symflow-") for p in tmp_path.iterdir())  # no temporary left
    assert main(["check", str(out)]) == EXIT_OK
    assert "well formed: 1 states" in capsys.readouterr().out


def test_import_to_stdout(sbml_file, capsys):
    assert main(["import", str(sbml_file)]) == EXIT_OK
    assert capsys.readouterr().out.startswith("# Imported from SBML Level 3 Version 2")


def test_import_refusal_is_an_error_message_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "delay.xml"
    path.write_text(document(parameters=[("x", 1.0, False)], rates=[("x", "delay(x, 1)")]))
    assert main(["import", str(path), "-o", str(tmp_path / "out.sf")]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert "delay" in err and "Traceback" not in err
    assert not (tmp_path / "out.sf").exists()


def test_load_reads_sbml_by_suffix(sbml_file, tmp_path):
    m = symflow.load(sbml_file)
    assert m.name == "decay" and m.params["k"] == 0.5
    other = tmp_path / "decay.sbml"
    other.write_text(DECAY)
    assert symflow.load(other).state_names == ("x",)
