"""The command line on component and DAE models (in-process, one compile each)."""

import pathlib

import numpy as np
import pytest

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


def test_set_takes_an_array_parameter_as_an_array_or_one_number():
    import types

    from symflow.cli._common import UsageError, parse_sets

    m = types.SimpleNamespace(name="Ladder", params={"r.R": np.ones(3), "s.V": np.float64(1)},
                              state_names=("c[0].vc",), observed_names=())
    params, initial = parse_sets(["r.R=[1,2,3]", "s.V=2", "c[0].vc=0.5"], m)
    assert np.array_equal(params.pop("r.R"), [1.0, 2.0, 3.0])
    assert params == {"s.V": 2.0} and initial == {"c[0].vc": 0.5}
    # an array (not a list, which the generated code cannot divide by)
    broadcast = parse_sets(["r.R=2"], m)[0]["r.R"]
    assert isinstance(broadcast, np.ndarray) and np.array_equal(broadcast, [2.0, 2.0, 2.0])
    with pytest.raises(UsageError, match="'r.R' is an array of 3 values, not 2"):
        parse_sets(["r.R=[1,2]"], m)
    with pytest.raises(UsageError, match="'s.V' takes one number"):
        parse_sets(["s.V=[1,2]"], m)


@pytest.mark.slow
def test_run_an_array_of_components_writes_bracketed_columns(tmp_path):
    path = tmp_path / "ladder.sf"
    path.write_text(model_text("rc_ladder_array"))
    out = tmp_path / "ladder.csv"
    assert main(["run", str(path), "-o", str(out), "--quiet", "--set", "r.R=[1,1,1,1,2]",
                 "--set", "c[0].vc=0.5"]) == 0
    header = out.read_text().splitlines()[0].split(",")
    assert {"t", "c[0].vc", "c[4].vc", "r[3].p.v"} <= set(header)
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    assert data[0, header.index("c[0].vc")] == 0.5


def test_run_sets_an_array_parameter_from_the_command_line(tmp_path, capsys):
    # `--set r.R=2` on an array of components crashed in the solve (a list divided)
    out = tmp_path / "ladder.csv"
    assert main(["run", str(EXAMPLES / "rc_ladder.sf"), "-o", str(out), "--tspan", "0", "1",
                 "--set", "r.R=2", "--solver", "tsit5"]) == 0
    default = tmp_path / "default.csv"
    assert main(["run", str(EXAMPLES / "rc_ladder.sf"), "-o", str(default), "--tspan", "0",
                 "1", "--solver", "tsit5"]) == 0
    header = out.read_text().splitlines()[0].split(",")
    k = header.index("c[0].vc")
    doubled = np.loadtxt(out, delimiter=",", skiprows=1)[-1, k]
    base = np.loadtxt(default, delimiter=",", skiprows=1)[-1, k]
    assert 0 < doubled < base     # twice the resistance charges the first capacitor slower
