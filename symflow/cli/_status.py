"""What the command line shows while it works: a one-line status on a terminal, and
the `--timings` table.

`StatusLine` listens to `symflow.progress` stages: once a stage has run for half
a second it writes `tracing… 1.3 s` on stderr, rewritten in place every tenth of a
second, and clears it when the stage ends, so a long compile never looks like a
hang and a quick command prints nothing extra. `StageTimes` keeps every stage's
duration for `--timings`, whose total is the wall time since the command started
(what no stage covers, the interpreter's start-up included, is shown as its own
line, so the lines add up).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

__all__ = ["StageTimes", "StatusLine", "process_age"]



def process_age() -> float:
    """Seconds since this process started (the interpreter's own start-up included),
    from /proc on Linux; elsewhere, since this module was imported."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
        return max(uptime - started, time.perf_counter() - _IMPORTED)
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _IMPORTED


_IMPORTED = time.perf_counter()


class StatusLine:
    """The status line on `stream` (a terminal), driven by stage events."""

    DELAY = 0.5  # seconds a stage runs before it is shown
    PERIOD = 0.1

    def __init__(self, stream: TextIO = sys.stderr, *, ignore: tuple[str, ...] = ()):
        self.stream = stream
        self.ignore = ignore
        self._lock = threading.Lock()
        self._stage: tuple[str, float] | None = None
        self._shown = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)
        self._thread.start()

    def __call__(self, event: str, name: str, seconds: float) -> None:
        with self._lock:
            if name in self.ignore:
                return
            if event == "start":
                self._stage = (name, time.perf_counter())
            elif self._stage is not None and self._stage[0] == name:
                self._stage = None
                self._clear()

    def close(self) -> None:
        self._done.set()
        with self._lock:
            self._stage = None
            self._clear()

    def _tick(self) -> None:
        while not self._done.wait(self.PERIOD):
            with self._lock:
                if self._stage is None:
                    continue
                name, start = self._stage
                elapsed = time.perf_counter() - start
                if elapsed >= self.DELAY:
                    self.stream.write(f"\r\x1b[K{name}… {elapsed:.1f} s")
                    self.stream.flush()
                    self._shown = True

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


class StageTimes:
    """The duration of every stage, in order (a stage run twice adds up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, event: str, name: str, seconds: float) -> None:
        if event == "end":
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def table(self, *, total: float) -> str:
        """The `--timings` lines: every stage, the rest, and the total."""
        rest = total - sum(self.seconds.values())
        width = max([len(n) for n in self.seconds] + [28])
        lines = ["timings (seconds):"]
        lines += [f"  {name:<{width}} {s:.4f}" for name, s in self.seconds.items()]
        lines.append(f"  {'(start-up, imports, output)':<{width}} {max(rest, 0.0):.4f}")
        lines.append(f"  {'total':<{width}} {total:.4f}")
        return "\n".join(lines)
