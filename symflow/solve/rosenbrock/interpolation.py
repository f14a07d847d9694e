"""Dense output between the two ends of one Rosenbrock step.

Every method here interpolates with the same polynomial form (`tableau.py`):

    y(θ) = (1 - θ) y0 + θ y1 + θ (1 - θ) (K_1 + θ K_2 + ... + θ^(r-1) K_r),

θ = (t - t0) / (t1 - t0): a Rodas method's own continuous extension (`K` from its
coefficients `H`), or the cubic Hermite interpolant (`r = 2`).
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

__all__ = ["RosenbrockInterpolation"]


class RosenbrockInterpolation(diffrax.AbstractLocalInterpolation):
    """The interpolant of one step: ends `t0`, `t1`, values `y0`, `y1`, and the
    correction vectors `k` (`r × n`, module docstring)."""

    # diffrax declares the ends as `AbstractVar`s; mypy reads those as class variables
    t0: float | jax.Array  # type: ignore[misc]
    t1: float | jax.Array  # type: ignore[misc]
    y0: jax.Array
    y1: jax.Array
    k: jax.Array

    def _at(self, t: ArrayLike) -> jax.Array:
        theta = (t - self.t0) / (self.t1 - self.t0)
        theta = jnp.asarray(theta, dtype=jnp.result_type(self.y0))
        correction = self.k[-1]
        for row in range(self.k.shape[0] - 2, -1, -1):
            correction = self.k[row] + theta * correction
        return (1 - theta) * self.y0 + theta * self.y1 + theta * (1 - theta) * correction

    def evaluate(self, t0: ArrayLike, t1: ArrayLike | None = None,
                 left: bool = True) -> jax.Array:
        """The value at `t0`, or the increment from `t0` to `t1` (diffrax's convention);
        the interpolant is continuous, so `left` does not matter."""
        del left
        if t1 is None:
            return self._at(t0)
        return self._at(t1) - self._at(t0)
