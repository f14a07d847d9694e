"""Newton's method for algebraic loops inside a generated right-hand side."""

from __future__ import annotations

from collections.abc import Callable

import jax
import optimistix as optx


__all__ = ["newton_solve"]

RTOL = 1e-10
ATOL = 1e-12


def newton_solve(residual: Callable[[jax.Array], jax.Array], guess: jax.Array) -> jax.Array:
    """The root of `residual` near `guess`, by optimistix's Newton method.

    Gradients through the result use the implicit function theorem (optimistix's
    `ImplicitAdjoint`), not the iterations. A failed solve raises (at run time,
    inside the integration) rather than returning a wrong value.
    """
    solution = optx.root_find(lambda u, _: residual(u), optx.Newton(rtol=RTOL, atol=ATOL),
                              guess, max_steps=64)
    return solution.value
