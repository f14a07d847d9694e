"""Observed outputs, computed from the saved states when first asked for.

A compiled solve returns the states only (`Simulator`): alias and algebraic
elimination leave a component model with many observed outputs (about 13 per
section of an RC ladder), and evaluating them all inside every compiled solve
made its XLA compile about ten times slower (issue 22). A `Solution` computes
them from its saved states on first access instead:

- a *pure alias* (an output that is a state, minus a state, a parameter, minus a
  parameter, or a number; `observed_aliases` reads them off the System) is a view
  or a cheap transform of the saved arrays, with nothing compiled;
- every other output comes from the model's observed function over the save grid
  (`Outputs.computed_values`), all of them at once the first time any is read
  (reading one output of a solution, or all of them for a CSV file, evaluates it
  once). The first `EAGER_READS` solutions of a model that are read evaluate it op
  by op, compiling nothing; later ones (a loop over many solves) run it as one
  program compiled then. Measured on the RC ladder (13 observed outputs per
  section, 8 of them computed), op by op took 0.12 s at 100 sections where the
  compile took 5.5 s, and 1.5 s at 1000 where the compile took 195 s: XLA's
  compile of thousands of small outputs grows faster than their number.

Under a trace (`jax.grad` of a fit through `Model.simulate`) the same program is
inlined into the traced computation, so an observed output named by fitting data
stays differentiable.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from ..codegen import GeneratedModel
from ..errors import SymflowError
from ..symbolic import System

__all__ = ["EAGER_READS", "Alias", "Outputs", "observed_aliases", "unpack_outputs"]

# How many solutions of one model compute their observed outputs op by op before
# the observed program is compiled: about the compile time over the time of one op
# by op evaluation, measured on the RC ladder (45 at 100 sections, 160 at 1000):
# no more than about twice the better of the two in any sequence of reads.
EAGER_READS = 50


@dataclasses.dataclass(frozen=True)
class Alias:
    """An observed output that is `sign * source` (a state or a parameter, by name)
    or the number `value` (`kind = "number"`, `source` empty)."""

    kind: Literal["state", "parameter", "number"]
    source: str = ""
    sign: float = 1.0
    value: float = 0.0

    def as_json(self) -> list:
        """`[kind, source, sign, value]`: kept beside a program (`cli/_kept.py`)."""
        return [self.kind, self.source, self.sign, self.value]

    @classmethod
    def from_json(cls, entry: list) -> Alias:
        kind, source, sign, value = entry
        return cls(kind, source, float(sign), float(value))


def observed_aliases(system: System, generated: GeneratedModel) -> dict[str, Alias]:
    """The observed outputs of `system` that are pure aliases, by name: a state or a
    parameter of the generated program (of the same shape), its negation, or a real
    number. Everything else is computed by the observed program."""
    states = {s.name: s.shape for s in generated.states}
    parameters = set(generated.parameter_names)
    by_symbol = {v.symbol: v.name for v in system.variables}
    by_symbol.update({p.symbol: p.name for p in system.parameters})
    shapes = dict(generated.observed)
    out: dict[str, Alias] = {}
    for o in system.observed:
        if o.name not in shapes:
            continue
        expr = o.expr
        if isinstance(expr, sp.Expr) and expr.is_number:
            if expr.is_real:
                out[o.name] = Alias("number", value=float(expr))
            continue
        sign = 1.0
        if isinstance(expr, sp.Mul) and len(expr.args) == 2 and expr.args[0] == -1:
            sign, expr = -1.0, expr.args[1]
        name = by_symbol.get(expr) if isinstance(expr, sp.Symbol) else None
        if name is None:
            continue
        if name in states and states[name] == shapes[o.name]:
            out[o.name] = Alias("state", name, sign)
        elif name in parameters and shapes[o.name] == ():
            out[o.name] = Alias("parameter", name, sign)
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class Outputs:
    """How the named values of a solution come from its saved states `ys` (time
    first, the flat state vector second): states and aliases as views or cheap
    transforms, the other observed outputs from one compiled program.

    One per `Simulator` (compared by identity: it is static data of every
    `Solution`, part of its pytree structure).
    """

    generated: GeneratedModel
    aliases: Mapping[str, Alias]
    # (start, stop, shape) of each state in the flat state vector
    states: Mapping[str, tuple[int, int, tuple[int, ...]]] = dataclasses.field(init=False)
    shapes: Mapping[str, tuple[int, ...]] = dataclasses.field(init=False)
    computed: tuple[str, ...] = dataclasses.field(init=False)
    _programs: dict = dataclasses.field(init=False, default_factory=dict)
    # solutions whose outputs were computed op by op (a one-element list: mutable)
    _reads: list[int] = dataclasses.field(init=False, default_factory=lambda: [0])

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "states", {s.name: (s.start, s.stop, tuple(s.shape))
                              for s in self.generated.states})
        set_(self, "shapes", {n: tuple(s) for n, s in self.generated.observed})
        set_(self, "computed", tuple(n for n, _ in self.generated.observed
                                     if n not in self.aliases))

    # ------------------------------------------------------------ reading

    def has(self, name: str) -> bool:
        """Whether `name` is a state or an observed output."""
        return name in self.states or name in self.shapes

    def value(self, ts: Any, ys: Any, params: Mapping[str, Any] | None, name: str,
              memo: dict) -> Any:
        """State or observed output `name` over the times `ts` of the saved states
        `ys`; the computed outputs, once computed, are kept in `memo`."""
        if name in self.states:
            return self.state(ys, name)
        if params is None:
            raise SymflowError(
                f"{name!r} is an observed output, computed from the states and the "
                "parameters: this solution does not hold its parameters",
                help="read it from the solution `simulate` returns")
        if name in self.aliases:
            return self.alias(ys, params, name)
        if "computed" not in memo:
            memo["computed"] = self.computed_values(ts, ys, params)
        return memo["computed"][name]

    def state(self, ys: Any, name: str) -> Any:
        """State `name` over time: a view of `ys` (whose leading axes, time and any
        batch axes of a solution returned from `jax.vmap`, it keeps)."""
        a, b, shape = self.states[name]
        return ys[..., a] if shape == () else ys[..., a:b].reshape(*ys.shape[:-1], *shape)

    def alias(self, ys: Any, params: Mapping[str, Any], name: str) -> Any:
        """A pure alias over time (NumPy for NumPy `ys`, JAX otherwise)."""
        a = self.aliases[name]
        xp: Any = np if isinstance(ys, np.ndarray) else jnp
        lead = ys.shape[:-1]  # time, after any batch axes
        if a.kind == "state":
            value = self.state(ys, a.source)
            return value if a.sign == 1.0 else -value
        if a.kind == "parameter":
            p = params[a.source]
            if xp is np and not isinstance(p, jax.core.Tracer):
                p = np.asarray(p, dtype=float)
            else:
                xp = jnp
            p = xp.asarray(p)  # one value, or one per batch element
            return xp.broadcast_to(xp.reshape(p, (*p.shape, *(1,) * (len(lead) - p.ndim))),
                                   lead)
        return xp.full((*lead, *self.shapes[name]), a.value)

    def computed_values(self, ts: Any, ys: Any, params: Mapping[str, Any]
                        ) -> dict[str, Any]:
        """Every observed output that is not an alias, over the save grid: NumPy views
        of one packed output of a compiled program for concrete arguments; JAX
        arrays of a traced call otherwise (inlined into an outer trace)."""
        if not self.computed:
            return {}
        if np.ndim(ys) != 2:
            raise SymflowError(
                "the observed outputs of a batch of solutions (one returned from "
                "jax.vmap) are not computed outside it",
                help="read them inside the vmapped function: sol[name] there")
        traced = any(isinstance(x, jax.core.Tracer)
                     for x in jax.tree.leaves((ts, ys, params)))
        if traced:
            return self.program("dict")(ts, ys, params)
        if self._reads[0] < EAGER_READS:  # op by op: no compile
            self._reads[0] += 1
            values = self.unjitted(packed=False)(jnp.asarray(ts), jnp.asarray(ys), params)
            return {k: np.asarray(v) for k, v in values.items()}
        return self.unpack_computed(np.asarray(self.program("packed")(ts, ys, params)),
                                    len(ts))

    def unpack_computed(self, flat: np.ndarray, n: int) -> dict[str, np.ndarray]:
        """The computed outputs over `n` times by name: views of the packed output
        `flat` of the `packed` program."""
        return unpack_outputs(flat, n, [(k, self.shapes[k]) for k in self.computed])

    # ------------------------------------------------------------ programs

    def program(self, kind: Literal["dict", "packed"]) -> Callable:
        """The jitted `(ts, ys, params) -> outputs` over a save grid: a dict of the
        computed outputs (`dict`, for traces), or one flat array holding them in
        `computed` order (`packed`: one output buffer for a concrete call). Made once;
        JAX compiles it once per shape of the save grid."""
        if kind not in self._programs:
            self._programs[kind] = jax.jit(self.unjitted(packed=kind == "packed"))
        return self._programs[kind]

    def unjitted(self, *, packed: bool, names: Sequence[str] | None = None) -> Callable:
        """`(ts, ys, params) -> outputs`, unjitted: the observed outputs `names` (default:
        the computed ones), as `program` says (the program it compiles, and the one a
        kept run exports)."""
        g = self.generated
        computed = tuple(names) if names is not None else self.computed

        def values(ts, ys, params):
            if g.prepare is not None:  # what the solve computed once
                params = g.prepare(params)
            out = jax.vmap(lambda t, y: g.observed_fn(t, y, params))(ts, ys)
            if packed:
                return jnp.concatenate([jnp.ravel(out[k]) for k in computed])
            return {k: out[k] for k in computed}

        return values


def unpack_outputs(flat: np.ndarray, n: int, layout: Sequence[tuple[str, Sequence[int]]]
                   ) -> dict[str, np.ndarray]:
    """Outputs by name from one flat array holding each, over `n` times, in the order
    and with the shapes of `layout`: views of `flat`."""
    offset, out = 0, {}
    for name, shape in layout:
        width = n * math.prod(shape)
        out[name] = flat[offset:offset + width].reshape(n, *shape)
        offset += width
    return out
