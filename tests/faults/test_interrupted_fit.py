"""Ctrl-C during `symflow fit` (Levenberg–Marquardt, a gradient method, or training a
model with closures) exits 130 and keeps what the fit found: the best parameters so
far, written to the outputs that were asked for, and said so in the message."""

import os
import pathlib
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import symflow
from models import model_text
from symflow.cli._common import interrupted, on_interrupt
from symflow.frontend import compile_file
from symflow.learn import BestSoFar

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_the_record_keeps_the_best_finite_point_and_the_step_reached():
    record, made = BestSoFar(), []

    def point(i):
        made.append(i)
        return {"k": float(i)}

    assert record.best() is None and record.step == -1
    for i, value in enumerate([5.0, float("nan"), 3.0, 4.0, float("inf"), 2.5, 2.5]):
        record.offer(i, value, lambda i=i: point(i))
    assert record.best() == (5, 2.5, {"k": 5.0}) and record.step == 6
    assert made == [0, 2, 5]  # a point is made only where it is the best so far
    minibatch = BestSoFar()
    for i, value in enumerate([1.0, 2.0]):
        minibatch.offer(i, None, lambda i=i: i)  # losses not comparable: the latest
    assert minibatch.best() == (1, None, 1)


@pytest.mark.slow
def test_a_fit_keeps_its_best_point_for_another_thread_to_read():
    m = symflow.loads(model_text("decay").replace("k = 2.0", "k = 0.5"))
    t = np.linspace(0.1, 1.0, 10)
    values: list[float] = []
    record = BestSoFar()
    result = m.fit({"t": t, "x": np.exp(-2.0 * t)}, ["k"], best=record,
                   progress=lambda step, value: values.append(value))
    step, value, point = record.best()
    assert record.names == ("k",) and record.step == len(values) - 1
    assert value == min(v for v in values if np.isfinite(v)) == values[step]
    assert set(point) == {"k"} and point["k"] == pytest.approx(result.values["k"], rel=1e-6)


def test_the_interrupt_message_says_what_was_kept_and_never_raises():
    def broken() -> str:
        raise OSError("disk full")

    assert interrupted() == "symflow: interrupted"
    with on_interrupt(lambda: "at step 37; best parameters so far written to f.sf"):
        assert interrupted() == ("symflow: interrupted at step 37; best parameters so far "
                                 "written to f.sf")
        with on_interrupt(broken):
            assert "the progress could not be saved: disk full" in interrupted()
    assert interrupted() == "symflow: interrupted"


def _interrupt_after(argv: list[str], lines: int, cwd: pathlib.Path, marker: str = "step"):
    """Run `symflow ARGV`, send SIGINT after `lines` progress lines: (code, stderr)."""
    # Python's own SIGINT handling, even where the test runner ignores SIGINT
    child = ("import runpy, signal, sys; signal.signal(signal.SIGINT, "
             f"signal.default_int_handler); sys.argv = {['symflow', *argv]!r}; "
             "runpy.run_module('symflow', run_name='__main__')")
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=cwd,
                               env={**os.environ, "SYMFLOW_CACHE": str(cwd / "cache")})
    timer = threading.Timer(300, process.kill)  # never hang the suite
    timer.start()
    try:
        seen = 0
        for line in process.stdout:
            seen += line.startswith(marker)
            if seen == lines:
                process.send_signal(signal.SIGINT)
                break
        _, err = process.communicate(timeout=120)
    finally:
        timer.cancel()
    return process.returncode, err


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["levenberg_marquardt", "adam"])
def test_an_interrupted_fit_writes_its_best_parameters(tmp_path, optimizer):
    for name in ("lotka_volterra.sf", "lotka_volterra_data.csv"):
        (tmp_path / name).write_bytes((EXAMPLES / name).read_bytes())
    code, err = _interrupt_after(
        ["fit", "lotka_volterra.sf", "--data", "lotka_volterra_data.csv", "--set", "alpha=4",
         "--set", "gamma=1", "--optimizer", optimizer, "--steps", "100000", "-o", "fitted.sf"],
        3, tmp_path)
    assert code == 130 and "Traceback" not in err
    assert "symflow: interrupted at step " in err
    assert "best parameters so far (objective " in err and "written to fitted.sf" in err
    fitted = compile_file(tmp_path / "fitted.sf").built
    values = {p.name: float(p.default) for p in fitted.parameters}
    assert values["alpha"] != 4.0 and values["gamma"] != 1.0  # moved from the start
    assert 0 <= values["alpha"] <= 10  # and inside the bounds


