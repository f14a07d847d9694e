"""Recovering a sparse Jacobian from a few Jacobian-vector products on coloured seeds.

Columns that never touch the same row inside the sparsity pattern share a colour
and are probed together (Curtis, Powell and Reid, *On the estimation of sparse
Jacobian matrices*, IMA J. Appl. Math. 1974): a band of half-width `w` in `2w + 1`
products (`band_of`), a cyclic band likewise with colours that also separate the
columns across the wrap (`cyclic_band_of`), and the 3x3(x3) neighbourhoods of a
2-D/3-D grid in `3^d * fields` products (`stencil_probe`, `point_blocks`). The
banded, interleaved and Krylov solves and the stiffness estimates all probe here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

__all__ = ["band_of", "colours", "cyclic_band_of", "neighbour_colours", "point_blocks",
           "stencil_probe"]


def band_of(matvec: Callable[[jax.Array], jax.Array], n: int, bandwidth: int,
                   dtype: DTypeLike = float) -> jax.Array:
    """The band of a linear map's matrix from `2w+1` products: `band[w + d, i] = A[i, i + d]`
    (zero where `i + d` is off the matrix)."""
    colors = 2 * bandwidth + 1
    index = jnp.arange(n)
    seeds = (index[None, :] % colors == jnp.arange(colors)[:, None]).astype(dtype)
    compressed = jax.vmap(matvec)(seeds)  # (colors, n): row c is A @ seed_c
    rows = []
    for d in range(-bandwidth, bandwidth + 1):
        column = index + d
        value = compressed[column % colors, index]
        rows.append(jnp.where((column >= 0) & (column < n), value, 0.0))
    return jnp.stack(rows)


def cyclic_colours(n: int, bandwidth: int) -> tuple[jax.Array, int]:
    """A colour per column such that two columns within cyclic distance `2w` differ:
    `j mod q` over the first `q⌊n/q⌋` columns, a colour of its own for each of the
    rest (a column `a` before a full block's end and `b` after the start are
    `n - a + b` apart cyclically; equal colours `a ≡ b mod q` would need that to
    be at least `q`)."""
    q = 2 * bandwidth + 1
    full = (n // q) * q
    index = jnp.arange(n)
    return jnp.where(index < full, index % q, q + index - full), q + n - full


def cyclic_band_of(matvec: Callable[[jax.Array], jax.Array], n: int, bandwidth: int,
                   dtype: DTypeLike = float) -> jax.Array:
    """The cyclic band of a linear map's matrix: `band[w + d, i] = A[i, (i + d) mod n]`,
    from at most `4w + 1` products (needs `n > 2w`, so that the diagonals are distinct)."""
    colour, colours = cyclic_colours(n, bandwidth)
    seeds = (colour[None, :] == jnp.arange(colours)[:, None]).astype(dtype)
    compressed = jax.vmap(matvec)(seeds)
    index = jnp.arange(n)
    return jnp.stack([compressed[colour[(index + d) % n], index]
                      for d in range(-bandwidth, bandwidth + 1)])


def colours(shape: tuple[int, ...]) -> jax.Array:
    """The colour of every grid point (flat, x-major): `Σ (i_k mod 3) 3^k`."""
    index = jnp.indices(shape).reshape(len(shape), -1)
    return sum((index[k] % 3) * 3 ** k for k in range(len(shape)))


def stencil_probe(matvec: Callable[[jax.Array], jax.Array], shape: tuple[int, ...],
                  fields: int) -> jax.Array:
    """Products of a linear map on `fields` stacked grid arrays with `3^d * fields`
    coloured seeds: `out[c, g, f, q]` is row `(f, q)` of the map applied to the
    points of colour `c` in field `g`, which is `A[(f, q), (g, q + o)]` for the one
    offset `o` in the 3×3(×3) box around `q` whose point has colour `c`."""
    points = math.prod(shape)
    colour = colours(shape)
    ncol = 3 ** len(shape)
    seeds = (colour[None, :] == jnp.arange(ncol)[:, None]).astype(float)  # (ncol, P)
    eye = jnp.eye(fields)
    stacked = (eye[None, :, :, None] * seeds[:, None, None, :]).reshape(ncol * fields,
                                                                         fields * points)
    return jax.vmap(matvec)(stacked).reshape(ncol, fields, fields, points)


def neighbour_colours(shape: tuple[int, ...], axis: int, step: int) -> jax.Array:
    index = jnp.indices(shape).reshape(len(shape), -1)
    index = index.at[axis].add(step)
    return sum((index[k] % 3) * 3 ** k for k in range(len(shape)))


def point_blocks(matvec: Callable[[jax.Array], jax.Array], shape: tuple[int, ...],
                  fields: int) -> jax.Array:
    """The `fields × fields` diagonal blocks, `blocks[p, f, g] = A[(f, p), (g, p)]`."""
    compressed = stencil_probe(matvec, shape, fields)
    points = math.prod(shape)
    blocks = compressed[colours(shape), :, :, jnp.arange(points)]  # (P, g, f)
    return jnp.swapaxes(blocks, 1, 2)
