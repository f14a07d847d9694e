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


def test_run_save_noise_writes_the_brownian_paths(tmp_path, capsys):
    """With theta = 0 the model is x = 1 + sigma W(t), exactly for any solver: the
    saved paths W must reproduce x trajectory by trajectory."""
    model = tmp_path / "ou.sf"
    model.write_text(OU)
    out = tmp_path / "ou.npz"
    assert main(["run", str(model), "--set", "theta=0", "--save-noise", "--trajectories",
                 "8", "--solver", "euler", "-o", str(out)]) == EXIT_OK
    data = np.load(out)
    assert data["W"].shape == data["x"].shape == (8, 5)
    np.testing.assert_allclose(data["x"], 1.0 + 0.5 * data["W"], atol=1e-12)
    assert np.all(np.std(data["W"][:, -1]) > 0)


def test_save_noise_is_for_sdes(tmp_path, capsys):
    model = tmp_path / "decay.sf"
    model.write_text("model D\n  variables\n    x = 1.0\n  equations\n    der(x) = -x\nend\n")
    assert main(["run", str(model), "--save-noise", "--trajectories", "2"]) == EXIT_USAGE
    assert "--save-noise is for SDE models" in capsys.readouterr().err
