"""The `symflow run` options for SDEs and ensembles."""

import numpy as np

from symflow.cli import EXIT_MODEL, EXIT_OK, EXIT_USAGE, main

OU = """
model OU
  parameters
    theta = 1.0
    sigma = 0.5
  variables
    x = 1.0
  brownian
    W
  equations
    d(x) = -theta*x*dt + sigma*dW
  simulate
    tspan = [0, 1]
    dt = 0.05
    saveat = 5
    trajectories = 64
end
"""


def test_run_ensemble_stats_only_with_fan_chart(tmp_path, capsys):
    model = tmp_path / "ou.sf"
    model.write_text(OU)
    out, png = tmp_path / "ou.npz", tmp_path / "fan.png"
    code = main(["run", str(model), "--stats-only", "--seed", "7", "-o", str(out),
                 "--plot", str(png)])
    assert code == EXIT_OK
    printed = capsys.readouterr().out
    assert "SDE ensemble of 64 trajectories solved with shark" in printed
    data = np.load(out)
    assert "x" not in data.files and data["mean_x"].shape == (5,)
    # exact OU mean exp(-theta t) within 5 standard errors (sd <= 0.5/sqrt(2))
    assert np.all(np.abs(data["mean_x"] - np.exp(-data["t"])) < 5 * 0.36 / 8)
    assert png.stat().st_size > 1000


def test_bad_sweep_and_invalid_solver(tmp_path, capsys):
    model = tmp_path / "ou.sf"
    model.write_text(OU)
    assert main(["run", str(model), "--sweep", "theta=1:2"]) == EXIT_USAGE
    assert "NAME=A:B:N" in capsys.readouterr().err
    assert main(["run", str(model), "--sweep", "nope=1:2:3"]) == EXIT_USAGE
    model.write_text(OU.replace("sigma*dW", "sigma*x*dW"))
    assert main(["run", str(model), "--solver", "shark"]) == EXIT_MODEL
    assert "valid solvers here: auto, euler, milstein" in capsys.readouterr().err
