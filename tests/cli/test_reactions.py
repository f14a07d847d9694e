"""`symflow run --interpretation` on a reaction network."""

from __future__ import annotations

import numpy as np

from models import model_path
from symflow.cli import EXIT_OK, EXIT_USAGE, main


def test_run_reads_a_network_as_its_rate_equations_or_as_a_langevin_sde(capsys):
    path = str(model_path("birth_death"))
    assert main(["run", path, "--saveat", "3"]) == EXIT_OK
    ode = capsys.readouterr().out
    # X(10) = (k/g)(1 - exp(-10)) = 9.99955
    assert "X(10) = 9.99954" in ode
    assert main(["run", path, "--interpretation", "langevin", "--trajectories", "16",
                 "--saveat", "3"]) == EXIT_OK
    assert "SDE ensemble of 16 trajectories" in capsys.readouterr().out


def test_run_simulates_the_jump_process_and_writes_its_paths(tmp_path, capsys):
    path, out = str(model_path("birth_death")), tmp_path / "paths.npz"
    assert main(["run", path, "--interpretation", "jump", "--trajectories", "200",
                 "--saveat", "3", "-o", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "jump-process ensemble of 200 trajectories solved with direct" in printed
    paths = np.load(out)["X"]
    assert paths.shape == (200, 3) and np.all(paths == np.round(paths))
    # the mean at t = 10 is about k/g = 10 (standard error 0.22)
    assert abs(paths[:, -1].mean() - 10.0) < 1.0


def test_an_unknown_interpretation_is_a_usage_error(capsys):
    path = str(model_path("birth_death"))
    try:
        code = main(["run", path, "--interpretation", "gillespie"])
    except SystemExit as e:  # argparse's choices
        code = int(e.code or 0)
    assert code == EXIT_USAGE
    assert "invalid choice: 'gillespie'" in capsys.readouterr().err


def test_show_lists_the_conservation_laws_and_what_elimination_removes(tmp_path, capsys):
    text = model_path("enzyme").read_text()
    assert main(["show", str(model_path("enzyme")), "--stage", "conservation"]) == EXIT_OK
    kept = capsys.readouterr().out
    assert "2 conservation laws" in kept and "E + C = constant" in kept
    eliminated = tmp_path / "enzyme.sf"
    eliminated.write_text(text.replace("  simulate\n", "  simulate\n    conserved = eliminate\n"))
    assert main(["show", str(eliminated), "--stage", "conservation"]) == EXIT_OK
    assert "E computed from the others (total_E)" in capsys.readouterr().out
    assert main(["show", str(eliminated), "--stage", "simplified"]) == EXIT_OK
    assert "E = -C + total_E" in capsys.readouterr().out
