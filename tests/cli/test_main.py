"""The `symflow` command: outputs, overrides and exit codes."""

import csv
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import symflow
from models import model_text
from symflow.cli import EXIT_MODEL, EXIT_OK, EXIT_SOLVER, EXIT_USAGE, main

LV = model_text("lv_with_array")


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "lv.sf"
    path.write_text(LV)
    return path


def test_run_writes_csv_with_named_columns(model_file, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert main(["run", str(model_file), "-o", str(out), "--no-progress"]) == EXIT_OK
    with open(out) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t", "x", "y", "c[0]", "c[1]", "total"]
    assert len(rows) == 12
    last = [float(v) for v in rows[-1]]
    assert last[0] == 2.0
    np.testing.assert_allclose(last[3:5], [0.0, np.exp(-2.0)], atol=1e-6)
    assert last[5] == pytest.approx(last[1] + last[2])
    assert "solved with" in capsys.readouterr().out


def test_run_writes_npz_and_plot(model_file, tmp_path):
    out, png = tmp_path / "out.npz", tmp_path / "plot.png"
    assert main(["run", str(model_file), "-o", str(out), "--plot", str(png),
                 "--no-progress"]) == EXIT_OK
    data = np.load(out)
    assert set(data.files) == {"t", "x", "y", "c", "total"}
    assert data["c"].shape == (11, 2)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_overrides_set_tspan_saveat(model_file, tmp_path):
    out = tmp_path / "out.npz"
    code = main(["run", str(model_file), "-o", str(out), "--no-progress",
                 "--set", "gamma=0", "--set", "beta=0", "--set", "delta=0", "--set", "x=2",
                 "--set", "c=[1,2]",
                 "--tspan", "0", "1", "--saveat", "0.25,0.5", "--rtol", "1e-10",
                 "--atol", "1e-12"])
    assert code == EXIT_OK
    data = np.load(out)
    np.testing.assert_allclose(data["t"], [0, 0.25, 0.5, 1.0])
    # with beta = gamma = delta = 0: x grows as 2 e^(1.5 t), y stays 1
    np.testing.assert_allclose(data["x"], 2 * np.exp(1.5 * data["t"]), rtol=1e-8)
    np.testing.assert_allclose(data["y"], 1.0, rtol=1e-10)
    np.testing.assert_allclose(data["c"][-1], [np.exp(-1), 2 * np.exp(-1)], rtol=1e-8)


@pytest.mark.parametrize("argv, needle", [
    (["--set", "alpah=2"], "did you mean 'alpha'"),
    (["--set", "alpha"], "NAME=VALUE"),
    (["--set", "alpha=fast"], "not a number"),
    (["--set", "total=1"], "observed output"),
    (["--solver", "tsit6"], "did you mean tsit5"),
    (["--saveat", "1.5"], "whole number"),
    (["-o", "out.txt"], ".csv, .npz or .nc"),
])
def test_bad_command_lines_exit_2(model_file, capsys, argv, needle):
    assert main(["run", str(model_file), "--no-progress", *argv]) == EXIT_USAGE
    assert needle in capsys.readouterr().err


def test_model_error_exits_1_with_caret(tmp_path, capsys):
    path = tmp_path / "bad.sf"
    path.write_text(LV.replace("der(x) = alpha*x", "der(x) = alpah*x"))
    assert main(["check", str(path)]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert "undeclared name 'alpah'" in err
    assert f"{path}:13:14" in err
    assert "^^^^^" in err
    assert "Traceback" not in err


def test_solver_failure_exits_3_with_time(tmp_path, capsys):
    path = tmp_path / "blowup.sf"
    path.write_text("""
model Blowup
  variables
    y = 1
  equations
    der(y) = y^2          # y = 1/(1 - t): infinite at t = 1
  simulate
    tspan = [0, 2]
    max_steps = 2000
end
""")
    assert main(["run", str(path), "--no-progress"]) == EXIT_SOLVER
    err = capsys.readouterr().err
    assert "failed at t = 0.99" in err or "failed at t = 1" in err


def test_check_show_compile(model_file, tmp_path, capsys):
    assert main(["check", str(model_file)]) == EXIT_OK
    assert "3 states" in capsys.readouterr().out
    assert main(["show", str(model_file)]) == EXIT_OK
    assert "der(x) = alpha*x - beta*x*y" in capsys.readouterr().out
    assert main(["show", "--latex", str(model_file)]) == EXIT_OK
    assert r"\frac{dx}{dt}" in capsys.readouterr().out
    target = tmp_path / "gen.py"
    assert main(["compile", str(model_file), "-o", str(target)]) == EXIT_OK
    spec = importlib.util.spec_from_file_location("gen", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.PARAMETERS == ("alpha", "beta", "gamma", "delta")


def test_console_script_end_to_end(model_file, tmp_path):
    """The installed command, in a fresh process: argparse errors exit 2 too."""
    result = subprocess.run([sys.executable, "-m", "symflow.cli", "run", str(model_file),
                             "--timings", "--no-progress"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("timings (seconds):\n")[1].splitlines()
    seconds = {line.rsplit(" ", 1)[0].strip(): float(line.rsplit(" ", 1)[1]) for line in table}
    for stage in ("importing JAX and diffrax", "parsing", "building the equations",
                  "generating code", "tracing", "compiling (XLA)", "solving"):
        assert stage in seconds
    total = seconds.pop("total")
    assert sum(seconds.values()) == pytest.approx(total, abs=1e-3)  # the lines add up
    bad = subprocess.run([sys.executable, "-m", "symflow.cli", "run"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == EXIT_USAGE
    missing = subprocess.run([sys.executable, "-m", "symflow.cli", "check",
                              str(tmp_path / "nope.sf")], capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode == EXIT_USAGE and "no such file" in missing.stderr


def test_version_and_python_dash_m(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"symflow {symflow.__version__}"
    result = subprocess.run([sys.executable, "-m", "symflow", "--version"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == f"symflow {symflow.__version__}"


@pytest.mark.parametrize("argv, message", [
    (["--saveat", "1e9"], "7.45 GiB"),  # refused before anything is allocated
    (["--tspan", "0", "nan"], "must have finite ends"),
    (["--tspan", "0", "inf"], "must have finite ends"),
    (["--saveat", "nan,1"], "save time nan is not a finite number"),
])
def test_absurd_or_non_finite_times_are_refused(model_file, capsys, argv, message):
    assert main(["run", str(model_file), "--no-progress", *argv]) == EXIT_MODEL
    assert message in capsys.readouterr().err


def test_every_option_of_every_command_has_help():
    import argparse

    from symflow.cli import parser

    def bare(p: argparse.ArgumentParser, path: str) -> list[str]:
        out = []
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    out += bare(sub, f"{path} {name}")
            elif not action.help:
                out.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
        return out

    assert bare(parser(), "symflow") == []
