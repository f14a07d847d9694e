"""Bad solver options and values: each refused with its cause before anything compiles,
or (a NaN parameter) named in the failure, never a traceback or a misleading hint."""

import pathlib

import pytest

import symflow
from models import model_path, model_text
from symflow.cli import EXIT_MODEL, EXIT_SOLVER, EXIT_USAGE, main

LV = model_text("lv")
EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def lv():
    return symflow.loads(LV)


@pytest.mark.parametrize("option, message", [
    ({"rtol": -1.0}, "rtol must be a positive finite number"),
    ({"atol": 0.0}, "atol must be a positive finite number"),
    ({"rtol": float("nan")}, "rtol must be a positive finite number"),
    ({"dt": 0.0}, "dt must be a positive finite number"),
    ({"max_steps": 0}, "max_steps must be a positive whole number"),
    ({"max_steps": -5}, "max_steps must be a positive whole number"),
    ({"max_steps": 2.5}, "max_steps must be a positive whole number"),
])
def test_bad_options_are_refused_before_compiling(lv, option, message):
    with pytest.raises(symflow.SymflowError, match=message):
        lv.simulate(**option)


def test_a_nan_parameter_is_named_in_the_failure(lv):
    with pytest.raises(symflow.SolverError) as failure:
        lv.simulate(params={"alpha": float("nan")})
    assert "parameter 'alpha' is not a finite number" in failure.value.pretty()


def test_the_command_line_says_the_same(capsys, tmp_path):
    path = str(model_path("lv"))
    assert main(["run", path, "--max-steps", "0", "--no-progress"]) == EXIT_MODEL
    assert main(["run", path, "--set", "alpha=nan", "--no-progress"]) == EXIT_SOLVER
    assert main(["run", path, "--plot", str(tmp_path / "x.foo"), "--no-progress"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "max_steps must be a positive whole number" in err
    assert "parameter 'alpha' is not a finite number" in err
    assert "cannot write .foo" in err and "Traceback" not in err


@pytest.mark.parametrize("name, suggested", [
    ("rk45", "'tsit5' or 'dopri5'"), ("BDF", "'rodas5p' or 'kvaerno5'"), ("tsti5", "'tsit5'")])
def test_a_foreign_or_mistyped_solver_name_suggests_the_same_job(name, suggested):
    text = LV.replace("solver = tsit5", f"solver = {name}")
    with pytest.raises(symflow.SymflowError) as error:
        symflow.loads(text)
    assert f"did you mean {suggested}?" in error.value.pretty()


def test_solver_names_are_not_case_sensitive(lv, capsys):
    assert lv.simulate(solver="Tsit5").t.shape == lv.simulate(solver="tsit5").t.shape
    assert symflow.loads(LV.replace("solver = tsit5", "solver = DOPRI5")).settings.solver \
        == "dopri5"
    assert main(["run", str(model_path("lv")), "--solver", "Dopri5", "--no-progress"]) == 0
    assert "solved with dopri5" in capsys.readouterr().out


def test_a_result_larger_than_memory_is_refused_with_its_size(tmp_path, capsys):
    """10,000 states saved at 10,000,000 times (745 GiB), and 10^8 trajectories of an
    SDE at 1,000 times (745 GiB): each refused at once, before compiling, with the
    size it would take and what to change."""
    wide = tmp_path / "wide.sf"
    wide.write_text("model Wide\n  variables\n    x[10000] = 1.0\n  equations\n"
                    "    der(x) = -x\nend\n")
    assert main(["run", str(wide), "--saveat", "10000000", "--no-progress"]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert "745.1 GiB (10,000,000 times x 10,000 values x 8 bytes)" in err
    assert "save fewer times" in err
    ou = str(EXAMPLES / "ornstein_uhlenbeck.sf")
    assert main(["run", ou, "--trajectories", "100000000", "--saveat", "1000",
                 "--no-progress"]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert "(100,000,000 trajectories x 1,000 times x 1 values x 8 bytes)" in err
    assert "--stats-only --chunk-size N" in err


def test_absurd_sweeps_and_starts_are_refused_before_anything_is_drawn(tmp_path, capsys):
    """--sweep k=1:2:1e9 and --starts 1e9 (each was a NumPy MemoryError traceback)."""
    ou = str(EXAMPLES / "ornstein_uhlenbeck.sf")
    assert main(["run", ou, "--sweep", "theta=1:2:1000000000", "--no-progress"]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert "(1,000,000,000 trajectories x 2 times x 1 values x 8 bytes)" in err
    assert "sweep fewer values" in err
    data = tmp_path / "d.csv"
    data.write_text("t,x\n1,1.5\n2,1.2\n")
    assert main(["fit", str(model_path("lv")), "--data", str(data), "--params", "alpha",
                 "--starts", "1000000000", "--quiet"]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert "(1,000,000,000 starts x 4 values x 8 bytes)" in err and "fewer starts" in err
