"""Matrix-free implicit solves for PDEs on 2-D and 3-D grids: Newton–Krylov.

On a grid of N points the Jacobian of the discretized system is sparse but no
longer banded (a 5-point Laplacian couples each point to neighbours N^(1/2)
places away in the flat vector), so the 1-D banded solve does not apply and a
dense N×N Jacobian is out of the question (128×128 points and two fields: 8.6 GB).
Instead, each Newton iteration of the implicit stages solves its linear system
`(I - γh J) δ = -r` with GMRES (Saad and Schultz, SIAM J. Sci. Stat. Comput.
1986) on the exact Jacobian-vector product, one `jax.jvp` of the right-hand
side per Krylov step: the Jacobian is never formed.

GMRES converges in few steps only with a preconditioner. Here, on grids
periodic along every axis, `fft_block_preconditioner` (pointwise `F×F` blocks
of the reaction part times the exact FFT inverse of the constant-coefficient
diffusion part); on grids with Dirichlet, Neumann or Robin ends whose kinds the
model gives (`boundaries`), the same with the DST/DCT of those ends
(`_spectral_preconditioner.py`); otherwise `adi_preconditioner`
(alternating-direction line solves per field, factored once per Newton
matrix). All are built from the
point blocks and nearest-neighbour entries of the matrix, probed with
`3^d * F` Jacobian-vector products on coloured seeds: the points of one colour
lie 3 apart along every axis, so two of them never meet in the 3×3(×3) neighbourhood an order-2 stencil
reads (Curtis, Powell and Reid 1974, as for the banded solve). A wider stencil
(order 4, a boundary closure) mixes a few far entries into the probed blocks:
that weakens the preconditioner, never the solution, since GMRES sees the exact
Jacobian. Memory is `O(N F²)`: linear in the grid.

The root finder is `optimistix.Newton`, which builds its linear operator anew
at every iteration; diffrax's `VeryChord` keeps the linear solver's state across
iterations inside its loop, which a Krylov solver holding the operator cannot
do (it fails when traced).
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx

from ._banded import _factor_tridiagonal, _sweep_tridiagonal


__all__ = ["GridKrylovSolver", "adi_preconditioner", "fft_block_preconditioner", "point_blocks",
           "stencil_probe", "spectral_radius"]


def _colours(shape: tuple[int, ...]) -> jax.Array:
    """The colour of every grid point (flat, x-major): `Σ (i_k mod 3) 3^k`."""
    index = jnp.indices(shape).reshape(len(shape), -1)
    return sum((index[k] % 3) * 3 ** k for k in range(len(shape)))


def stencil_probe(matvec, shape: tuple[int, ...], fields: int) -> jax.Array:
    """Products of a linear map on `fields` stacked grid arrays with `3^d * fields`
    coloured seeds: `out[c, g, f, q]` is row `(f, q)` of the map applied to the
    points of colour `c` in field `g`, which is `A[(f, q), (g, q + o)]` for the one
    offset `o` in the 3×3(×3) box around `q` whose point has colour `c`."""
    points = math.prod(shape)
    colours = _colours(shape)
    ncol = 3 ** len(shape)
    seeds = (colours[None, :] == jnp.arange(ncol)[:, None]).astype(float)  # (ncol, P)
    eye = jnp.eye(fields)
    stacked = (eye[None, :, :, None] * seeds[:, None, None, :]).reshape(ncol * fields,
                                                                         fields * points)
    return jax.vmap(matvec)(stacked).reshape(ncol, fields, fields, points)


def _neighbour_colours(shape: tuple[int, ...], axis: int, step: int) -> jax.Array:
    index = jnp.indices(shape).reshape(len(shape), -1)
    index = index.at[axis].add(step)
    return sum((index[k] % 3) * 3 ** k for k in range(len(shape)))


def point_blocks(matvec, shape: tuple[int, ...], fields: int) -> jax.Array:
    """The `fields × fields` diagonal blocks, `blocks[p, f, g] = A[(f, p), (g, p)]`."""
    compressed = stencil_probe(matvec, shape, fields)
    points = math.prod(shape)
    blocks = compressed[_colours(shape), :, :, jnp.arange(points)]  # (P, g, f)
    return jnp.swapaxes(blocks, 1, 2)


class GridKrylovSolver(lx.AbstractLinearSolver):
    """GMRES with an alternating-direction preconditioner for the linear systems of
    an implicit solver on a PDE over a grid of `shape`, with `fields` fields and no
    other state (the flat state vector is the fields, one after the other).

    The preconditioner, per field, is the approximate factorization
    `M = T_1 D^-1 T_2 D^-1 ... T_d` of `A = D + X_1 + ... + X_d` (`D` the diagonal,
    `X_k` the couplings to the two neighbours along axis `k`, `T_k = D + X_k`,
    tridiagonal along the lines of axis `k`): the classical ADI splitting
    (Peaceman and Rachford 1955; as a preconditioner, e.g. Brown and Hindmarsh,
    *Matrix-free methods for stiff systems of ODEs*, SIAM J. Numer. Anal. 1986,
    use a block-diagonal one). The line systems are factored once per Newton
    matrix (Thomas, as in `_banded.py`); applying `M^-1`, once per GMRES step, is
    then `d` batched pairs of sweeps: `O(N)`. It drops the couplings between
    fields, the wrap-around of periodic lines and anything beyond the nearest
    neighbours; GMRES corrects for them.

    With `periodic` true for every axis, `fft_block_preconditioner` is used
    instead: it keeps the wrap-around and the coupling of the fields, and cuts the
    GMRES steps 4-8x on the Brusselator (benchmarks/README.md). With `boundaries`
    (`_spectral_preconditioner.grid_boundaries`: the `(lower, upper)` kinds of
    every field along every axis), a grid with non-periodic axes gets the
    DST/DCT version, `spectral_preconditioner`; if GMRES has not converged with
    it after `fallback_cycles` cycles (a reaction as stiff as the diffusion), the
    system is solved afresh with ADI (`None`: no fallback). `restart` defaults
    to 10 with the transform preconditioners and 30 with ADI. Under `jax.grad`, `transpose` gives the transposed
    preconditioner for the adjoint solves with `A^T`.
    """

    shape: tuple[int, ...] = eqx.field(static=True)
    fields: int = eqx.field(static=True)
    periodic: tuple[bool, ...] = eqx.field(static=True, default=())
    boundaries: tuple = eqx.field(static=True, default=())
    rtol: float = 1e-5
    atol: float = 1e-10
    restart: int | None = eqx.field(static=True, default=None)
    max_steps: int = eqx.field(static=True, default=300)
    fallback_cycles: int | None = eqx.field(static=True, default=10)

    @property
    def periodic_grid(self) -> bool:
        """Every axis periodic: the FFT preconditioner applies."""
        return len(self.periodic) == len(self.shape) and all(self.periodic)

    @property
    def spectral(self) -> bool:
        """A fast-transform preconditioner applies: every axis periodic, or the
        boundary kinds of every field known (`_spectral_preconditioner.py`)."""
        return self.periodic_grid or len(self.boundaries) == self.fields

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        return operator, self._preconditioner(operator, options.get("transposed", False))

    def _preconditioner(self, operator, transposed: bool):
        if self.periodic_grid:
            return fft_block_preconditioner(operator, self.shape, self.fields)
        if self.spectral:
            from ._spectral_preconditioner import spectral_preconditioner

            return spectral_preconditioner(operator, self.shape, self.fields, self.boundaries,
                                           transposed=transposed)
        return adi_preconditioner(operator, self.shape, self.fields)

    def compute(self, state, vector, options):
        operator, preconditioner = state
        # lineax's GMRES runs all `restart` Arnoldi steps of a cycle before testing
        # convergence: a short cycle suits the FFT preconditioner, which converges
        # in a few steps; the weaker ADI one needs the longer Krylov space.
        restart = self.restart or (10 if self.spectral else 30)
        options = {k: v for k, v in options.items() if k != "transposed"}
        if not self.spectral or self.periodic_grid or self.fallback_cycles is None:
            gmres = lx.GMRES(rtol=self.rtol, atol=self.atol, restart=restart,
                             max_steps=self.max_steps)
            return gmres.compute(gmres.init(operator, {}), vector,
                                 {**options, "preconditioner": preconditioner})
        # The DST/DCT preconditioner degrades when the reaction is as stiff as the
        # diffusion (docs/pde.md, "Limits"): give it `fallback_cycles` cycles, then
        # solve afresh with ADI (probed only when this branch runs).
        first = lx.GMRES(rtol=self.rtol, atol=self.atol, restart=restart,
                         max_steps=self.fallback_cycles)
        solution = first.compute(first.init(operator, {}), vector,
                                 {**options, "preconditioner": preconditioner})

        def with_adi(_):
            gmres = lx.GMRES(rtol=self.rtol, atol=self.atol, restart=30,
                             max_steps=self.max_steps)
            adi = adi_preconditioner(operator, self.shape, self.fields)
            value, result, stats = gmres.compute(gmres.init(operator, {}), vector,
                                                 {**options, "preconditioner": adi})
            return value, result, {"num_steps": stats["num_steps"] + self.fallback_cycles,
                                   "max_steps": stats["max_steps"]}

        return jax.lax.cond(solution[1] == lx.RESULTS.successful, lambda _: solution,
                            with_adi, None)

    def transpose(self, state, options):
        # the implicit-function-theorem adjoint of the root find solves with A^T:
        # the transform preconditioner then applies M^-T (the periodic FFT one and
        # ADI are rebuilt from A^T's own probed entries, which suits them as is)
        operator, _ = state
        transposed = not options.get("transposed", False)
        options = {**options, "transposed": transposed}
        return (operator.transpose(), self._preconditioner(operator.transpose(), transposed)
                ), options

    def conj(self, state, options):
        return state, options

    def assume_full_rank(self):
        return True


def adi_preconditioner(operator: lx.AbstractLinearOperator, shape: tuple[int, ...],
                       fields: int, *, factored: bool = True) -> lx.FunctionLinearOperator:
    """`M^-1` of `GridKrylovSolver` for `operator`, probed with `3^d * fields`
    coloured products. With `factored` (the default) the line systems are
    factored here, once, and every application is two sweeps per axis; without,
    every application calls `gtsv` afresh (the previous method, kept as the
    reference for tests and benchmarks/pde.py)."""
    points = math.prod(shape)
    compressed = stencil_probe(operator.mv, shape, fields)
    own = compressed[:, jnp.arange(fields), jnp.arange(fields), :]  # (ncol, F, P)
    q = jnp.arange(points)

    def entry(colours):  # A[(f, q), (f, neighbour of q)] for every f, q
        return own[colours, :, q].T.reshape(fields, *shape)

    diagonal = entry(_colours(shape))
    neighbours = [(entry(_neighbour_colours(shape, k, -1)),
                   entry(_neighbour_colours(shape, k, +1))) for k in range(len(shape))]
    if factored:
        lines = [_LineFactors.of(lower, diagonal, upper, 1 + k).solve
                 for k, (lower, upper) in enumerate(neighbours)]
    else:
        lines = [lambda w, lo=lower, up=upper, k=k: _tridiagonal_lines(lo, diagonal, up, w, 1 + k)
                 for k, (lower, upper) in enumerate(neighbours)]

    def precondition(v):
        w = v.reshape(fields, *shape)
        for k in reversed(range(len(shape))):
            if k != len(shape) - 1:
                w = w * diagonal
            w = lines[k](w)
        return w.reshape(-1)

    return lx.FunctionLinearOperator(precondition, operator.in_structure())


def fft_block_preconditioner(operator: lx.AbstractLinearOperator, shape: tuple[int, ...],
                             fields: int) -> lx.FunctionLinearOperator:
    """`M^-1` for a grid periodic along every axis: `M = P (I + L)`, with `L` the
    constant-coefficient nearest-neighbour part per field (its coupling along axis
    `k` the median over the grid of the probed neighbour entries, and zero row sums:
    the shape of `-γh α ∇²`) and `P` the pointwise `F×F` blocks with the diffusion
    diagonal of `L` taken out (about `I - γh R`, `R` the reaction Jacobian, which
    couples the fields). `(I + L)` is diagonal in Fourier space, so
    `M^-1 v = (I + L)^-1 P^-1 v` is `F` batched `F×F` solves (inverses stored)
    and one FFT pair per field: `O(N log N)` time, `O(N F²)` memory. It keeps the
    wrap-around and the field coupling the ADI splitting drops; it is exact when
    the diffusion coefficients are constant and the reaction is linear and
    uniform, and GMRES, on the exact Jacobian, corrects the rest (an
    `x`-dependent diffusion, an order-4 stencil)."""
    points = math.prod(shape)
    ndim = len(shape)
    compressed = stencil_probe(operator.mv, shape, fields)
    q = jnp.arange(points)
    blocks = jnp.swapaxes(compressed[_colours(shape), :, :, q], 1, 2)  # (P, f, g)
    own = compressed[:, jnp.arange(fields), jnp.arange(fields), :]  # (ncol, F, P)
    symbol = jnp.ones((fields, *shape), blocks.dtype)
    diffusion_diagonal = jnp.zeros(fields, blocks.dtype)
    for k in range(ndim):
        # median: on a periodic axis whose length is not a multiple of 3 the probe
        # reads two neighbours at once at the wrap (weakens M, not the solution)
        coupling = jnp.median(own[_neighbour_colours(shape, k, -1), :, q], axis=0)  # (F,)
        theta = 2 * jnp.pi * jnp.fft.fftfreq(shape[k])
        wave = (2 * jnp.cos(theta) - 2).reshape([-1 if i == k else 1 for i in range(ndim)])
        symbol = symbol + coupling.reshape(-1, *[1] * ndim) * wave
        diffusion_diagonal = diffusion_diagonal - 2 * coupling
    inverse_blocks = jnp.linalg.inv(blocks - jnp.diag(diffusion_diagonal)[None])
    axes = tuple(range(1, 1 + ndim))

    def precondition(v):
        w = jnp.einsum("pfg,gp->fp", inverse_blocks, v.reshape(fields, points))
        spectrum = jnp.fft.fftn(w.reshape(fields, *shape), axes=axes)
        w = jnp.fft.ifftn(spectrum / symbol.astype(spectrum.dtype), axes=axes).real
        return w.reshape(-1)

    return lx.FunctionLinearOperator(precondition, operator.in_structure())


class _LineFactors(eqx.Module):
    """The tridiagonal systems along every line of one axis, factored once (in
    `GridKrylovSolver.init`, once per Newton matrix) with the Thomas algorithm of
    `_banded.py`, batched over the lines; every application of the preconditioner
    (one per GMRES step) is then two sweeps over the stored factors instead of a
    fresh LAPACK `gtsv` factorization. Row `i` of a line reads
    `lower[i] x[i-1] + diagonal[i] x[i] + upper[i] x[i+1]`; the line ends at both
    ends (no wrap-around). If any line's unpivoted factors fail the check of
    `_banded.py` (a pivot not finite or tiny against its row), all lines fall
    back to `gtsv`, which pivots."""

    band: jax.Array         # (lines, 3, n): lower, diagonal, upper of every line
    factors: tuple          # Thomas factors, each (lines, n)
    trusted: jax.Array      # every line's factors passed the check
    axis: int = eqx.field(static=True)
    shape: tuple[int, ...] = eqx.field(static=True)  # the grid arrays, axis last

    @classmethod
    def of(cls, lower, diagonal, upper, axis: int) -> "_LineFactors":
        move = lambda a: jnp.moveaxis(a, axis, -1)  # noqa: E731
        lo, di, up = move(lower), move(diagonal), move(upper)
        lo = lo.at[..., 0].set(0.0)
        up = up.at[..., -1].set(0.0)
        shape = lo.shape
        band = jnp.stack([lo, di, up], axis=-2).reshape(-1, 3, shape[-1])
        lower_f, inverse, scaled_upper, trusted = jax.vmap(_factor_tridiagonal)(band)
        return cls(band, (lower_f, inverse, scaled_upper), jnp.all(trusted), axis, shape)

    def solve(self, rhs: jax.Array) -> jax.Array:
        b = jnp.moveaxis(rhs, self.axis, -1).reshape(-1, self.shape[-1])
        x = jax.lax.cond(
            self.trusted,
            lambda b: jax.vmap(_sweep_tridiagonal)(self.factors, b),
            lambda b: jax.lax.linalg.tridiagonal_solve(
                self.band[:, 0], self.band[:, 1], self.band[:, 2], b[..., None])[..., 0],
            b)
        return jnp.moveaxis(x.reshape(self.shape), -1, self.axis)


def _tridiagonal_lines(lower, diagonal, upper, rhs, axis: int) -> jax.Array:
    """Solve the tridiagonal systems along every line of `axis` (batched LAPACK/cuSPARSE
    `gtsv`, factoring at every call): the reference the factored `_LineFactors` is
    tested and benchmarked against."""
    move = lambda a: jnp.moveaxis(a, axis, -1)  # noqa: E731
    lo, di, up, b = move(lower), move(diagonal), move(upper), move(rhs)
    lo = lo.at[..., 0].set(0.0)
    up = up.at[..., -1].set(0.0)
    x = jax.lax.linalg.tridiagonal_solve(lo, di, up, b[..., None])[..., 0]
    return jnp.moveaxis(x, -1, axis)


def spectral_radius(rhs, t0: float, y0, params, iterations: int = 30) -> float:
    """An estimate of the spectral radius of the Jacobian at the initial point by
    power iteration on Jacobian-vector products (for `solver = auto` on grids too
    large for dense eigenvalues). Diffusion dominates stiff PDEs, and its
    eigenvalues are real and negative, so this is the fastest decay rate."""
    _, linear = jax.linearize(lambda z: rhs(jnp.asarray(t0), z, params), y0)
    v = jax.random.normal(jax.random.key(0), y0.shape)

    def step(v, _):
        w = linear(v)
        return w / jnp.maximum(jnp.linalg.norm(w), 1e-300), jnp.linalg.norm(w)

    v, norms = jax.lax.scan(step, v / jnp.linalg.norm(v), None, length=iterations)
    return float(norms[-1])
