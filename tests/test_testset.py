"""Stiff problems of the Test Set for IVP Solvers (Mazzia & Magherini, Bari) from
their model files, against the reference solutions published there
(`tests/models/testset_reference.json`). The Transistor Amplifier, a mass-matrix
DAE, is in `tests/passes/dae/test_mass_matrix.py`; ROBER over its long span in
`tests/passes/reactions/test_conservation.py`."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_text, published_reference


def _digits(problem: str, model: str, **options) -> float:
    """Correct significant digits of the final state: -log10 of the largest relative
    error against the published reference."""
    t1, reference = published_reference(problem)
    s = symflow.loads(model_text(model)).simulate(saveat=[t1], **options)
    errors = [abs(float(np.asarray(s[k])[-1]) - v) / abs(v) for k, v in reference.items()]
    return float(-np.log10(max(errors)))


@pytest.mark.slow  # about 17 s (10 s of it compiling 20 states with 25 rates)
def test_pollu_with_auto():
    # auto picks rodas5p; rtol 1e-8, atol 1e-14 (y16 ends at 4e-18): 8.7 digits measured
    assert _digits("pollu", "pollu", rtol=1e-8, atol=1e-14) > 8.0


@pytest.mark.slow  # about 5 s
def test_orego_with_auto():
    # auto picks rodas5p; rtol = atol = 1e-8: 8.5 digits measured over the six decades
    # the states span
    assert _digits("orego", "orego", rtol=1e-8, atol=1e-8) > 7.5
