"""A fast-transform preconditioner for Newton–Krylov on grids with Dirichlet, Neumann,
Robin and periodic boundaries, each field and axis its own kind.

The discretization (passes/discretization/) keeps every grid point of a field a
state, ends included. At a Dirichlet point the right-hand side is `dg/dt`, which does
not depend on the state: the Newton matrix `A = I - γh J` has the identity row there,
and the order-2 Laplacian couples the interior points to those boundary values. At
a Neumann end the order-2 closure is the classical ghost point: the end row of
`u_xx` reads `2(u_1 - u_0)/h²` (plus data). The interior rows read the boundary
value `g` itself, not the state there, so the Dirichlet columns of `A` are zero
apart from their diagonal: `A = diag(I, A_int)` (a test reads the dense Jacobian).
So, along one axis of `n` points, the constant-coefficient operator restricted to
the unknowns is

- Dirichlet at both ends: the `(n-2)`-point interior Laplacian, diagonalised by the
  DST-I: the odd extension of the interior values to a period `2(n-1)`;
- Neumann at both ends: all `n` points, diagonalised by the DCT-I: the even
  extension to a period `2(n-1)`;
- Dirichlet at one end and Neumann at the other: odd about the Dirichlet end and
  even about the Neumann one, a period `4(n-1)` (the quarter-wave DST/DCT);
- periodic: the FFT of the `n` points;

and in every case the restriction of the periodic Laplacian on the extended line,
with eigenvalues `2 cos θ - 2`, `θ = 2π k / period`. A tensor product of such axes
is diagonalised by one `jnp.fft.rfftn` of the extended array: this module builds
the extension with flips and signs, divides by the symbol and reads the first `n`
points of every axis back (tests/solve/linear/test_preconditioners.py checks each
kind against the dense Jacobian: eigenvalues, and the exact inverse).

The preconditioner is `M = P K` as in `_krylov.fft_block_preconditioner`: `K = I + L`
per field, `L` the constant-coefficient nearest-neighbour operator of these
boundaries (couplings along each axis: the median over the interior of the probed
ones, zero row sums, the identity at the Dirichlet points), and `P` the
pointwise `F×F` blocks of `A` with `L`'s diagonal taken out (about `I - γh R`, the
reaction, which couples the fields; at a Robin end it also holds the Robin term
that the Neumann-type `L` leaves out). `K` is solved exactly by the transform.
`M` is exact for a constant-coefficient order-2 diffusion with
no reaction; GMRES, which sees the exact Jacobian, corrects everything else (a
reaction, `x`-dependent coefficients, order-4 stencils, the Robin rows): a poor
`M` costs iterations, never accuracy.

Under `jax.grad` the implicit stages are differentiated by the implicit function
theorem, which solves with `A^T`; `transposed = True` gives `M^-T = P^-T K^-T`
(with the weights `W`, `1/2` at the Neumann ends, for which `K^T = W K W^-1`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np

from .banded import factor_tridiagonal, sweep_tridiagonal
from .probing import colours, neighbour_colours, stencil_probe

if TYPE_CHECKING:
    from ...symbolic import System

__all__ = ["adi_preconditioner", "fft_block_preconditioner", "grid_boundaries",
           "spectral_preconditioner", "spectral_symbol"]

def grid_boundaries(system: System) -> tuple[tuple[tuple[str, str], ...], ...]:
    """The boundary kinds of every state field of `system` along every axis, as
    `(lower end, upper end)` pairs of `"periodic"`, `"dirichlet"`, `"neumann"` or
    `"robin"`, fields in the order of the states (the flat state vector)."""
    kinds = {(b.field, b.dimension, b.side): b.kind for b in system.boundary}
    out = []
    for state in system.states:
        axes: list[tuple[str, str]] = []
        for d in system.domain:
            if d.periodic:
                axes.append(("periodic", "periodic"))
            else:
                axes.append((kinds.get((state.name, d.name, 0), "neumann"),
                             kinds.get((state.name, d.name, 1), "neumann")))
        out.append(tuple(axes))
    return tuple(out)


def _axis_kinds(ends: tuple[str, str]) -> tuple[str, str]:
    """Robin is preconditioned as Neumann (its diagonal term goes into `P`)."""
    lo, hi = ends
    return ("neumann" if lo == "robin" else lo, "neumann" if hi == "robin" else hi)


def _period(n: int, ends: tuple[str, str]) -> int:
    lo, hi = _axis_kinds(ends)
    if lo == "periodic":
        return n
    return 2 * (n - 1) if lo == hi else 4 * (n - 1)


def _flip_join(x: jax.Array, axis: int, sign: float, keep_last: bool) -> jax.Array:
    """`x` followed by its mirror image about its last point (times `sign`), the last
    point itself not repeated; the mirror's last point (the image of the first)
    is kept only with `keep_last`."""
    n = x.shape[axis]
    mirror = jax.lax.slice_in_dim(jnp.flip(x, axis), 1, n if keep_last else n - 1, axis=axis)
    return jnp.concatenate([x, sign * mirror], axis=axis)


def _extend(x: jax.Array, axis: int, ends: tuple[str, str]) -> jax.Array:
    """The extension of `x` along `axis` to one period of the operator's
    symmetry (odd about a Dirichlet end, whose value must be 0; even about a
    Neumann end)."""
    lo, hi = _axis_kinds(ends)
    if lo == "periodic":
        return x
    if lo == hi:
        return _flip_join(x, axis, -1.0 if lo == "dirichlet" else 1.0, keep_last=False)
    # about the upper end first (length 2n - 1), then about the lower end
    y = _flip_join(x, axis, -1.0 if hi == "dirichlet" else 1.0, keep_last=True)
    return _flip_join(y, axis, -1.0 if lo == "dirichlet" else 1.0, keep_last=False)


def spectral_symbol(shape: tuple[int, ...], ends: tuple[tuple[str, str], ...],
                    coupling: Sequence[float | jax.Array]) -> jax.Array:
    """The eigenvalues of `I + L` on the extended grid, in `rfftn` layout: `L` with
    the off-diagonal `coupling[k]` along axis `k`, `1 + Σ_k coupling[k] (2 cos θ_k - 2)`."""
    ndim = len(shape)
    periods = [_period(n, e) for n, e in zip(shape, ends)]
    symbol = jnp.ones(())
    for k in range(ndim):
        freq = (np.fft.rfftfreq if k == ndim - 1 else np.fft.fftfreq)(periods[k])
        wave = (2 * np.cos(2 * np.pi * freq) - 2).reshape(
            [-1 if i == k else 1 for i in range(ndim)])
        symbol = symbol + coupling[k] * wave
    return symbol


def _dirichlet_mask(shape: tuple[int, ...], ends: tuple[tuple[str, str], ...]) -> np.ndarray:
    """The points on a Dirichlet face (their Newton rows are the identity)."""
    mask = np.zeros(shape, bool)
    for k, (lo, hi) in enumerate(ends):
        index: list[slice | int] = [slice(None)] * len(shape)
        if lo == "dirichlet":
            index[k] = 0
            mask[tuple(index)] = True
        if hi == "dirichlet":
            index[k] = -1
            mask[tuple(index)] = True
    return mask


def _neighbour_sum(x: jax.Array, axis: int, periodic: bool) -> jax.Array:
    """`x[i-1] + x[i+1]` along `axis` (zero beyond a non-periodic end)."""
    if periodic:
        return jnp.roll(x, 1, axis) + jnp.roll(x, -1, axis)
    n = x.shape[axis]
    zero = jnp.zeros_like(jax.lax.slice_in_dim(x, 0, 1, axis=axis))
    before = jnp.concatenate([zero, jax.lax.slice_in_dim(x, 0, n - 1, axis=axis)], axis=axis)
    after = jnp.concatenate([jax.lax.slice_in_dim(x, 1, n, axis=axis), zero], axis=axis)
    return before + after


def _neumann_weight(shape: tuple[int, ...], ends: tuple[tuple[str, str], ...]) -> np.ndarray:
    """`W`: 1/2 at every Neumann end along each axis (a product over axes):
    `W K` is symmetric, so `K^T = W K W^-1`."""
    weight = np.ones(shape)
    for k, pair in enumerate(ends):
        for side, kind in zip((0, -1), _axis_kinds(pair)):
            if kind == "neumann":
                index: list[slice | int] = [slice(None)] * len(shape)
                index[k] = side
                weight[tuple(index)] *= 0.5
    return weight


class _FieldOperator:
    """`K = I + L` of one field: its exact solve with the transform (and with `K^T`)."""

    def __init__(self, shape, ends, coupling):
        self.shape, self.ends = shape, tuple(_axis_kinds(e) for e in ends)
        self.coupling = coupling
        self.mask = _dirichlet_mask(shape, self.ends)
        self.weight = _neumann_weight(shape, self.ends)
        self.periods = tuple(_period(n, e) for n, e in zip(shape, self.ends))
        self.symbol = spectral_symbol(shape, self.ends, coupling)

    def _interior(self, r):
        """`K_int^-1 r` by the transform (`r` zero on the Dirichlet points)."""
        z = r
        for k in range(len(self.shape)):
            z = _extend(z, k, self.ends[k])
        spectrum = jnp.fft.rfftn(z)
        z = jnp.fft.irfftn(spectrum / self.symbol.astype(spectrum.dtype), s=self.periods)
        return z[tuple(slice(0, n) for n in self.shape)]

    def solve(self, w, transposed: bool):
        """`K^-1 w` (or `K^-T w`): `K = diag(I, K_int)`, the Dirichlet values being
        data that the interior rows never read (see the module docstring)."""
        inside = jnp.asarray(~self.mask, w.dtype)
        if transposed:  # K_int^T = W K_int W^-1
            x = self.weight * self._interior(inside * w / self.weight)
        else:
            x = self._interior(inside * w)
        return inside * x + (1 - inside) * w


def spectral_preconditioner(operator: lx.AbstractLinearOperator, shape: tuple[int, ...],
                            fields: int, boundaries: tuple[tuple[tuple[str, str], ...], ...],
                            *, transposed: bool = False
                            ) -> lx.FunctionLinearOperator:
    """`M^-1` (or, with `transposed`, `M^-T` for `operator = A^T`) of the module
    docstring, for `fields` fields on a grid of `shape` with `boundaries[f][k]` the
    `(lower, upper)` kinds of field `f` along axis `k` (`grid_boundaries`), built
    from `3^d * fields` coloured Jacobian-vector products of `operator`."""
    points = math.prod(shape)
    ndim = len(shape)
    compressed = stencil_probe(operator.mv, shape, fields)  # (ncol, F, F, P)
    q = np.arange(points)
    blocks = jnp.swapaxes(compressed[colours(shape), :, :, q], 1, 2)  # (P, f, g)
    own = compressed[:, jnp.arange(fields), jnp.arange(fields), :]  # (ncol, F, P)
    # couplings from the rows at least one point away from every non-periodic end
    index = np.indices(shape).reshape(ndim, -1)
    interior = np.ones(points, bool)
    for k in range(ndim):
        if not all(e[k][0] == "periodic" for e in boundaries):
            interior &= (index[k] > 0) & (index[k] < shape[k] - 1)
    rows = q[interior] if interior.sum() >= 1 else q
    operators, diagonals = [], []
    for f in range(fields):
        coupling = []
        for k in range(ndim):
            c = jnp.median(own[neighbour_colours(shape, k, -1)[rows], f, rows])
            coupling.append(jnp.minimum(c, 0.0))  # a diffusion (symbol >= 1)
        field = _FieldOperator(shape, boundaries[f], coupling)
        operators.append(field)
        diagonals.append(jnp.where(field.mask.reshape(-1), 0.0, -2 * sum(coupling)))
    diagonal = jnp.stack(diagonals, axis=1)  # (P, F): the diagonal of L
    for k in range(ndim):
        # a periodic axis of 3m + 1 points: its two end points share a colour, so the
        # probed diagonal there holds their coupling too; take the estimate out
        if shape[k] % 3 == 1 and boundaries[0][k][0] == "periodic":
            wrap = jnp.asarray((index[k] == 0) | (index[k] == shape[k] - 1), blocks.dtype)
            blocks = blocks - wrap[:, None, None] * jax.vmap(jnp.diag)(jnp.stack(
                [jnp.where(operators[f].mask.reshape(-1), 0.0, operators[f].coupling[k])
                 for f in range(fields)], axis=1))
    inverse_blocks = jnp.linalg.inv(blocks - jax.vmap(jnp.diag)(diagonal))

    def precondition(v):
        w = v.reshape(fields, points)
        if not transposed:
            w = jnp.einsum("pfg,gp->fp", inverse_blocks, w)
        w = jnp.stack([operators[f].solve(w[f].reshape(shape), transposed).reshape(-1)
                       for f in range(fields)])
        if transposed:
            w = jnp.einsum("pfg,gp->fp", inverse_blocks, w)
        return w.reshape(-1)

    return lx.FunctionLinearOperator(precondition, operator.in_structure())


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

    diagonal = entry(colours(shape))
    neighbours = [(entry(neighbour_colours(shape, k, -1)),
                   entry(neighbour_colours(shape, k, +1))) for k in range(len(shape))]
    lines: list[Callable[[jax.Array], jax.Array]]  # the line solves along each axis
    if factored:
        lines = [_LineFactors.of(lower, diagonal, upper, 1 + k).solve
                 for k, (lower, upper) in enumerate(neighbours)]
    else:
        lines = [_unfactored_lines(lower, diagonal, upper, 1 + k)
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
    blocks = jnp.swapaxes(compressed[colours(shape), :, :, q], 1, 2)  # (P, f, g)
    own = compressed[:, jnp.arange(fields), jnp.arange(fields), :]  # (ncol, F, P)
    symbol = jnp.ones((fields, *shape), blocks.dtype)
    diffusion_diagonal = jnp.zeros(fields, blocks.dtype)
    for k in range(ndim):
        # median: on a periodic axis whose length is not a multiple of 3 the probe
        # reads two neighbours at once at the wrap (weakens M, not the solution)
        coupling = jnp.median(own[neighbour_colours(shape, k, -1), :, q], axis=0)  # (F,)
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
    `linear/banded.py`, batched over the lines; every application of the preconditioner
    (one per GMRES step) is then two sweeps over the stored factors instead of a
    fresh LAPACK `gtsv` factorization. Row `i` of a line reads
    `lower[i] x[i-1] + diagonal[i] x[i] + upper[i] x[i+1]`; the line ends at both
    ends (no wrap-around). If any line's unpivoted factors fail the check of
    `linear/banded.py` (a pivot not finite or tiny against its row), all lines fall
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
        lower_f, inverse, scaled_upper, trusted = jax.vmap(factor_tridiagonal)(band)
        return cls(band, (lower_f, inverse, scaled_upper), jnp.all(trusted), axis, shape)

    def solve(self, rhs: jax.Array) -> jax.Array:
        b = jnp.moveaxis(rhs, self.axis, -1).reshape(-1, self.shape[-1])
        x = jax.lax.cond(
            self.trusted,
            lambda b: jax.vmap(sweep_tridiagonal)(self.factors, b),
            lambda b: jax.lax.linalg.tridiagonal_solve(
                self.band[:, 0], self.band[:, 1], self.band[:, 2], b[..., None])[..., 0],
            b)
        return jnp.moveaxis(x.reshape(self.shape), -1, self.axis)


def _unfactored_lines(lower, diagonal, upper, axis: int) -> Callable[[jax.Array], jax.Array]:
    """`rhs -> _tridiagonal_lines(lower, diagonal, upper, rhs, axis)`."""
    return lambda rhs: _tridiagonal_lines(lower, diagonal, upper, rhs, axis)


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
