"""What a Rosenbrock step needs of the right-hand side at the start of a step.

`f(t0, y0)`, `∂f/∂t(t0, y0)` and `J = ∂f/∂y(t0, y0)`, by forward-mode autodiff of
the generated right-hand side: one Jacobian-vector product along `t` (which also
gives `f` itself) and one per state for `J` (`jax.jacfwd`, vectorized). This is
exact to rounding and works for every model symflow generates, closures and
nested root finds included; its cost is `n + 1` JVPs per step, which for the small
and medium systems Rosenbrock methods serve is below the LU factorization's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["Derivatives", "autodiff_derivatives"]

Derivatives = tuple[jax.Array, jax.Array, jax.Array]  # f, ∂f/∂t, ∂f/∂y


def autodiff_derivatives(vf: Callable[[Any, jax.Array, Any], jax.Array], t0: Any,
                         y0: jax.Array, args: Any) -> Derivatives:
    """`(f(t0, y0), ∂f/∂t(t0, y0), ∂f/∂y(t0, y0))` of `vf(t, y, args)`."""
    t0 = jnp.asarray(t0, dtype=jnp.result_type(y0))
    f0, f_t = jax.jvp(lambda t: vf(t, y0, args), (t0,), (jnp.ones_like(t0),))
    jac = jax.jacfwd(lambda y: vf(t0, y, args))(y0)
    return f0, f_t, jac
