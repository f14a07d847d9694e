"""Neural closure weights: fresh networks, defaults filled in, files on disk, samples.

The weights of a closure live in the parameter pytree, `params["closures"][name]`
(`name` is the closure's outputs joined by `_`, as in `U1_U2`). Each entry is an
`equinox.nn.MLP` filtered to its arrays (`eqx.filter(mlp, eqx.is_array)`: the
activation is not stored, since a function is not a valid leaf of a jitted
argument); its leaves are the weights and biases, so `jax.grad`, `jax.vmap`,
optax and `eqx.tree_serialise_leaves` see exactly the trainable arrays. The
networks are evaluated by the generated code (`symflow.runtime.apply_mlp`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..errors import SymflowError
from ..files import open_regular, replacing
from ..symbolic import Closure
from ._model import SimulatedModel

__all__ = ["initial_weights", "complete_weights", "save_weights", "load_weights",
           "closure_samples"]

_FORMAT = "symflow-closure-weights/1"
_HEADER_LIMIT = 2**24  # the longest header line read (16 MiB: parameters' tables)


def initial_weights(closures: Sequence[Closure]) -> dict[str, eqx.nn.MLP]:
    """`params["closures"]` of fresh networks, drawn from each closure's seed: each
    `eqx.nn.MLP` filtered to its arrays.

    The activation holds no weights (a function is not an array leaf, and is
    filtered out), so the identity stands in for it here; the generated code
    applies the activation the model names.
    """
    dtype = jnp.asarray(0.0).dtype  # float64 unless SYMFLOW_X64=0
    return {c.name: eqx.filter(
        eqx.nn.MLP(c.n_inputs, c.n_outputs, c.width, c.depth, activation=_identity,
                   key=jax.random.PRNGKey(c.seed), dtype=dtype), eqx.is_array)
        for c in closures}


def _identity(x):
    return x


def _header(model: SimulatedModel, params: Mapping[str, Any]) -> dict:
    return {
        "format": _FORMAT,
        "model": model.name,
        "closures": {c.name: c.architecture() for c in model.closures},
        # a number per parameter; a list for an input's table (its values, one per row)
        "parameters": {k: np.asarray(v, dtype=float).tolist() for k, v in params.items()
                       if k != "closures"},
    }


def save_weights(model: SimulatedModel, path: str | os.PathLike,
                 params: Mapping[str, Any]) -> None:
    """Write a JSON header line (architecture of each closure, the values of the
    physical parameters) followed by the closure weights as
    `eqx.tree_serialise_leaves` writes them."""
    weights = params.get("closures")
    if weights is None:
        raise SymflowError("these parameters hold no closure weights")
    header = json.dumps(_header(model, params), sort_keys=True)
    with replacing(path) as tmp, open(tmp, "wb") as f:
        f.write(header.encode() + b"\n")
        eqx.tree_serialise_leaves(f, {k: weights[k] for k in sorted(weights)})


def load_weights(model: SimulatedModel, path: str | os.PathLike
                 ) -> tuple[dict, dict[str, float | list[float]]]:
    """Read a weights file written by `save_weights` for `model`:
    (closure weights by name, the physical parameters saved with them: a list of
    values for an input's table).

    The architecture recorded in the file is compared with the model's
    declarations first, and every difference is reported by name.
    """
    path = os.fspath(path)
    with open_regular(path, what="weights file") as f:
        header = _read_header(f.readline(_HEADER_LIMIT + 1), path)
        declared = {c.name: c.architecture() for c in model.closures}
        found = header.get("closures", {})
        problems = []
        for name in sorted(set(declared) | set(found)):
            if name not in found:
                problems.append(f"closure {name} is declared in {model.name} but not in the file")
            elif name not in declared:
                problems.append(f"the file has closure {name}, which {model.name} does not "
                                "declare")
            else:
                for key in declared[name]:
                    if declared[name][key] != found[name].get(key):
                        problems.append(f"closure {name}: {key} is {found[name].get(key)} in "
                                        f"the file but {declared[name][key]} in the model")
        if problems:
            raise SymflowError(
                f"the weights in {path} do not match the closures of {model.name}",
                help="; ".join(problems))
        like = initial_weights(model.closures)
        try:
            weights = eqx.tree_deserialise_leaves(f, {k: like[k] for k in sorted(like)})
        except Exception as e:  # a truncated or corrupted file
            raise SymflowError(f"cannot read the weights in {path}: {e}") from None
    params = {k: [float(x) for x in v] if isinstance(v, list) else float(v)
              for k, v in header.get("parameters", {}).items()}
    return dict(weights), params


def _read_header(first: bytes, path: str) -> dict:
    """The JSON header line of a weights file, its shape checked: an object with the
    format, the closures' architectures (objects) and the parameters (numbers, or
    lists of numbers)."""
    def bad(why: str) -> SymflowError:
        return SymflowError(f"{path} is not a symflow weights file: {why}",
                            help="write one with `Model.save_weights` or "
                                 "`symflow fit ... --save-weights`")

    if len(first) > _HEADER_LIMIT or not first.endswith(b"\n"):
        raise bad("its first line is not a header")
    try:
        header = json.loads(first.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise bad("its header is not JSON") from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise bad(f"its header does not say format {_FORMAT!r}")
    closures = header.get("closures", {})
    if not isinstance(closures, dict) or not all(isinstance(a, dict)
                                                 for a in closures.values()):
        raise bad("the header's closures are not architectures")
    parameters = header.get("parameters", {})

    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if not isinstance(parameters, dict) or not all(
            number(v) or (isinstance(v, list) and all(number(x) for x in v))
            for v in parameters.values()):
        raise bad("the header's parameters are not numbers")
    return header


def complete_weights(model: SimulatedModel, weights: Mapping[str, Any] | None) -> dict:
    """`params["closures"]` with the model's current weights for closures not given."""
    defaults = model.params["closures"]
    if weights is None:
        return defaults
    if not isinstance(weights, Mapping):
        raise SymflowError("params['closures'] must map closure names to their weights",
                           help="its closures: " + ", ".join(defaults))
    unknown = [k for k in weights if k not in defaults]
    if unknown:
        raise SymflowError(f"{model.name} has no closure named {unknown[0]!r}",
                           help="its closures: " + ", ".join(defaults))
    return {**defaults, **weights}


