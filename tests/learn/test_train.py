"""Training closures with the physics: the loss falls, frozen values stay put, and
the CLI trains on windows in mini-batches, saves the weights and runs with them."""

from __future__ import annotations

import pathlib

import jax
import numpy as np
import pytest

import symflow
from symflow import SymflowError
from symflow.cli import main
from symflow.learn import load_data

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lotka_volterra_ude.sf"
DATA = ROOT / "examples" / "lotka_volterra_ude_data.csv"

# The example with a tiny network on the first second of the data (9 points).
SMALL = EXAMPLE.read_text().replace("width = 16, depth = 2", "width = 4, depth = 1").replace(
    "tspan  = [0, 5]", "tspan  = [0, 1]")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ude")
    data = load_data(DATA)
    keep = data.t <= 1.0 + 1e-12
    path = folder / "data.csv"
    with open(path, "w") as f:
        f.write("t,x,y\n")
        for t, x, y in zip(data.t[keep], data.columns["x"][keep], data.columns["y"][keep]):
            f.write(f"{float(t)!r},{float(x)!r},{float(y)!r}\n")
    model = folder / "small.sf"
    model.write_text(SMALL)
    return symflow.load(model), path, model


@pytest.mark.slow
def test_training_lowers_the_loss_and_keeps_frozen_values(small):
    m, data, _ = small
    r = m.fit(str(data), freeze=["alpha"], steps=40, learning_rate=0.02)
    assert r.trained == ("delta", "U1_U2") and r.frozen == ("alpha",)
    assert np.all(np.isfinite(r.losses))
    # the untrained closure misses the data badly; 40 steps must cut the error by 5x
    assert r.final_loss < 0.2 * r.losses[0], (r.losses[0], r.final_loss)
    assert float(r.params["alpha"]) == 1.3
    assert float(r.params["delta"]) != 1.8
    before = jax.tree.leaves(m.params["closures"]["U1_U2"])
    after = jax.tree.leaves(r.params["closures"]["U1_U2"])
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    # the reported loss is the model's error at the returned parameters
    sol = m.simulate(r.params, saveat=np.linspace(0, 1, 9))
    d = np.loadtxt(data, delimiter=",", skiprows=1)
    mse = np.mean((np.stack([sol["x"], sol["y"]], 1) - d[:, 1:]) ** 2)
    np.testing.assert_allclose(mse, r.final_loss, rtol=1e-6)


def test_training_mistakes_are_reported(small):
    m, data, _ = small
    with pytest.raises(SymflowError, match="no parameter or closure named 'U9'"):
        m.fit(str(data), freeze=["U9"], steps=1)
    with pytest.raises(SymflowError, match="nothing to train"):
        m.fit(str(data), freeze=["alpha", "delta", "U2"], steps=1)
    with pytest.raises(SymflowError, match="window must be between 2"):
        m.fit(str(data), window=50, steps=1)


@pytest.mark.slow  # three more compiles (fit, run, and the windows' vmapped step)
def test_cli_trains_saves_weights_and_runs_with_them(small, tmp_path, capsys):
    _, data, model = small
    weights = tmp_path / "w.eqx"
    code = main(["fit", str(model), "--data", str(data), "--steps", "4", "--freeze",
                 "alpha,delta", "--window", "3", "--batch", "2", "--save-weights",
                 str(weights), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "trained U1_U2" in out and "frozen: alpha, delta" in out and weights.exists()
    assert "(4 items, batches of 2)" in out and "2 steps)" in out  # windows of 3 points
    code = main(["run", str(model), "--weights", str(weights)])
    out = capsys.readouterr().out
    assert code == 0 and "x(1) = " in out
    bad = tmp_path / "bad.sf"
    bad.write_text(SMALL.replace("width = 4", "width = 5"))
    code = main(["run", str(bad), "--weights", str(weights)])
    err = capsys.readouterr().err
    assert code == 1 and "width is 4 in the file but 5 in the model" in err


@pytest.mark.slow  # two compiles of the training step: about 20 s
def test_training_adjoint_gives_the_replay_gradient(small):
    """Training solves take diffrax's checkpointed adjoint unless told otherwise; it
    must give the same steps as `simulate`'s own replay adjoint (both differentiate the
    same discrete solve), so the losses of a few steps agree to rounding."""
    from symflow.learn import TRAINING_ADJOINT

    m, data, _ = small
    default = m.fit(str(data), freeze=["alpha"], steps=5, learning_rate=0.02, window=3)
    assert default.options["adjoint"] is TRAINING_ADJOINT
    replay = m.fit(str(data), freeze=["alpha"], steps=5, learning_rate=0.02, window=3,
                   adjoint="checkpoint")
    assert replay.options["adjoint"] == "checkpoint"
    assert default.losses[-1] < default.losses[0]
    np.testing.assert_allclose(default.losses, replay.losses, rtol=1e-9)


@pytest.mark.slow
def test_a_second_training_on_new_data_of_the_same_layout_does_not_trace():
    """The compiled step is kept on the model (counted by the calls of `simulate`,
    which only a trace makes)."""
    from models import model_text
    from symflow.learn import train

    m = symflow.loads(model_text("decay"))
    calls = []
    simulate = m.simulate
    m.simulate = lambda *a, **k: calls.append(1) or simulate(*a, **k)  # type: ignore
    ts = np.linspace(0.1, 1.0, 6)
    first = train(m, {"t": ts, "x": np.exp(-1.5 * ts)}, steps=40, learning_rate=0.1)
    traced = len(calls)
    assert traced > 0
    second = train(m, {"t": ts, "x": np.exp(-3.0 * ts)}, steps=40, learning_rate=0.1)
    assert len(calls) == traced
    # each run fitted its own data, from the default k = 2
    assert float(first.params["k"]) < 2.0 < float(second.params["k"])
