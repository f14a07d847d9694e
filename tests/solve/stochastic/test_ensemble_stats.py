"""Ensemble statistics: the quantiles (an integer sort of the floats) against NumPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from symflow.solve.stochastic.solution import _quantiles


@pytest.mark.parametrize("shape", [(1000, 9), (7, 3, 4)])
def test_quantiles_match_numpy(shape):
    x = np.array(jax.random.normal(jax.random.PRNGKey(1), shape))
    x[0] = -0.0  # signed zeros and ties sort like floats
    x[-1] = x[-2] if x.shape[0] > 2 else x[-1]
    levels = np.array([0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])
    got = np.asarray(jax.jit(_quantiles)(jnp.asarray(x), jnp.asarray(levels)))
    want = np.quantile(x, levels, axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)