def closure_samples(model: SimulatedModel, params, solution
                    ) -> dict[str, tuple[jax.Array, jax.Array]]:
    """Every closure's (inputs, outputs) along `solution`, by closure name.

    `inputs` has shape `(n, n_in)` and `outputs` `(n, n_out)`: one row per saved
    time for scalar inputs, one per saved time and grid point (time-major: row
    `i*N + j` is time `i`, point `j`) for inputs on a field of N points. The
    inputs are the expressions of the model (after its passes), evaluated on the
    saved states; the outputs are the networks evaluated with `params["closures"]`.
    """
    g = model.generated
    closure_io = g.closure_io
    if closure_io is None:
        raise SymflowError(f"{model.name} has no closures")
    p = model.complete_params(params)
    ts = jnp.asarray(solution.t)
    n_t = ts.shape[0]
    ys = jnp.concatenate([jnp.reshape(jnp.asarray(solution[s.name]), (n_t, -1))
                          for s in g.states], axis=1)
    io = jax.vmap(lambda t, y: closure_io(t, y, p))(ts, ys)
    out = {}
    for c in model.closures:
        shape = (n_t, *c.input_shape)

        def column(key):
            return jnp.reshape(jnp.broadcast_to(io[key], shape), (-1,))

        inputs = jnp.stack([column(f"{c.name}:in:{k}") for k in range(c.n_inputs)], axis=1)
        outputs = jnp.stack([column(f"{c.name}:out:{k}") for k in range(c.n_outputs)], axis=1)
        out[c.name] = (inputs, outputs)
    return out
