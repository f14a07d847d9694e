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
    before and just after each event; `before(name)` and `after(name)` read a state
    or an observed output there by name (an observed output is computed from `pre`
    or `post` and the solve's `params` when first read, as `Solution` does);
    `labels[k]` is event k as written in the model.
    Concrete logs (outside `jax.jit`) read as lists: `times`, `which`, `names`,
    `before(name)`, `after(name)`.
    """

    t: Any
    index: Any
    pre: Any
    post: Any
    count: Any
    params: Any = None  # the parameters of the solve (set by `Solution.with_params`)
    labels: tuple[str, ...] = eqx.field(static=True, default=())
    outputs: Any = eqx.field(static=True, default=None)  # the model's `observed.Outputs`

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
        """State or output `name` just before each event."""
        return np.asarray(self.value_before(name))[:len(self)]

    def after(self, name: str) -> np.ndarray:
        """State or output `name` just after each event."""
        return np.asarray(self.value_after(name))[:len(self)]

    def value_before(self, name: str) -> Any:
        """State or output `name` just before each event, on every row (traceable)."""
        return self._value(name, self.pre, "before")

    def value_after(self, name: str) -> Any:
        """State or output `name` just after each event, on every row (traceable)."""
        return self._value(name, self.post, "after")

    def _value(self, name: str, ys: Any, side: str) -> Any:
        memo = self.__dict__.get("_memo")
        if memo is None:
            memo = {"before": {}, "after": {}}
            object.__setattr__(self, "_memo", memo)
        return self.outputs.value(self.t, ys, self.params, name, memo[side])

    def merged(self, columns: dict[str, np.ndarray], t_reached: float
               ) -> dict[str, np.ndarray]:
        """Flat output columns (`t` first, as `Solution.columns`) cut at `t_reached`,
        with two rows added at each event, the values just before and just after it
        (so a plot shows the jump), and a column `event`: the event's number on those
        rows, -1 on the others. Rows are in time order, each event's after its before."""
        t = columns["t"]
        keep = t <= t_reached
        n = len(self)
        times = np.concatenate([t[keep], self.times, self.times])
        # order: by time; at one time, the rows before the events, then events in their
        # order (before, after), then the saved rows (which hold the state after)
        rank = np.concatenate([np.full(keep.sum(), 3 * n + 1), 1 + 2 * np.arange(n),
                               2 + 2 * np.arange(n)])
        order = np.lexsort((rank, times))
        out = {"t": times[order]}
        for name, column in columns.items():
            if name == "t":
                continue
            base, _, element = name.partition("[")
            before, after = self.before(base), self.after(base)
            if element:
                i = int(element[:-1])
                before, after = before[:, i], after[:, i]
            out[name] = np.concatenate([column[keep], before, after])[order]
        event = np.concatenate([np.full(keep.sum(), -1), self.which, self.which])
        out["event"] = event[order]
        return out

    def __repr__(self) -> str:
        if isinstance(self.count, jax.core.Tracer):
            return "EventLog(traced)"
        rows = [f"  t = {t:.10g}: {name}" for t, name in zip(self.times, self.names)]
        return "EventLog(\n" + "\n".join(rows) + "\n)" if rows else "EventLog()"
