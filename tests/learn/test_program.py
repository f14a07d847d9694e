"""A fit compiles once per model and option set: a second `fit` with new data of the
same layout runs the kept program, without tracing the model again (counted by the
calls of `simulate`, which only a trace makes), with or without progress; its
progress callback sees every iteration."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_text
from symflow.learn._fit import prepare


def _data(k: float, seed: int, ts=np.linspace(0.1, 1.0, 8)) -> dict:
    rng = np.random.default_rng(seed)
    return {"t": ts, "x": np.exp(-k * ts) * (1 + 0.01 * rng.standard_normal(ts.size))}


def test_the_key_holds_the_layout_and_options_not_the_values():
    m = symflow.loads(model_text("decay"))

    def key(data, **options):
        return prepare(m, data, None, log=(), scale="none", noise=None,
                       options=options).objective.key()

    assert key(_data(1.5, 0)) == key(_data(2.5, 1))  # new values: the same program
    assert key(_data(1.5, 0)) != key(_data(1.5, 0, ts=np.linspace(0.2, 1.0, 8)))  # new times
    assert key(_data(1.5, 0)) != key(_data(1.5, 0), solve_rtol=1e-6)  # a solve option


def test_second_fit_with_new_data_of_the_same_layout_does_not_trace():
    m = symflow.loads(model_text("decay"))
    calls = []
    simulate = m.simulate

    def counting(*args, **kwargs):
        calls.append(1)
        return simulate(*args, **kwargs)

    m.simulate = counting  # type: ignore[method-assign]
    seen: list[tuple[int, float]] = []
    first = m.fit(_data(1.5, 0), progress=lambda step, value: seen.append((step, value)))
    traced = len(calls)
    assert traced > 0
    # new values at the same times: no new trace
    second = m.fit(_data(2.5, 1), progress=lambda step, value: None)
    assert len(calls) == traced
    # ... and the kept program fitted the new data, not the old
    assert first.values["k"] == pytest.approx(1.5, rel=0.02)
    assert second.values["k"] == pytest.approx(2.5, rel=0.02)
    # without progress: the same program (it holds no host callback, so JAX's
    # persistent cache keeps it too), not traced again
    quiet = m.fit(_data(1.5, 0))
    again = m.fit(_data(2.5, 1))
    assert len(calls) == traced
    assert quiet.values["k"] == pytest.approx(first.values["k"], rel=1e-9)
    assert again.values["k"] == pytest.approx(second.values["k"], rel=1e-9)

    # progress: one call per iteration, and step 0 reports the objective at the
    # start (k = 2), not 0.0; the best reported is the result's
    assert [s for s, _ in seen] == list(range(len(seen))) and len(seen) >= 2
    x = _data(1.5, 0)
    start = float(np.sum((np.exp(-2.0 * x["t"]) - x["x"]) ** 2))
    assert seen[0][1] == pytest.approx(start, rel=1e-6)
    assert min(v for _, v in seen) == pytest.approx(first.loss, rel=1e-6)
