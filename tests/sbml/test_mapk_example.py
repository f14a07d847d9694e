"""The MAPK cascade example (Kholodenko 2000, BioModels BIOMD0000000010): the SBML
file imports to the committed `.sf` text, and its solution matches the paper's
equations written by hand and solved by scipy (three periods of the oscillation)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

pytest.importorskip("libsbml")
solve_ivp = pytest.importorskip("scipy.integrate").solve_ivp

import symflow  # noqa: E402
from symflow.sbml import read_sbml  # noqa: E402

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
SPECIES = ["MKKK", "MKKK_P", "MKK", "MKK_P", "MKK_PP", "MAPK", "MAPK_P", "MAPK_PP"]


def _body(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("#")]


def _kholodenko(t: float, y: np.ndarray) -> list[float]:
    """Eur. J. Biochem. 267, 1583 (2000), Table 1 with n = 1, Ki = 9."""
    mkkk, mkkk_p, mkk, mkk_p, mkk_pp, mapk, mapk_p, mapk_pp = y
    j0 = 2.5 * mkkk / ((1 + mapk_pp / 9) * (10 + mkkk))
    j1 = 0.25 * mkkk_p / (8 + mkkk_p)
    j2 = 0.025 * mkkk_p * mkk / (15 + mkk)
    j3 = 0.025 * mkkk_p * mkk_p / (15 + mkk_p)
    j4 = 0.75 * mkk_pp / (15 + mkk_pp)
    j5 = 0.75 * mkk_p / (15 + mkk_p)
    j6 = 0.025 * mkk_pp * mapk / (15 + mapk)
    j7 = 0.025 * mkk_pp * mapk_p / (15 + mapk_p)
    j8 = 0.5 * mapk_pp / (15 + mapk_pp)
    j9 = 0.5 * mapk_p / (15 + mapk_p)
    return [j1 - j0, j0 - j1, j5 - j2, j2 - j3 + j4 - j5, j3 - j4, j9 - j6,
            j6 - j7 + j8 - j9, j7 - j8]


def test_import_gives_the_committed_text() -> None:
    imported = read_sbml(EXAMPLES / "mapk_cascade.xml")
    assert _body(imported.text) == _body((EXAMPLES / "mapk_cascade.sf").read_text())
    assert "J0_V1 = 2.5" in imported.text  # local parameters, renamed per reaction


@pytest.mark.slow
def test_oscillation_matches_the_hand_written_equations() -> None:
    m = symflow.load(EXAMPLES / "mapk_cascade.xml")
    times = np.linspace(0.0, 4000.0, 41)
    sol = m.simulate(tspan=(0.0, 4000.0), saveat=times.tolist(), rtol=1e-10, atol=1e-10)
    y0 = [90, 10, 280, 10, 10, 280, 10, 10]
    ref = solve_ivp(_kholodenko, (0.0, 4000.0), y0, t_eval=times, method="LSODA",
                    rtol=1e-11, atol=1e-11)
    for i, name in enumerate(SPECIES):
        np.testing.assert_allclose(np.asarray(sol[name]), ref.y[i], rtol=1e-5, atol=1e-5,
                                   err_msg=name)
    mapk_pp = np.asarray(sol["MAPK_PP"])
    assert mapk_pp.max() > 290 and mapk_pp[15:].min() < 40  # it oscillates
