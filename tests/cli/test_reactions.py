"""`symflow run --interpretation` on a reaction network."""

from __future__ import annotations

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


def test_an_unknown_interpretation_is_a_usage_error(capsys):
    path = str(model_path("birth_death"))
    try:
        code = main(["run", path, "--interpretation", "gillespie"])
    except SystemExit as e:  # argparse's choices
        code = int(e.code or 0)
    assert code == EXIT_USAGE
    assert "invalid choice: 'gillespie'" in capsys.readouterr().err
