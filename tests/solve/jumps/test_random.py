"""The unrolled Threefry of the jump loop: `jax.random.fold_in`'s keys, and uniforms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from symflow.solve.jumps.random import fold_in, uniforms


def test_fold_in_is_jax_random_fold_in():
    key = jax.random.PRNGKey(42)
    for data in (0, 1, 7, 123_456, 2**31 + 5, 2**32 - 1):
        np.testing.assert_array_equal(np.asarray(fold_in(key, jnp.asarray(data))),
                                      np.asarray(jax.random.fold_in(key, data)))


def test_uniforms_lie_in_the_unit_interval_and_are_uniform():
    key = jax.random.PRNGKey(3)
    u = np.asarray(jax.jit(jax.vmap(lambda d: uniforms(fold_in(key, d), 2, jnp.float64)))(
        jnp.arange(20_000)))
    assert u.dtype == np.float64 and u.min() >= 0 and u.max() < 1
    # the mean and variance of U(0, 1), 1/2 and 1/12, within 4 standard errors
    assert np.all(np.abs(u.mean(axis=0) - 0.5) < 4 * np.sqrt(1 / 12 / u.shape[0]))
    assert np.all(np.abs(u.var(axis=0) - 1 / 12) < 4 * np.sqrt(1 / 180 / u.shape[0]))
    assert abs(np.corrcoef(u.T)[0, 1]) < 4 / np.sqrt(u.shape[0])
    assert np.unique(u[:, 0]).size == u.shape[0]  # 52 bits: no repeats here
    single = np.asarray(uniforms(key, 1000, jnp.float32))
    assert single.dtype == np.float32 and single.min() >= 0 and single.max() < 1
