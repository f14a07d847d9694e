"""Rosenbrock methods as diffrax solvers: `rodas5p`, `rodas4`, `ros3p`.

A Rosenbrock step linearizes once per step instead of iterating Newton to
convergence in every stage, as the ESDIRK methods (Kvaerno) do: it factors
`W = M/(hγ) - J` once and solves `s` linear systems with it (`tableau.py` gives
the formulas). No iteration means no convergence test that can fail and no
tolerance of its own to tune — the reason the long stiff solves of issue 21
stall in Newton (its residual test is in atol only) do not arise here. The price:
the method is only as good as `J`, which must be the exact Jacobian (these are not
W-methods), computed every step (`jacobian.py`).

The error estimate is the method's embedded one; the step-size controller is
diffrax's (`PIDController`), which reads `order`. The dense output is the
method's own continuous extension (`interpolation.py`).

Mass matrices: with `mass=M` (a constant `n × n` array, possibly singular) the
solver integrates `M y' = f(t, y)`; rows of zeros in `M` are algebraic equations
`0 = f_i`. The Rodas methods are stiffly accurate and satisfy the extra order
conditions of index-1 DAEs (Hairer & Wanner §VI.4), so they integrate
semi-explicit index-1 DAEs directly; `ros3p` is only meant for ODEs. symflow's
passes reduce DAEs to ODEs, so model solves use `mass=None` (the identity).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from .._compat import AbstractAdaptiveSolver
from .interpolation import RosenbrockInterpolation
from .jacobian import autodiff_derivatives
from .tableau import RODAS4, RODAS5P, ROS3P, RosenbrockTableau

__all__ = ["AbstractRosenbrock", "ROSENBROCK", "Rodas4", "Rodas5P", "Ros3P"]


def _combine(coefficients: Any, vectors: list[jax.Array], like: jax.Array) -> jax.Array:
    """`Σ_j coefficients[j] * vectors[j]` over the nonzero coefficients (unrolled)."""
    total = jnp.zeros_like(like)
    for coefficient, vector in zip(coefficients, vectors):
        if coefficient != 0.0:
            total = total + float(coefficient) * vector
    return total


class AbstractRosenbrock(AbstractAdaptiveSolver):
    """A Rosenbrock method given by its `tableau` (a class variable of each final
    subclass). `mass` is the constant mass matrix `M` of `M y' = f`, or `None` for
    the identity. `derivatives(t, y, args) -> (f, ∂f/∂t, ∂f/∂y)` of the term's vector
    field, when known (the model's symbolic ones, `codegen.load_derivatives`), is
    used on a plain `ODETerm`; otherwise, and for diffrax's wrapped terms (solves
    backwards in time), they come from autodiff (`jacobian.py`). States are one flat
    array (symflow's generated models)."""

    tableau: ClassVar[RosenbrockTableau]
    mass: jax.Array | None = None
    derivatives: Callable | None = eqx.field(static=True, default=None)

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = RosenbrockInterpolation

    def order(self, terms: Any) -> int:
        return self.tableau.order

    def init(self, terms: Any, t0: Any, t1: Any, y0: jax.Array, args: Any) -> None:
        return None

    def func(self, terms: Any, t0: Any, y0: jax.Array, args: Any) -> jax.Array:
        return terms.vf(t0, y0, args)

    def _times_mass(self, v: jax.Array) -> jax.Array:
        return v if self.mass is None else self.mass @ v

    def step(self, terms: Any, t0: Any, t1: Any, y0: jax.Array, args: Any,
             solver_state: None, made_jump: Any
             ) -> tuple[jax.Array, jax.Array, dict[str, jax.Array], None, Any]:
        """One step from `t0` to `t1` (`tableau.py` has the formulas)."""
        tab = self.tableau
        dtype = jnp.result_type(y0)
        t0 = jnp.asarray(t0, dtype=dtype)
        h = jnp.asarray(t1, dtype=dtype) - t0
        # dy/dt = vf * (control per unit time): +1, or -1 when diffrax integrates
        # backwards in time (its `WrapTerm` negates times and the control, not `vf`)
        nonzero = jnp.where(h == 0, 1.0, h)
        sign = jnp.where(h == 0, 1.0, jnp.asarray(terms.contr(t0, t1), dtype=dtype) / nonzero)

        def vf(t: Any, y: jax.Array, args: Any) -> jax.Array:
            return sign * terms.vf(t, y, args)

        if self.derivatives is not None and isinstance(terms, diffrax.ODETerm):
            f0, f_t, jac = self.derivatives(t0, y0, args)
        else:
            f0, f_t, jac = autodiff_derivatives(vf, t0, y0, args)
        mass = jnp.eye(y0.shape[0], dtype=dtype) if self.mass is None else self.mass
        factors = jsl.lu_factor(mass / (h * tab.gamma) - jac)
        stages: list[jax.Array] = []
        for i in range(tab.stages):
            if i == 0:
                f_i = f0
            else:
                y_i = y0 + _combine(tab.a[i, :i], stages, y0)
                f_i = vf(t0 + float(tab.c[i]) * h, y_i, args)
            if i > 0 and bool((tab.C[i, :i] != 0.0).any()):
                f_i = f_i + self._times_mass(_combine(tab.C[i, :i], stages, y0)) / h
            if tab.d[i] != 0.0:
                f_i = f_i + (float(tab.d[i]) * h) * f_t
            stages.append(jsl.lu_solve(factors, f_i))
        y1 = y0 + _combine(tab.m, stages, y0)
        error = _combine(tab.m - tab.m_hat, stages, y0)
        if tab.dense is not None:
            k = jnp.stack([_combine(row, stages, y0) for row in tab.dense])
        else:  # cubic Hermite, with the derivative at the step's end
            change = y1 - y0
            f1 = vf(t0 + h, y1, args)
            k = jnp.stack([h * f0 - change, 2 * change - h * (f0 + f1)])
        dense = dict(y0=y0, y1=y1, k=k)
        return y1, error, dense, None, diffrax.RESULTS.successful


class Rodas5P(AbstractRosenbrock):
    """Rodas5P (Steinebach 2023): order 5 (embedded 4), 8 stages, stiffly accurate,
    dense output of order 4. The workhorse for stiff systems of small and medium
    size."""

    tableau: ClassVar[RosenbrockTableau] = RODAS5P


class Rodas4(AbstractRosenbrock):
    """Rodas4 (Hairer & Wanner): order 4 (embedded 3), 6 stages, stiffly accurate,
    dense output of order 3."""

    tableau: ClassVar[RosenbrockTableau] = RODAS4


class Ros3P(AbstractRosenbrock):
    """ROS3P (Lang & Verwer 2001): order 3 (embedded 2), 3 stages, Hermite dense
    output. The cheapest step: for loose tolerances."""

    tableau: ClassVar[RosenbrockTableau] = ROS3P


ROSENBROCK: dict[str, type[AbstractRosenbrock]] = {
    "rodas5p": Rodas5P, "rodas4": Rodas4, "ros3p": Ros3P}
