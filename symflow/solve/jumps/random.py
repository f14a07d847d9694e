"""The random numbers of a jump loop: Threefry-2x32, unrolled, in counter mode.

Each pass of a jump loop needs a fresh key and two uniforms per trajectory.
`jax.random.fold_in` and `jax.random.uniform` compute the same Threefry-2x32
hash (Salmon et al. 2011), but on the CPU JAX lowers it as a rolled loop
of five iterations, one per call: two small `while` loops, each several
kernels, in every pass of the jump loop. Written out here in `jnp`, XLA fuses
the 20 rounds into the pass's other elementwise work.

`fold_in(key, data)` equals `jax.random.fold_in` for raw `uint32[2]` keys (the
tests check it); `uniforms(key, n, dtype)` draws `n` uniforms in `[0, 1)` from
the hash of the counters `0 .. n-1` under `key` (52 random bits for float64,
23 for float32).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["fold_in", "threefry2x32", "uniforms"]

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def _rotate_left(x: jax.Array, d: int) -> jax.Array:
    return jnp.left_shift(x, np.uint32(d)) | jnp.right_shift(x, np.uint32(32 - d))


def threefry2x32(key: jax.Array, x0: jax.Array, x1: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Threefry-2x32 with 20 rounds of the counter words `(x0, x1)` (uint32 arrays of
    one shape) under `key` (uint32[2]): the hash of `jax.random`'s threefry."""
    k0, k1 = key[0], key[1]
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0, x1 = x0 + ks[0], x1 + ks[1]
    for block in range(5):
        for r in _ROTATIONS[block % 2]:
            x0 = x0 + x1
            x1 = _rotate_left(x1, r) ^ x0
        x0 = x0 + ks[(block + 1) % 3]
        x1 = x1 + ks[(block + 2) % 3] + np.uint32(block + 1)
    return x0, x1


def fold_in(key: jax.Array, data: jax.Array | int) -> jax.Array:
    """A new key from `key` and a non-negative integer below 2^32 (`jax.random.fold_in`)."""
    y0, y1 = threefry2x32(key, jnp.zeros((), dtype=jnp.uint32), jnp.asarray(data).astype(
        jnp.uint32))
    return jnp.stack([y0, y1])


def uniforms(key: jax.Array, n: int, dtype: jnp.dtype) -> jax.Array:
    """`n` independent uniforms in `[0, 1)` of `dtype` (float64 or float32)."""
    hi, lo = threefry2x32(key, jnp.zeros(n, dtype=jnp.uint32), jnp.arange(n, dtype=jnp.uint32))
    if jnp.dtype(dtype) == jnp.float64:
        bits = jnp.left_shift(hi.astype(jnp.uint64), np.uint64(20)) | jnp.right_shift(
            lo.astype(jnp.uint64), np.uint64(12))  # the top 52 of the 64 bits
        return bits.astype(jnp.float64) * 2.0**-52
    return jnp.right_shift(hi, np.uint32(9)).astype(dtype) * 2.0**-23
