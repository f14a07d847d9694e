"""Neural closures at run time: the evaluation of their Equinox MLPs.

The weights of a closure live in the parameter pytree, `params["closures"][name]`
(`name` is the closure's outputs joined by `_`, as in `U1_U2`). Each entry is an
`equinox.nn.MLP` filtered to its arrays (`eqx.filter(mlp, eqx.is_array)`: the
activation is not stored, since a function is not a valid leaf of a jitted
argument); its leaves are the weights and biases, so `jax.grad`, `jax.vmap`,
optax and `eqx.tree_serialise_leaves` see exactly the trainable arrays.

The generated right-hand side calls `apply_mlp` with the activation named in the
model, on the inputs broadcast together: on a field of n points the inputs are
stacked to an `(n, n_in)` array and each layer is one batched matrix product.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp


__all__ = ["ACTIVATION_FUNCTIONS", "apply_mlp"]


ACTIVATION_FUNCTIONS = {
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "softplus": jax.nn.softplus,
    "swish": jax.nn.swish,
}


def apply_mlp(weights: eqx.nn.MLP, activation: str, scale: float, inputs) -> tuple:
    """The outputs of a closure at `inputs` (a tuple of arrays of one shape, or
    scalars): a tuple of arrays of that shape, one per output."""
    act = ACTIVATION_FUNCTIONS[activation]
    h = jnp.stack(jnp.broadcast_arrays(*inputs), axis=-1)
    layers = weights.layers
    for layer in layers[:-1]:
        h = act(h @ layer.weight.T + layer.bias)
    last = layers[-1]
    h = h @ last.weight.T + last.bias
    if scale != 1.0:
        h = scale * h
    return tuple(h[..., i] for i in range(h.shape[-1]))
