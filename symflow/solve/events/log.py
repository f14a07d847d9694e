"""The events that fired in one solve: when, which, and the states around each."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import numpy as np

__all__ = ["EventLog"]


class EventLog(eqx.Module):
    """The event log of a solution (`sol.events`), in the order the events ran.

    The arrays have room for `max_events` entries; the first `count` are events
    (`t` NaN and `index` -1 after them). `pre` and `post` hold the state vector just
    before and just after each event; `labels[k]` is event k as written in the
    model. Concrete logs (outside `jax.jit`) read as lists: `times`, `names`,
    `before(name)`, `after(name)`.
    """

    t: Any
    index: Any
    pre: Any
    post: Any
    count: Any
    labels: tuple[str, ...] = eqx.field(static=True, default=())
    state_names: tuple[str, ...] = eqx.field(static=True, default=())
    _unpack: Any = eqx.field(static=True, default=None)

    def __len__(self) -> int:
        return int(self.count)

    @property
    def times(self) -> np.ndarray:
        """The time of each event, in order."""
        return np.asarray(self.t)[:len(self)]

    @property
    def which(self) -> np.ndarray:
        """The number of each event (its place in the `events` section, from 0)."""
        return np.asarray(self.index)[:len(self)]

    @property
    def names(self) -> list[str]:
        """Each event as written in the model."""
        return [self.labels[k] for k in self.which]

    def before(self, name: str) -> np.ndarray:
        """State `name` just before each event."""
        return np.asarray(self._unpack(np.asarray(self.pre)[:len(self)])[name])

    def after(self, name: str) -> np.ndarray:
        """State `name` just after each event."""
        return np.asarray(self._unpack(np.asarray(self.post)[:len(self)])[name])

    def __repr__(self) -> str:
        if isinstance(self.count, jax.core.Tracer):
            return "EventLog(traced)"
        rows = [f"  t = {t:.10g}: {name}" for t, name in zip(self.times, self.names)]
        return "EventLog(\n" + "\n".join(rows) + "\n)" if rows else "EventLog()"
