"""Ensembles: chunked and sharded runs equal the plain vmapped one; ODE parameter sweeps."""

import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symflow
from models import model_text

ROOT = pathlib.Path(__file__).resolve().parents[3]

GBM = model_text("gbm_ensemble")


@pytest.fixture(scope="module")
def gbm():
    return symflow.loads(GBM)


def test_chunked_equals_vmapped(gbm):
    whole = gbm.simulate()
    chunked = gbm.simulate(chunk_size=3)  # 10 = 3 + 3 + 3 + 1
    np.testing.assert_array_equal(np.asarray(whole["S"]), np.asarray(chunked["S"]))
    assert whole["S"].shape == (10, 5)
    paths = np.asarray(whole["S"])
    np.testing.assert_allclose(np.asarray(whole.mean["S"]), paths.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(whole.std["S"]), paths.std(axis=0, ddof=1),
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(whole.quantile("S", 0.25)),
                               np.quantile(paths, 0.25, axis=0), rtol=1e-12)
    # Different trajectories follow different paths; the same seed repeats them.
    assert np.unique(paths[:, -1]).size == 10
    np.testing.assert_array_equal(np.asarray(gbm.simulate()["S"]), paths)
    assert not np.array_equal(np.asarray(gbm.simulate(seed=4)["S"]), paths)


def test_stats_only_keeps_no_paths(gbm):
    sol = gbm.simulate(stats_only=True)
    assert sol.paths is None and sol.mean["S"].shape == (5,)
    # The quantiles are computed eagerly here (no paths to compute them from
    # later), and equal those computed on demand from the kept paths.
    assert sol.given_quantiles is not None
    full = gbm.simulate()
    assert full.given_quantiles is None
    levels = full.quantile_levels
    np.testing.assert_allclose(np.asarray(full.quantiles["S"]),
                               np.quantile(np.asarray(full["S"]), levels, axis=0),
                               rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(sol.quantiles["S"]),
                                  np.asarray(full.quantiles["S"]))
    with pytest.raises(symflow.SymflowError, match="statistics only"):
        sol["S"]


def test_trajectories_below_one_is_an_error(gbm):
    with pytest.raises(symflow.SymflowError, match="at least 1"):
        gbm.simulate(trajectories=0)


SHARDED = textwrap.dedent('''
    import os, sys
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    import symflow
    assert len(jax.devices()) == 4, jax.devices()
    mesh = jax.make_mesh((4,), ("trajectories",))
    m = symflow.loads(sys.stdin.read())
    plain = m.simulate()
    sharded = m.simulate(mesh=mesh)  # 10 trajectories on 4 devices: padded to 12
    np.testing.assert_array_equal(np.asarray(plain["S"]), np.asarray(sharded["S"]))
    for stat in ("mean", "std"):
        np.testing.assert_allclose(np.asarray(getattr(plain, stat)["S"]),
                                   np.asarray(getattr(sharded, stat)["S"]), rtol=1e-12)
    even = m.simulate(mesh=mesh, trajectories=8)  # no padding: sharded in the program
    assert len(even.paths["S"].sharding.device_set) == 4, even.paths["S"].sharding
    np.testing.assert_array_equal(np.asarray(even["S"]), np.asarray(plain["S"])[:8])
    print("sharded == unsharded")
''')


@pytest.mark.slow
def test_sharded_equals_unsharded():
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", SHARDED], input=GBM, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sharded == unsharded" in result.stdout


DECAY = """
model Decay
  parameters
    k = 1.0
  variables
    x = 2.0
  equations
    der(x) = -k*x
  simulate
    tspan = [0, 2]
    saveat = 3
    solver = tsit5
    rtol = 1e-10
    atol = 1e-12
end
"""


def test_ode_parameter_sweep():
    m = symflow.loads(DECAY)
    ks = np.linspace(0.5, 2.0, 7)
    sol = m.simulate(sweep={"k": ks})
    exact = 2.0 * np.exp(-np.outer(ks, np.asarray(sol.t)))
    np.testing.assert_allclose(np.asarray(sol["x"]), exact, rtol=1e-8)
    np.testing.assert_array_equal(np.asarray(sol.sweep["k"]), ks)
    with pytest.raises(symflow.SymflowError, match="no such parameter"):
        m.simulate(sweep={"q": ks})
