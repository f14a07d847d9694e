"""`symflow run` with kept programs: a second run answers from the program kept by
the first, `--set` values are its inputs, and damaged entries are rebuilt."""

import subprocess
import sys

import numpy as np
import pytest

from models import model_path
from symflow.cli import EXIT_OK, main

ROBERTSON = str(model_path("robertson_example"))
HIT = "loading the compiled program (XLA cache)"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache folder, and Equinox's runtime checks as the command line sets them
    before Equinox loads (NaNs, not host callbacks, which no program can keep); in
    this process Equinox loaded earlier and reads its module setting."""
    import jax

    monkeypatch.setenv("SYMFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("equinox._errors.EQX_ON_ERROR", "nan")
    jax.clear_caches()  # no program traced with the other setting is reused
    yield tmp_path / "cache"
    jax.clear_caches()


def _run(capsys, *argv: str) -> tuple[str, dict[str, float]]:
    assert main(["run", ROBERTSON, "--no-progress", "--timings", *argv]) == EXIT_OK
    out = capsys.readouterr().out
    values = {line.split("(")[0].strip(): float(line.split("=")[1])
              for line in out.splitlines() if "(100000) =" in line}
    return out, values


def test_the_second_run_answers_from_the_kept_program(cache, capsys):
    first, values = _run(capsys)
    assert HIT not in first and "tracing" in first
    # the solve, and the program of its observed output `mass` (not an alias)
    assert len(list((cache / "programs").glob("*.program"))) == 2
    second, kept = _run(capsys)
    assert HIT in second and "tracing" not in second and "parsing" not in second
    assert kept == values


def test_set_values_are_inputs_of_the_kept_program(cache, capsys):
    _run(capsys, "--set", "k1=0.04")
    out, kept = _run(capsys, "--set", "k1=0.08", "--set", "y1=2")
    assert HIT not in out  # another set of names given: another program
    out, kept = _run(capsys, "--set", "k1=0.02", "--set", "y1=3")
    assert HIT in out
    import symflow

    sol = symflow.load(ROBERTSON).simulate(params={"k1": 0.02}, initial={"y1": 3.0})
    for name in ("y1", "y2", "y3"):
        np.testing.assert_allclose(kept[name], float(sol[name][-1]), rtol=1e-7)
    assert kept["mass"] == pytest.approx(3.0)


def test_a_truncated_program_is_rebuilt(cache, capsys):
    _, values = _run(capsys)
    (path,) = (p for p in (cache / "programs").glob("*.program")
               if not p.stem.endswith("-observed"))
    path.write_bytes(path.read_bytes()[:100])
    out, again = _run(capsys)
    assert HIT not in out and again == values
    assert len(path.read_bytes()) > 100
    assert HIT in _run(capsys)[0]


def test_an_edited_model_is_compiled_anew(cache, capsys, tmp_path):
    model = tmp_path / "robertson.sf"
    model.write_text(model_path("robertson_example").read_text())
    assert main(["run", str(model), "--no-progress"]) == EXIT_OK
    model.write_text(model.read_text().replace("0.04", "0.08"))
    assert main(["run", str(model), "--no-progress", "--timings"]) == EXIT_OK
    assert HIT not in capsys.readouterr().out


def test_writing_a_file_uses_the_kept_program(cache, capsys, tmp_path):
    _run(capsys)
    out = tmp_path / "out.csv"
    text, _ = _run(capsys, "-o", str(out))
    assert "tracing" not in text and out.exists()


@pytest.mark.slow
def test_processes_compiling_one_model_at_once_all_succeed(cache):
    env = {**__import__("os").environ, "SYMFLOW_CACHE": str(cache)}
    command = [sys.executable, "-m", "symflow", "run", ROBERTSON, "--no-progress"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(3)]
    outputs = [p.communicate(timeout=300)[0] for p in runs]
    assert all(p.returncode == 0 for p in runs)
    assert len(set(outputs)) == 1
    again = subprocess.run([*command, "--timings"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert HIT in again.stdout
    assert again.stdout.split("timings")[0] == outputs[0]


@pytest.mark.slow  # three runs (the default suite's hits read `mass`, an output)
def test_observed_outputs_of_a_kept_run_follow_set_values(cache, capsys, examples_dir):
    """A component model's observed outputs on a hit: aliases of a state, of a
    parameter given with --set, of a number, and computed ones, as a full solve
    gives them."""
    import symflow

    rc = str(examples_dir / "rc_circuit.sf")
    argv = ["run", rc, "--no-progress", "--timings", "--set", "s.V=2"]
    assert main(argv) == EXIT_OK
    assert HIT not in capsys.readouterr().out
    assert main([*argv[:-1], "s.V=3"]) == EXIT_OK
    out = capsys.readouterr().out
    assert HIT in out and "parsing" not in out
    kept = {line.split("(")[0].strip(): float(line.split("=")[1])
            for line in out.splitlines() if "(5) =" in line}
    sol = symflow.load(rc).simulate(params={"s.V": 3.0})
    assert set(kept) == set(sol.names)
    for name in sol.names:
        assert kept[name] == pytest.approx(float(sol[name][-1]), rel=1e-7, abs=1e-12), name
    assert kept["s.p.v"] == 3.0 and kept["c.n.v"] == 0.0  # a parameter's, a number's alias


@pytest.mark.slow  # two runs
def test_a_model_with_many_computed_outputs_keeps_no_observed_program(
        cache, capsys, examples_dir, monkeypatch):
    """Past `KEEP_OBSERVED` computed outputs only the solve is kept: the next run loads
    the model, reuses the kept solve and prints the same numbers."""
    from symflow.cli import _kept

    monkeypatch.setattr(_kept, "KEEP_OBSERVED", 1)
    argv = ["run", str(examples_dir / "rc_circuit.sf"), "--no-progress", "--timings"]
    assert main(argv) == EXIT_OK
    first = capsys.readouterr().out
    assert [p.stem.endswith("-observed") for p in (cache / "programs").glob("*.program")] \
        == [False]
    assert main(argv) == EXIT_OK
    second = capsys.readouterr().out
    assert HIT not in second and "parsing" in second and "tracing" not in second
    assert second.split("timings")[0] == first.split("timings")[0]
