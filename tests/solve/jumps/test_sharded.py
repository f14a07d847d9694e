"""A jump ensemble sharded over devices (four simulated CPU devices, in a fresh
process: the device count is fixed when JAX starts) equals the unsharded one."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]

SHARDED = textwrap.dedent('''
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    from symflow.solve.jumps import JumpProgram, simulate_jumps
    assert len(jax.devices()) == 4, jax.devices()
    program = JumpProgram(lambda t, n, p: jnp.stack([p["k"], p["g"] * n[0]]),
                          np.array([[1], [-1]]), ("X",))
    mesh = jax.make_mesh((4,), ("trajectories",))
    run = lambda n, mesh: simulate_jumps(program, [2], {"k": 5.0, "g": 1.0}, [0.0, 1.0, 2.0],
                                         trajectories=n, seed=3, mesh=mesh)
    plain = run(10, None)
    sharded = run(10, mesh)  # 10 trajectories on 4 devices: padded to 12, cut back
    np.testing.assert_array_equal(np.asarray(plain["X"]), np.asarray(sharded["X"]))
    np.testing.assert_allclose(np.asarray(plain.std["X"]), np.asarray(sharded.std["X"]),
                               rtol=1e-12)
    assert sharded["X"].shape == (10, 3) and sharded.result.shape == (10,)
    print("sharded == unsharded")
''')


@pytest.mark.slow  # a fresh process and two compiles: about 8 s, over this suite's budget
def test_sharded_equals_unsharded():
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", SHARDED], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sharded == unsharded" in result.stdout
