"""The command line on component and DAE models (in-process, one compile each)."""

import pathlib

import numpy as np

from models import model_text
from symflow.cli import main

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_show_stages_with_counts(capsys):
    path = str(EXAMPLES / "rc_circuit.sf")
    assert main(["show", path, "--stage", "flat"]) == 0
    flat = capsys.readouterr().out
    assert "# 21 implicit equations, 21 variables" in flat
    assert "0 = c.C*der(c.vc) - c.i" in flat
    assert main(["show", path, "--stage", "simplified"]) == 0
    assert "# 5 implicit equations, 5 variables" in capsys.readouterr().out
    assert main(["show", path]) == 0
    final = capsys.readouterr().out
    assert "# 1 states (1 scalars)" in final and "der(c.vc) = " in final


def test_run_rc_circuit_writes_the_solution(tmp_path):
    out = tmp_path / "rc.csv"
    assert main(["run", str(EXAMPLES / "rc_circuit.sf"), "-o", str(out), "--set",
                 "r.R=4"]) == 0
    header = out.read_text().splitlines()[0].split(",")
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    t, v = data[:, header.index("t")], data[:, header.index("c.vc")]
    assert np.allclose(v, 1 - np.exp(-t / 4.0), atol=1e-5)


def test_structural_error_is_reported_without_traceback(tmp_path, capsys):
    path = tmp_path / "bad.sf"
    path.write_text(model_text("structurally_singular"))
    code = main(["show", str(path)])
    err = capsys.readouterr().err
    assert code != 0
    assert "structurally singular" in err and "Traceback" not in err
