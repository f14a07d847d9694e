"""Fitting a model with events: the multi-dose example recovers its parameters."""

from __future__ import annotations

import pathlib

import symflow

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
TRUE = {"CL": 2.0, "V": 20.0}  # what examples/make_multidose_pk_data.py simulated


def test_multidose_fit_recovers_clearance_and_volume_within_two_standard_errors():
    # start far from the truth: half the clearance, 1.75 x the volume
    text = (EXAMPLES / "multidose_pk.sf").read_text()
    text = text.replace("CL = 2.0", "CL = 1.0").replace("V = 20.0", "V = 35.0")
    m = symflow.loads(text, file=str(EXAMPLES / "multidose_pk_start.sf"))
    result = m.fit(EXAMPLES / "multidose_pk_data.csv", params=["CL", "V"],
                   scale="relative", tspan=(0, 130))
    for name, true in TRUE.items():
        error = abs(result.values[name] - true)
        assert error < 2 * result.stderr[name], (name, result.values[name],
                                                 result.stderr[name])
        # 5% noise on 30 points: the standard errors are a few percent, not a guess
        assert result.stderr[name] < 0.05 * true
