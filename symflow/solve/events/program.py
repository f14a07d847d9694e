"""The events of one generated model, in the form the hybrid loop runs them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .triggers import Triggers

__all__ = ["EventProgram"]


@dataclasses.dataclass(frozen=True, eq=False)
class EventProgram:
    """Events as functions (see codegen's `_emit_events`), split by kind.

    `when` lists the event numbers of the crossing events and `timed` those of the
    `at`/`every` events (the order of `checks`' outputs). `conditions` gives the
    value of each comparison of the `when` conditions; `triggers` says which events
    they fire (`triggers.py`), `directions` is each comparison's direction (+1
    rising, -1 falling, 0 either). `labels` is each event as written.
    """

    kinds: tuple[str, ...]
    triggers: Triggers
    terminates: tuple[bool, ...]
    labels: tuple[str, ...]
    conditions: Callable
    checks: Callable
    schedule: Callable
    affects: tuple[Callable, ...]

    @classmethod
    def from_generated(cls, generated) -> EventProgram:
        """The program of a `GeneratedModel` with events."""
        kinds = tuple(e[0] for e in generated.events)
        when = tuple(k for k, kind in enumerate(kinds) if kind == "when")
        triggers = Triggers.from_table(when, generated.event_relations, generated.event_logic,
                                       [generated.events[k][1] for k in when])
        return cls(
            kinds=kinds, triggers=triggers,
            terminates=tuple(bool(e[2]) for e in generated.events),
            labels=tuple(e[3] for e in generated.events),
            conditions=generated.event_conditions, checks=generated.event_checks,
            schedule=generated.event_schedule, affects=generated.affects)

    @property
    def directions(self) -> np.ndarray:
        return self.triggers.directions

    @property
    def when(self) -> tuple[int, ...]:
        return tuple(k for k, kind in enumerate(self.kinds) if kind == "when")

    @property
    def timed(self) -> tuple[int, ...]:
        return tuple(k for k, kind in enumerate(self.kinds) if kind != "when")

    def time_tables(self, params, t0) -> list[tuple[jax.Array, jax.Array, jax.Array]]:
        """Per timed event, `(times, start, period)`: the sorted times of an `at` event
        (start and period unused), or `start` and `period` of an `every` event with
        `times` holding its end. Computed from the parameters."""
        values = self.schedule(params)
        out = []
        for k in self.timed:
            if self.kinds[k] == "at":
                n = sum(1 for key in values if key.startswith(f"{k}:") and
                        key.split(":")[1].isdigit())
                times = jnp.sort(jnp.stack([jnp.asarray(values[f"{k}:{i}"], dtype=float)
                                            for i in range(n)]))
                out.append((times, jnp.asarray(0.0), jnp.asarray(0.0)))
            else:
                start = jnp.asarray(values.get(f"{k}:start", t0), dtype=float)
                stop = jnp.asarray(values.get(f"{k}:stop", jnp.inf), dtype=float)
                period = jnp.asarray(values[f"{k}:period"], dtype=float)
                out.append((stop[None], start, period))
        return out

    def first_counts(self, tables, t0) -> jax.Array:
        """For each timed event, the number of its times before `t0` (skipped)."""
        counts = []
        for k, (times, start, period) in zip(self.timed, tables):
            if self.kinds[k] == "at":
                counts.append(jnp.sum(times < t0))
            else:
                behind = jnp.ceil((t0 - start) / period - 1e-12)
                counts.append(jnp.maximum(behind, 0.0).astype(jnp.int32))
        return jnp.asarray(counts, dtype=jnp.int32).reshape(len(self.timed))

    def next_times(self, tables, counts) -> jax.Array:
        """The next time of each timed event after `counts` of its times (inf: none)."""
        out = []
        for j, (k, (times, start, period)) in enumerate(zip(self.timed, tables)):
            n = counts[j]
            if self.kinds[k] == "at":
                out.append(jnp.where(n < times.shape[0],
                                     times[jnp.minimum(n, times.shape[0] - 1)], jnp.inf))
            else:
                t = start + n.astype(period.dtype) * period
                out.append(jnp.where(t <= times[0] + 1e-9 * period, t, jnp.inf))
        return jnp.stack(out) if out else jnp.zeros((0,))
