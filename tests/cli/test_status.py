"""The status line: shown on a terminal while a long stage runs, never otherwise."""

import os
import pty
import subprocess
import sys

import pytest

from models import model_path
from symflow.cli._status import StageTimes, StatusLine

ROBERTSON = str(model_path("robertson_example"))


def _run_on_a_terminal(tmp_path, *extra: str) -> tuple[int, str, str]:
    """Run `symflow run` with stderr on a pseudo-terminal; (exit code, stdout, what the
    terminal received)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "SYMFLOW_CACHE": str(tmp_path / "cache"), "SYMFLOW_KEEP": "0"}
    process = subprocess.Popen([sys.executable, "-m", "symflow", "run", ROBERTSON,
                                "--no-progress", *extra], stdout=subprocess.PIPE,
                               stderr=follower, env=env, text=True)
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        received += chunk
    out, _ = process.communicate(timeout=300)
    os.close(leader)
    return process.returncode, out, received.decode(errors="replace")


def test_a_terminal_sees_the_long_stages_and_then_a_clean_line(tmp_path):
    code, out, terminal = _run_on_a_terminal(tmp_path)
    assert code == 0 and "solved with" in out
    shown = [part.split("…")[0] for part in terminal.split("\r\x1b[K") if "…" in part]
    assert shown, terminal  # importing JAX alone takes longer than half a second
    assert set(shown) <= {"importing JAX and diffrax", "parsing", "building the equations",
                          "simplifying 3 equations", "generating code", "choosing the solver",
                          "tracing", "compiling (XLA)", "loading the generated code"}
    assert terminal.endswith("\r\x1b[K")  # the status line is cleared at the end


@pytest.mark.slow
def test_quiet_shows_nothing(tmp_path):
    code, _, terminal = _run_on_a_terminal(tmp_path, "--quiet")
    assert code == 0 and "…" not in terminal


def test_the_status_line_waits_half_a_second_and_clears(tmp_path):
    class Stream:
        text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    stream = Stream()
    status = StatusLine(stream)  # type: ignore[arg-type]
    status("start", "quick", 0.0)
    status("end", "quick", 0.01)
    status.close()
    assert stream.text == ""


def test_timings_add_up():
    times = StageTimes()
    times("end", "parsing", 0.25)
    times("end", "tracing", 1.0)
    times("end", "tracing", 0.5)
    lines = times.table(total=2.0).splitlines()
    assert lines[2].split()[-1] == "1.5000"
    assert sum(float(line.split()[-1]) for line in lines[1:-1]) == pytest.approx(2.0)
