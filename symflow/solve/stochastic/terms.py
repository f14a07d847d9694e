"""The diffusion term of a generated SDE, and Milstein's method with a symbolic term.

`NoiseTerm` is the `g(t, y) dW` of `dy = f dt + g dW` for diffrax: its vector
field is the generated `diffusion` (one flat column per Brownian motion) and its
product with the increments is the generated `noise` (a sum of scaled columns;
a Brownian field multiplies point by point). So no `(n_states, n_noise)` matrix
is formed: a field of `n` points with its own Brownian field costs `O(n)` per
step, not `O(n^2)`.

`SymbolicMilstein` takes the Milstein term from the generated `milstein`
function, which the compiler derived with SymPy (`symbolic._sde_derivatives`),
in place of diffrax's Milstein solvers, which differentiate the diffusion by
automatic differentiation (and, for Itô, form the Jacobian of every column:
`O(n^3)` for a field).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import diffrax
import equinox as eqx
from diffrax import AbstractTerm, MultiTerm

__all__ = ["NoiseTerm", "SymbolicMilstein"]


class NoiseTerm(AbstractTerm):
    """`g(t, y, p) dW` with `g` the generated diffusion columns and `dW` from `path`."""

    coefficients: Callable = eqx.field(static=True)
    product: Callable = eqx.field(static=True)
    path: diffrax.AbstractPath

    def vf(self, t, y, args):
        return self.coefficients(t, y, args)

    def contr(self, t0, t1, **kwargs):
        return self.path.evaluate(t0, t1, **kwargs)

    def prod(self, vf, control):
        return self.product(vf, control)


class _SymbolicMilsteinBase(eqx.Module):
    """One step: `y1 = y0 + f dt + g dW + milstein(t0, y0, p, dW, h)` (Kloeden &
    Platen 1992, eq. 10.3.3, with the commutative-noise double integrals); `h`
    is the step for Itô and 0 for Stratonovich."""

    correction: Callable = eqx.field(static=True)
    term_structure: ClassVar = MultiTerm[tuple[AbstractTerm[Any, Any], AbstractTerm]]
    interpolation_cls: ClassVar[Callable[..., diffrax.LocalLinearInterpolation]] = (
        diffrax.LocalLinearInterpolation)
    ito: ClassVar[bool] = True

    def order(self, terms):
        raise ValueError("Milstein's method is for SDEs")

    def strong_order(self, terms):
        return 1

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del solver_state, made_jump
        drift, diffusion = terms.terms
        dt = drift.contr(t0, t1)
        dw = diffusion.contr(t0, t1)
        y1 = (y0 + drift.vf_prod(t0, y0, args, dt) + diffusion.vf_prod(t0, y0, args, dw)
              + self.correction(t0, y0, args, dw, dt if self.ito else 0.0 * dt))
        return y1, None, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful

    def func(self, terms, t0, y0, args):
        drift, diffusion = terms.terms
        return drift.vf(t0, y0, args), diffusion.vf(t0, y0, args)


class SymbolicMilstein(_SymbolicMilsteinBase, diffrax.AbstractItoSolver):
    """Itô Milstein with the symbolic term."""


class SymbolicStratonovichMilstein(_SymbolicMilsteinBase, diffrax.AbstractStratonovichSolver):
    """Stratonovich Milstein with the symbolic term."""

    ito: ClassVar[bool] = False
