"""A structured linear solve for implicit solvers on discretized PDEs.

diffrax's implicit solvers hand their root finder a Jacobian operator and, by
default, materialize it as a dense N×N matrix: on a 10⁴-point heat equation
that is 800 MB and an O(N³) factorization per step. The Jacobian of a 1-D
stencil discretization is banded, with a half-bandwidth `w` known from the
stencils, so:

1. the band is recovered with `2w + 1` Jacobian-vector products on coloured
   seeds (columns `j ≡ c mod 2w+1` together: no two columns of one colour touch
   the same row inside the band; Curtis, Powell and Reid, *On the estimation of
   sparse Jacobian matrices*, IMA J. Appl. Math. 1974) — a tridiagonal Jacobian
   in 3 products, never an N×N array;
2. the band is factored once per Jacobian, in `init`, and every solve with it
   (diffrax's chord iterations: about 12 per Kvaerno5 step) is two sweeps over
   the factors: the Thomas algorithm (`w = 1`), or block-tridiagonal elimination
   with `w×w` blocks (`w > 1`): O(N w²) time and O(N w) memory.

Why not LAPACK's `gtsv` (`lax.linalg.tridiagonal_solve`) for `w = 1`: it factors
again at every call and, on CPU, takes 4x (N = 10⁴) to 8x (N = 10⁵) the time of
the two sweeps over stored factors (a `lax.scan` of one multiply-add per point,
unrolled 4 times; benchmarks/README.md); on the 10⁴-point heat equation it was
half the solve. The Thomas algorithm does not pivot: it is stable for the
diagonally dominant matrices `I - γhJ` of diffusion, and the factors are checked
(every pivot finite and not tiny against its row): a matrix that fails the check
falls back to `gtsv`, which pivots.

`BandedLinearSolver` is a `lineax` solver, given to diffrax's root finder as
`VeryChord(linear_solver=BandedLinearSolver(w))`.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.lax as lax
import jax.numpy as jnp
import lineax as lx

from .probing import band_of

__all__ = ["BandedLinearSolver", "band_matvec", "factor_tridiagonal",
           "sweep_tridiagonal"]


def band_matvec(band: jax.Array, x: jax.Array) -> jax.Array:
    """`A @ x` for `A` given by its band (for tests)."""
    w = (band.shape[0] - 1) // 2
    padded = jnp.pad(x, (w, w))
    n = x.shape[0]
    out = band[0] * padded[:n]
    for d in range(1 - w, w + 1):
        out = out + band[w + d] * padded[w + d: w + d + n]
    return out


def _transpose_band(band: jax.Array) -> jax.Array:
    """`band` of A to band of Aᵀ: Aᵀ[i, i+d] = A[i+d, i] = band[w - d, i + d]."""
    w = (band.shape[0] - 1) // 2
    n = band.shape[1]
    rows = []
    for d in range(-w, w + 1):
        shifted = jnp.roll(band[w - d], -d)
        index = jnp.arange(n)
        rows.append(jnp.where((index + d >= 0) & (index + d < n), shifted, 0.0))
    return jnp.stack(rows)


# Unrolling the sweeps 4 times halves the cost of the loop on CPU; 8 or more is
# slower again (measured at N = 10³ to 10⁵).
_SWEEP_UNROLL = 4
# A pivot smaller than this times the size of its row means the matrix is far from
# diagonally dominant: the unpivoted factors are not trusted.
_PIVOT_FLOOR = 1e-10


def factor_tridiagonal(band: jax.Array
                       ) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """The Thomas factors of a tridiagonal band: `A = L U` with `L` unit lower
    bidiagonal and `U` upper bidiagonal with diagonal `pivot`; returns the
    multipliers of the forward sweep (`lower / pivot` of the previous row is folded
    into the sweep), `1 / pivot`, `upper / pivot`, and whether they can be trusted."""
    lower, diagonal, upper = band[0], band[1], band[2]

    def step(previous, row):  # previous = upper[i-1] / pivot[i-1]
        low, diag, up = row
        pivot = diag - low * previous
        inverse = 1.0 / pivot
        return up * inverse, (inverse, up * inverse, pivot)

    zero = jnp.zeros((), band.dtype)
    _, (inverse, scaled_upper, pivot) = lax.scan(step, zero, (lower, diagonal, upper),
                                                 unroll=_SWEEP_UNROLL)
    size = jnp.abs(lower) + jnp.abs(diagonal) + jnp.abs(upper)
    trusted = jnp.all(jnp.isfinite(inverse) & (jnp.abs(pivot) > _PIVOT_FLOOR * size))
    return lower, inverse, scaled_upper, trusted


def sweep_tridiagonal(factors: tuple[jax.Array, jax.Array, jax.Array],
                      vector: jax.Array) -> jax.Array:
    """Solve with the Thomas factors: `y_i = (b_i - l_i y_{i-1}) / p_i`, then
    `x_i = y_i - (u_i / p_i) x_{i+1}`."""
    lower, inverse, scaled_upper = factors

    def forward(previous, row):
        low, inv, rhs = row
        current = (rhs - low * previous) * inv
        return current, current

    zero = jnp.zeros((), vector.dtype)
    _, partial = lax.scan(forward, zero, (lower, inverse, vector), unroll=_SWEEP_UNROLL)

    def backward(following, row):
        up, part = row
        current = part - up * following
        return current, current

    _, x = lax.scan(backward, zero, (scaled_upper, partial), reverse=True,
                    unroll=_SWEEP_UNROLL)
    return x


def _blocks(band: jax.Array, size: int):
    """The block-tridiagonal form of a banded matrix with blocks `size × size`
    (`size >= w`): lower, diagonal and upper blocks, each `(m, size, size)`; the
    rows past `n` (padding) are the identity."""
    w = (band.shape[0] - 1) // 2
    n = band.shape[1]
    m = -(-n // size)
    a = jnp.arange(size)
    rows = (jnp.arange(m)[:, None, None] * size + a[None, :, None])  # (m, size, 1)

    def gather(block_offset):
        cols = (jnp.arange(m)[:, None, None] + block_offset) * size + a[None, None, :]
        d = cols - rows
        inside = (jnp.abs(d) <= w) & (cols >= 0) & (cols < n) & (rows < n)
        value = band[jnp.clip(d + w, 0, 2 * w), jnp.clip(rows, 0, n - 1)]
        return jnp.where(inside, value, 0.0)

    lower, diagonal, upper = gather(-1), gather(0), gather(1)
    padding = (rows >= n) & (rows == jnp.arange(m)[:, None, None] * size + a[None, None, :])
    diagonal = jnp.where(padding, 1.0, diagonal)
    return lower, diagonal, upper


def _small_inverse(a: jax.Array) -> jax.Array:
    """The inverse of a small square matrix by Gauss–Jordan elimination with partial
    pivoting, unrolled over its columns: element-wise operations that XLA fuses into
    the loop of the block elimination, where `jnp.linalg.inv` is a LAPACK call per
    block (measured 1.5-5x slower for the 2×2 to 7×7 blocks of 1-D PDEs)."""
    size = a.shape[0]
    aug = jnp.concatenate([a, jnp.eye(size, dtype=a.dtype)], axis=1)
    rows = jnp.arange(size)
    for k in range(size):
        p = jnp.argmax(jnp.where(rows >= k, jnp.abs(aug[:, k]), -1.0))
        row_k, row_p = aug[k], aug[p]
        aug = jnp.where((rows == p)[:, None], row_k[None, :], aug).at[k].set(row_p)
        pivot_row = aug[k] / aug[k, k]
        aug = (aug - aug[:, k:k + 1] * pivot_row[None, :]).at[k].set(pivot_row)
    return aug[:, size:]


def _matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """`a @ b` for small blocks, element-wise (fused, see `_small_inverse`)."""
    return (a[:, :, None] * b[None, :, :]).sum(1)


def _factor_blocks(band: jax.Array, size: int):
    """Block Thomas elimination: the inverses of the pivot blocks and the
    eliminated upper blocks."""
    lower, diagonal, upper = _blocks(band, size)

    def step(previous, blocks):
        low, diag, up = blocks
        pivot = diag - _matmul(low, previous)
        inverse = _small_inverse(pivot)
        eliminated = _matmul(inverse, up)
        return eliminated, (inverse, eliminated)

    zero = jnp.zeros((size, size), band.dtype)
    _, (inverses, eliminated) = lax.scan(step, zero, (lower, diagonal, upper),
                                         unroll=_SWEEP_UNROLL)
    return lower, inverses, eliminated


def _solve_blocks(factors, vector: jax.Array, size: int) -> jax.Array:
    lower, inverses, eliminated = factors
    n = vector.shape[0]
    m = inverses.shape[0]
    b = jnp.pad(vector, (0, m * size - n)).reshape(m, size)

    def forward(previous, blocks):
        low, inverse, rhs = blocks
        current = inverse @ (rhs - low @ previous)
        return current, current

    _, partial = lax.scan(forward, jnp.zeros(size, vector.dtype), (lower, inverses, b))

    def backward(following, blocks):
        elim, part = blocks
        current = part - elim @ following
        return current, current

    _, x = lax.scan(backward, jnp.zeros(size, vector.dtype), (eliminated, partial),
                    reverse=True)
    return x.reshape(-1)[:n]


class BandedLinearSolver(lx.AbstractLinearSolver):
    """Solves `A x = b` for a square operator whose matrix is banded, with
    half-bandwidth `bandwidth`, without ever forming it: the band is probed with
    `2*bandwidth + 1` matrix-vector products.

    The operator's input and output must be one flat array (a state vector).
    Entries outside the band are not seen: the bandwidth must be a true bound.
    """

    bandwidth: int = eqx.field(static=True)

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        del options
        n = operator.in_size()
        if n != operator.out_size():
            raise ValueError("BandedLinearSolver needs a square operator")
        band = band_of(operator.mv, n, self.bandwidth)
        return self._state(band)

    def _state(self, band):
        if self.bandwidth == 1:
            band = band.at[0, 0].set(0.0).at[2, -1].set(0.0)  # rows 0 and n-1 end there
            return band, factor_tridiagonal(band)
        return band, _factor_blocks(band, self.bandwidth)

    def compute(self, state, vector, options):
        del options
        band, factors = state
        if self.bandwidth == 1:
            *thomas, trusted = factors
            x = lax.cond(
                trusted, lambda v: sweep_tridiagonal(thomas, v),
                lambda v: lax.linalg.tridiagonal_solve(band[0], band[1], band[2],
                                                       v[:, None])[:, 0],
                vector)
        else:
            x = _solve_blocks(factors, vector, self.bandwidth)
        return x, lx.RESULTS.successful, {}

    def transpose(self, state, options):
        band, _ = state
        return self._state(_transpose_band(band)), options

    def conj(self, state, options):
        return state, options

    def assume_full_rank(self):
        return True