@pytest.mark.slow
def test_interrupted_training_writes_the_model_and_its_weights(tmp_path):
    for name in ("lotka_volterra_ude.sf", "lotka_volterra_ude_data.csv"):
        (tmp_path / name).write_bytes((EXAMPLES / name).read_bytes())
    code, err = _interrupt_after(
        ["fit", "lotka_volterra_ude.sf", "--data", "lotka_volterra_ude_data.csv", "--steps",
         "100000", "-o", "trained.sf"], 2, tmp_path)
    assert code == 130 and "Traceback" not in err
    assert "best parameters so far (step " in err
    assert "written to trained.sf and trained.eqx" in err
    m = symflow.load(tmp_path / "trained.sf")
    weights = m.load_weights(tmp_path / "trained.eqx")
    assert set(weights) >= set(m.params) - {"closures"}


@pytest.mark.slow  # three compiled local fits: ~6 s quiet
def test_a_multistart_one_start_after_another_keeps_its_best_point():
    """The best point any start has tried is offered as the steps finish: the record
    ends at the multistart's result, its step the last of all the starts' steps."""
    m = symflow.loads(model_text("decay_product"))  # k1 in [0.1, 10], k2 = 2
    t = np.linspace(0.2, 1.0, 5)
    data = {"t": t, "x": np.exp(-2.6 * t)}
    record = BestSoFar()
    result = m.fit(data, ["k1"], starts=3, batched=False, best=record)
    step, value, point = record.best()
    assert record.step == int(np.sum(result.multistart.steps)) - 1
    assert point["k1"] == pytest.approx(result.values["k1"], rel=1e-9)
    assert point["k1"] == pytest.approx(1.3, rel=1e-6) and value < 1e-12


class _Offers(BestSoFar):
    """A record that also remembers each step it was offered."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[int] = []

    def offer(self, step, value, point) -> None:
        self.steps.append(step)
        super().offer(step, value, point)


@pytest.mark.slow  # a vmapped batch of three compiled fits: ~8 s quiet
def test_a_vmapped_multistart_keeps_its_best_point_while_it_runs():
    m = symflow.loads(model_text("decay_product"))  # k1 in [0.1, 10], k2 = 2
    t = np.linspace(0.2, 1.0, 5)
    record, seen = _Offers(), []
    result = m.fit({"t": t, "x": np.exp(-2.6 * t)}, ["k1"], starts=3, batched=True,
                   best=record, progress=lambda step, value: seen.append((step, value)))
    # progress once per call of the batch, at the record's steps
    assert [s for s, _ in seen] == record.steps
    assert min(v for _, v in seen) == record.best()[1]
    # offered after each call of the batch, not only at its end
    assert len(record.steps) >= 2 and record.steps == sorted(record.steps)
    step, value, point = record.best()
    assert point["k1"] == pytest.approx(result.values["k1"], rel=1e-6) and value < 1e-12


@pytest.mark.slow  # a compiled Lotka–Volterra fit: ~15 s quiet
@pytest.mark.parametrize("how", [[], ["--starts", "2", "--vmap"]])
def test_a_quiet_fit_without_output_keeps_its_best_point(tmp_path, how):
    """`--quiet` without `-o`: what Ctrl-C would say lists the best values while the
    fit runs (read from another thread, as the interrupt handler does)."""
    from symflow.cli import main

    for name in ("lotka_volterra.sf", "lotka_volterra_data.csv"):
        (tmp_path / name).write_bytes((EXAMPLES / name).read_bytes())
    argv = ["fit", str(tmp_path / "lotka_volterra.sf"), "--data",
            str(tmp_path / "lotka_volterra_data.csv"), "--set", "alpha=4", "--optimizer",
            "adam", "--steps", "1500", "--quiet", *how]
    said: list[str] = []
    worker = threading.Thread(target=main, args=(argv,), daemon=True)
    worker.start()
    while worker.is_alive():
        message = interrupted()
        if "best so far (objective" in message:
            said.append(message)
        worker.join(0.05)
    assert said, "nothing was kept while the fit ran"
    assert said[0].startswith("symflow: interrupted at step ")
    assert "alpha = " in said[0] and "gamma = " in said[0]
