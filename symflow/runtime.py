"""What generated code imports: the one module a compiled model's source depends on.

Generated right-hand sides call `newton_solve` for algebraic loops and
`apply_mlp` for neural closures; nothing else of symflow is imported by them, so
the generated source stays valid however the package is arranged inside.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

__all__ = ["ACTIVATION_FUNCTIONS", "apply_mlp", "newton_solve"]

RTOL = 1e-10
ATOL = 1e-12

ACTIVATION_FUNCTIONS = {
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "softplus": jax.nn.softplus,
    "swish": jax.nn.swish,
}


def newton_solve(residual: Callable[[jax.Array], jax.Array], guess: jax.Array) -> jax.Array:
    """The root of `residual` near `guess`, by optimistix's Newton method.

    Gradients through the result use the implicit function theorem (optimistix's
    `ImplicitAdjoint`), not the iterations. A failed solve raises (at run time,
    inside the integration) rather than returning a wrong value.
    """
    solution: optx.Solution = optx.root_find(
        lambda u, _: residual(u), optx.Newton(rtol=RTOL, atol=ATOL), guess, max_steps=64)
    return solution.value


def apply_mlp(weights: eqx.nn.MLP, activation: str, scale: float,
              inputs: Sequence[jax.Array | float]) -> tuple[jax.Array, ...]:
    """The outputs of a closure at `inputs` (a tuple of arrays of one shape, or
    scalars): a tuple of arrays of that shape, one per output."""
    act = ACTIVATION_FUNCTIONS[activation]
    h = jnp.stack(jnp.broadcast_arrays(*inputs), axis=-1)
    layers = weights.layers
    for layer in layers[:-1]:
        h = act(_affine(layer, h))
    h = _affine(layers[-1], h)
    if scale != 1.0:
        h = scale * h
    return tuple(h[..., i] for i in range(h.shape[-1]))


def _affine(layer: eqx.nn.Linear, h: jax.Array) -> jax.Array:
    """`h W^T + b` for one layer (`b` left out where the layer has no bias)."""
    h = h @ layer.weight.T
    return h if layer.bias is None else h + layer.bias
