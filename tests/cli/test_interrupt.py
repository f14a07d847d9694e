"""Ctrl-C: answered at once with a message and exit code 130, even inside a compile or
a long solve, and never with a traceback."""

import signal
import subprocess
import sys
import time

from models import model_path


def test_an_interrupt_during_a_long_run_exits_130_at_once(tmp_path):
    argv = ["symflow", "run", str(model_path("robertson_example")), "--tspan", "0", "1e12",
            "--solver", "tsit5", "--max-steps", "1000000000", "--no-progress"]
    # Python's own SIGINT handling, even where the test runner ignores SIGINT (which a
    # child would inherit); no preexec_fn: forking a process running JAX may deadlock
    child = ("import runpy, signal, sys; signal.signal(signal.SIGINT, "
             f"signal.default_int_handler); sys.argv = {argv!r}; "
             "runpy.run_module('symflow', run_name='__main__')")
    process = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**__import__("os").environ, "SYMFLOW_CACHE": str(tmp_path)})
    time.sleep(3.0)  # importing, compiling or solving (tsit5 on a stiff problem: hours)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)  # not after the solve: it would take hours
    assert process.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
