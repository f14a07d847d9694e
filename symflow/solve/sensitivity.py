"""Forward sensitivities: the matrix d y(t) / d p at the saved times, labelled.

The matrix is computed by forward-mode differentiation through the solve
(`jax.jacfwd` with diffrax's `ForwardMode` adjoint): one tangent per parameter,
carried along with the solution, which is the cheap direction when there are
few parameters and many outputs. Initial values that are expressions of
parameters (`x = 3*c`) are part of the differentiated program, so their
contribution is included; the sensitivity to a state's own initial value is
asked for by naming the state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..errors import SymflowError
from .simulate import save_times

if TYPE_CHECKING:
    from .runner import CompiledModel

__all__ = ["Sensitivities", "sensitivities", "split_names"]


class Sensitivities(eqx.Module):
    """`matrix[i, j, k]` = d output_j(t_i) / d wrt_k.

    `outputs` names the rows (states, then observed outputs; an array variable
    gives one row per element, `z[0]`, `z[1]`, ...), `wrt` the columns
    (parameters, and states for their initial values). `s["x", "alpha"]` is the
    sensitivity of `x` to `alpha` at every saved time; `s["x"]` is all columns
    of `x`, shape `(n_times, n_wrt)`.
    """

    t: jax.Array
    matrix: jax.Array
    outputs: tuple[str, ...] = eqx.field(static=True)
    wrt: tuple[str, ...] = eqx.field(static=True)

    def __getitem__(self, key: str | tuple[str, str]) -> jax.Array:
        output, name = key if isinstance(key, tuple) else (key, None)
        if output not in self.outputs:
            raise SymflowError(f"no sensitivities for {output!r}",
                               help="outputs: " + ", ".join(self.outputs))
        row = self.outputs.index(output)
        if name is None:
            return self.matrix[:, row, :]
        if name not in self.wrt:
            raise SymflowError(f"no sensitivities with respect to {name!r}",
                               help="computed for: " + ", ".join(self.wrt))
        return self.matrix[:, row, self.wrt.index(name)]

    def table(self, time_index: int = -1) -> str:
        """The matrix at one saved time as a text table."""
        m = np.asarray(self.matrix[time_index])
        width = max(10, *(len(n) for n in self.wrt))
        head = f"{'d/d':<12}" + "".join(f"{n:>{width + 2}}" for n in self.wrt)
        lines = [f"sensitivities at t = {float(self.t[time_index]):g}", head]
        for name, row in zip(self.outputs, m):
            lines.append(f"{name:<12}" + "".join(f"{x:>{width + 2}.6g}" for x in row))
        return "\n".join(lines)


def split_names(model: CompiledModel, names: Sequence[str], *,
                what: str = "differentiate with respect to") -> tuple[list[str], list[str]]:
    """Split `names` into parameters and states (initial values); reject anything else."""
    params, states = [], []
    for name in names:
        if name in model.params:
            params.append(name)
        elif name in model.state_names:
            states.append(name)
        else:
            extra = ""
            if name in model.observed_names:
                extra = f" ({name!r} is an observed output, computed from the states)"
            elif name in model.generated.parameter_names:
                extra = f" ({name!r} is a constant)"
            raise SymflowError(
                f"cannot {what} {name!r}: it is not a parameter or a state of "
                f"{model.name}{extra}",
                help="parameters: " + (", ".join(model.params) or "none")
                + "; states (initial values): " + ", ".join(model.state_names))
    return params, states


def _flat_outputs(sol) -> tuple[tuple[str, ...], jax.Array]:
    """Every state and observed output as columns of one `(n_times, n_outputs)` array."""
    names, cols = [], []
    for name in sol.names:
        value = sol.values[name]
        if value.ndim == 1:
            names.append(name)
            cols.append(value[:, None])
        else:
            names.extend(f"{name}[{i}]" for i in range(value.shape[1]))
            cols.append(value)
    return tuple(names), jnp.concatenate(cols, axis=1)


def sensitivities(model: CompiledModel, params: Mapping[str, Any] | None = None, *,
                  wrt: Sequence[str] | None = None,
                  initial: Mapping[str, Any] | None = None,
                  **options: Any) -> Sensitivities:
    """d y(t) / d p for every state and observed output at the saved times.

    `wrt` names parameters (default: all free parameters; an input's table only when
    named, one column per row: `F[0]`, `F[1]`, ...) and states (their initial
    values). `options` go to `Model.simulate` (`tspan`, `saveat`,
    `solver`, tolerances); the adjoint is always forward mode.
    """
    if "adjoint" in options:
        raise SymflowError("sensitivities always use forward mode: drop adjoint=")
    tables = {i.name for i in model.system.inputs}
    wrt = tuple(wrt) if wrt is not None else tuple(n for n in model.params if n not in tables)
    if not wrt:
        raise SymflowError(f"{model.name} has no parameters to differentiate with respect to")
    p_names, s_names = split_names(model, wrt)
    base = model.complete_params(params)
    given = dict(initial or {})
    if options.get("solver", model.settings.solver) == "auto":  # decide from concrete values
        span = options.get("tspan") or model.settings.tspan
        options = {**options, "solver": model.runner.choose_auto(base, model.check_initial(given),
                                                           float(span[0]), float(span[1]))}
    init0 = model.initial_values(base, given)
    x0 = jnp.concatenate([jnp.ravel(jnp.asarray(base[n], dtype=float)) for n in p_names]
                         + [jnp.ravel(init0[n]) for n in s_names])
    values = [base[n] for n in p_names] + [init0[n] for n in s_names]
    sizes = [int(np.size(v)) for v in values]
    shapes = [np.shape(v) for v in values]
    labels = tuple(n if np.ndim(v) == 0 else f"{n}[{i}]"
                   for n, v in zip((*p_names, *s_names), values) for i in range(np.size(v)))
    offsets = np.cumsum([0, *sizes])
    names_holder: list = []

    def outputs(x):
        p = {k: v for k, v in (params or {}).items()}
        init = dict(given)
        for k, name in enumerate((*p_names, *s_names)):
            value = x[offsets[k]:offsets[k + 1]].reshape(shapes[k])
            if k < len(p_names):
                p[name] = value
            else:
                init[name] = value
        sol = model.simulate(p, initial=init, adjoint="forward", **options)
        names, ys = _flat_outputs(sol)
        names_holder[:] = [names]
        return ys

    jac = jax.jacfwd(outputs)(x0)
    s = model.settings
    t = save_times(options.get("tspan") or s.tspan,
                   options["saveat"] if options.get("saveat") is not None else s.saveat)
    return Sensitivities(t=jnp.asarray(t), matrix=jac, outputs=names_holder[0], wrt=labels)
