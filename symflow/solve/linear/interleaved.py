"""Banded implicit solves for 1-D PDEs with several fields, and periodic ones.

The states of a 1-D model with `m` fields are laid out field after field,
`(u_0 .. u_{n-1}, v_0 .. v_{n-1})`; in that order the Jacobian couples `u_i`
with `v_i`, `n` places away, and looks dense to a band solver. Put the states
in the *interleaved* order `(u_0, v_0, u_1, v_1, ...)` and it is banded, with
half-bandwidth at most `m(s + 1) - 1` for stencils of reach `s`
(analysis/band_structure.py proves the bound). The permutation is a reshape and a
transpose (`(m, n) -> (n, m)`), never an index array or an N×N matrix, so
`InterleavedBandedSolver` solves `A x = b` as `P A Pᵀ (P x) = P b` with the
band machinery of `linear/banded.py`: the band of `P A Pᵀ` is probed with coloured
Jacobian-vector products (each through the permutation), factored once per
Jacobian by block-tridiagonal elimination with `w×w` blocks (`w` the
half-bandwidth), and every chord iteration's solve is two sweeps.

**Periodic dimensions.** The wrap-around adds two corners to the band: `P A Pᵀ
= B + U K Uᵀ`, `B` the band without the corners, `U` the `2w` columns of the
identity at the first and last `w` indices and `K` (`2w×2w`) the corner
entries. By the Sherman–Morrison–Woodbury identity

    (B + U K Uᵀ)⁻¹ b = y - Z (I + K Uᵀ Z)⁻¹ K Uᵀ y,   y = B⁻¹ b,  Z = B⁻¹ U,

so the factorization of `B` is reused: `Z` costs `2w` band solves once per
Jacobian (`O(N w)` memory), the capacitance matrix `I + K Uᵀ Z` is `2w×2w`, and
a solve costs one band solve and a rank-`2w` correction. Why not GMRES with the
FFT preconditioner of `linear/krylov.py` here: it needs tens of Krylov steps (each a
Jacobian-vector product) per Newton system, where this is direct; see
benchmarks/README.md ("1-D several fields and periodic"). The cyclic band is
probed with colours that also separate columns across the wrap: `2w + 1`
colours repeat over the first `q⌊M/q⌋` columns (`q = 2w+1`), and the last
`M mod q` columns get a colour each.

`B` (and `I - γhJ` with it) is diagonally dominant for diffusion, which the
unpivoted elimination needs; the tridiagonal case keeps the pivot check and
LAPACK fallback of `linear/banded.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx

from .banded import BandedLinearSolver
from .probing import band_of, cyclic_band_of

if TYPE_CHECKING:
    from ...analysis import BandStructure

__all__ = ["Band", "InterleavedBandedSolver", "interleave", "deinterleave",
           "effective_band"]


@dataclasses.dataclass(frozen=True)
class Band:
    """The band an implicit solve uses: half-bandwidth `width` in the interleaved
    order of `fields` fields, cyclic if `periodic`."""

    width: int
    fields: int = 1
    periodic: bool = False


def interleave(y: jax.Array, fields: int) -> jax.Array:
    """Field-major `(u_0..u_{n-1}, v_0..)` to interleaved `(u_0, v_0, u_1, ...)`."""
    return y.reshape(fields, -1).T.reshape(-1) if fields > 1 else y


def deinterleave(z: jax.Array, fields: int) -> jax.Array:
    """Interleaved to field-major (the inverse of `interleave`)."""
    return z.reshape(-1, fields).T.reshape(-1) if fields > 1 else z


def _split_corners(band: jax.Array):
    """A cyclic band into the band without the corners and the `2w×2w` corner matrix
    `K` on the indices `S = (0..w-1, n-w..n-1)`."""
    w = (band.shape[0] - 1) // 2
    n = band.shape[1]
    index = jnp.arange(n)
    inner = jnp.stack([jnp.where((index + d >= 0) & (index + d < n), band[w + d], 0.0)
                       for d in range(-w, w + 1)])
    corners = jnp.zeros((2 * w, 2 * w), band.dtype)
    for a in range(w):  # row a (top) reaches columns n + a + d for d < -a
        for d in range(-w, -a):
            corners = corners.at[a, w + (a + d + w)].set(band[w + d, a])
    for a in range(w):  # row n - w + a (bottom) reaches columns a + d - w for d >= w - a
        for d in range(w - a, w + 1):
            corners = corners.at[w + a, a + d - w].set(band[w + d, n - w + a])
    return inner, corners


def _cyclic_transpose(band: jax.Array) -> jax.Array:
    """Cyclic band of A to that of Aᵀ: Aᵀ[i, i+d] = A[i+d, i] = band[w - d, i + d]."""
    w = (band.shape[0] - 1) // 2
    return jnp.stack([jnp.roll(band[w - d], -d) for d in range(-w, w + 1)])


def _plain_transpose(band: jax.Array) -> jax.Array:
    w = (band.shape[0] - 1) // 2
    n = band.shape[1]
    index = jnp.arange(n)
    return jnp.stack([jnp.where((index + d >= 0) & (index + d < n), jnp.roll(band[w - d], -d),
                                0.0) for d in range(-w, w + 1)])


class InterleavedBandedSolver(lx.AbstractLinearSolver):
    """Solves `A x = b` for the Jacobian-shaped operator of a 1-D PDE with `fields`
    fields laid out field after field, whose matrix in the interleaved order is
    banded with half-bandwidth `bandwidth` (cyclic if `periodic`): no N×N array.

    Entries outside the (cyclic) band are not seen: the bandwidth must be a true
    bound (analysis/band_structure.py).
    """

    bandwidth: int = eqx.field(static=True)
    fields: int = eqx.field(static=True, default=1)
    periodic: bool = eqx.field(static=True, default=False)

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        del options
        n = operator.in_size()
        if n != operator.out_size():
            raise ValueError("InterleavedBandedSolver needs a square operator")
        if n % self.fields:
            raise ValueError(f"{n} states do not split into {self.fields} fields")
        if self.periodic and n <= 4 * self.bandwidth + 1:
            raise ValueError("a cyclic band needs more than 4w + 1 states")
        f = self.fields

        def permuted(z):
            return interleave(operator.mv(deinterleave(z, f)), f)

        if self.periodic:
            return self._state(cyclic_band_of(permuted, n, self.bandwidth))
        return self._state(band_of(permuted, n, self.bandwidth))

    def _state(self, band):
        inner_solver = BandedLinearSolver(self.bandwidth)
        if not self.periodic:
            return band, inner_solver._state(band), None
        inner, corners = _split_corners(band)
        inner_state = inner_solver._state(inner)
        w, n = self.bandwidth, band.shape[1]
        picked = jnp.concatenate([jnp.arange(w), jnp.arange(n - w, n)])
        unit = jnp.zeros((2 * w, n), band.dtype).at[jnp.arange(2 * w), picked].set(1.0)
        z = jax.vmap(lambda e: self._band_solve(inner_state, e))(unit)  # rows: B⁻¹ e_s
        capacitance = jnp.eye(2 * w, dtype=band.dtype) + corners @ z[:, picked].T
        correction = jnp.linalg.solve(capacitance, corners)  # (I + K Uᵀ Z)⁻¹ K
        return band, inner_state, (z, correction, picked)

    def _band_solve(self, inner_state, vector):
        x, _, _ = BandedLinearSolver(self.bandwidth).compute(inner_state, vector, {})
        return x

    def compute(self, state, vector, options):
        del options
        _, inner_state, woodbury = state
        b = interleave(vector, self.fields)
        y = self._band_solve(inner_state, b)
        if woodbury is not None:
            z, correction, picked = woodbury
            y = y - (correction @ y[picked]) @ z
        return deinterleave(y, self.fields), lx.RESULTS.successful, {}

    def transpose(self, state, options):
        band = state[0]
        return self._state(_cyclic_transpose(band) if self.periodic
                           else _plain_transpose(band)), options

    def conj(self, state, options):
        return state, options

    def assume_full_rank(self):
        return True


def _probe(rhs, t0, y, params, structure, bound: int) -> jax.Array:
    """The (cyclic) band at half-bandwidth `bound` of the Jacobian at `y`, interleaved."""
    f = structure.fields
    _, linear = jax.linearize(lambda z: rhs(jnp.asarray(t0), z, params), y)

    def permuted(z):
        return interleave(linear(deinterleave(z, f)), f)

    n = y.shape[0]
    return (cyclic_band_of if structure.periodic else band_of)(permuted, n, bound)


def effective_band(rhs: Callable, t0: float, n: int, params: Mapping[str, Any],
                   structure: BandStructure) -> Band | None:
    """The band actually used by `rhs` within the proven bound of `structure`
    (`analysis.BandStructure`): probed at a random state in the interleaved order,
    the outermost diagonal with a nonzero entry kept (at least 1); `None` when the
    grid is too small for a cyclic band (then the dense solve is as cheap)."""
    bound = min(structure.bound, n - 1)
    if structure.periodic and n <= 2 * bound:
        return None
    y = jax.random.normal(jax.random.key(0), (n,))
    band = jax.jit(lambda y, p: _probe(rhs, t0, y, p, structure, bound))(y, params)
    used = jnp.any(band != 0, axis=1).tolist()
    width = max([1, *(abs(d) for d, u in zip(range(-bound, bound + 1), used) if u)])
    if structure.periodic and n <= 4 * width + 1:
        return None
    return Band(width, structure.fields, structure.periodic)
