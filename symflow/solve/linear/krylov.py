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
(`linear/preconditioners.py`); otherwise `adi_preconditioner`
(alternating-direction line solves per field, factored once per Newton
matrix). All are built from the point blocks and nearest-neighbour entries
of the matrix, probed with `3^d * F` Jacobian-vector products on coloured
seeds: the points of one colour lie 3 apart along every axis, so two of them
never meet in the 3×3(×3) neighbourhood an order-2 stencil reads (Curtis,
Powell and Reid 1974, as for the banded solve). A wider stencil (order 4, a
boundary closure) mixes a few far entries into the probed blocks: that weakens
the preconditioner, never the solution, since GMRES sees the exact Jacobian.
Memory is `O(N F²)`: linear in the grid.

The root finder is `optimistix.Newton`, which builds its linear operator anew
at every iteration; diffrax's `VeryChord` keeps the linear solver's state across
iterations inside its loop, which a Krylov solver holding the operator cannot
do (it fails when traced).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import lineax as lx

from .preconditioners import adi_preconditioner, fft_block_preconditioner, spectral_preconditioner

__all__ = ["GridKrylovSolver"]


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
    matrix (Thomas, as in `linear/banded.py`); applying `M^-1`, once per GMRES step, is
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
    to 10 with the transform preconditioners and 30 with ADI. Under `jax.grad`,
    `transpose` gives the transposed preconditioner for the adjoint solves with `A^T`.
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
        boundary kinds of every field known (`linear/preconditioners.py`)."""
        return self.periodic_grid or len(self.boundaries) == self.fields

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        return operator, self._preconditioner(operator, options.get("transposed", False))

    def _preconditioner(self, operator, transposed: bool):
        if self.periodic_grid:
            return fft_block_preconditioner(operator, self.shape, self.fields)
        if self.spectral:
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
