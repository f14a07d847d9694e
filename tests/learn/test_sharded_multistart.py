"""A multistart batch sharded over devices (four simulated CPU devices, in a fresh
process: the device count is fixed when JAX starts) reaches the same ends as the
batch on one device."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

SHARDED = textwrap.dedent('''
    import os, sys
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    sys.path.insert(0, "tests")
    import jax
    import numpy as np
    import symflow
    from models import model_text
    assert len(jax.devices()) == 4, jax.devices()
    m = symflow.loads(model_text("decay_product"))  # k1 in [0.1, 10], k2 = 2
    t = np.linspace(0.2, 1.0, 5)
    data = {"t": t, "x": np.exp(-2.6 * t)}
    mesh = jax.make_mesh((4,), ("starts",))
    plain = m.fit(data, ["k1"], starts=6, batched=True)
    sharded = m.fit(data, ["k1"], starts=6, mesh=mesh)  # 6 starts: padded to 8, cut back
    assert sharded.multistart.batched and sharded.multistart.values.shape == (6,)
    np.testing.assert_allclose(sharded.multistart.values, plain.multistart.values,
                               rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(sharded.multistart.steps, plain.multistart.steps)
    assert abs(sharded.values["k1"] - 1.3) < 1e-6
    print("sharded == unsharded")
''')


@pytest.mark.slow  # a fresh process and two compiled batches: about 15 s
def test_a_sharded_multistart_equals_the_unsharded_one():
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", SHARDED], env=env, capture_output=True,
                            text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sharded == unsharded" in result.stdout
