"""A runner for the SBML Test Suite's semantic cases (sbmlteam/sbml-test-suite,
`cases/semantic/NNNNN/`), used by tests/sbml/ and runnable as a script.

It lives beside the tests, not in the package: it drives the whole of symflow
(import, compile, simulate), so inside `symflow/` it would sit above `api` in the
stages, and it is test machinery no user of the library needs.

One case: import the SBML file (the newest level the case has), simulate at the
times of the case's results with tight tolerances, read each requested variable as
an amount or a concentration as the settings say, and compare every point with the
suite's rule |sim - ref| <= absolute + relative*|ref|.

Outcomes: `pass`; `fail` (numbers outside the tolerance); `solver` (the solve stopped
with a `SolverError`, e.g. events accumulating: a refusal at run time, not a wrong
number);
`refused` (the import refused the model with a `SymflowError` naming what it does not
support); `rejected` (the translated text was refused by symflow's compiler, a
`SymflowError` too: a gap in the language or a bug of the import, never silent);
`skipped` (not a time course: flux balance cases); `crash` (an exception other than
`SymflowError`: a bug to fix).

    PYTHONPATH=.:tests python -m sbml_suite SUITE_CASES_FOLDER [CASE ...] [--table]
"""

from __future__ import annotations

import csv
import dataclasses
import pathlib
import time
from collections.abc import Sequence

import numpy as np

__all__ = ["Settings", "CaseResult", "read_settings", "case_tags", "run_case", "sbml_file"]

LEVELS = ("l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1")
RTOL, ATOL = 1e-10, 1e-14


@dataclasses.dataclass(frozen=True)
class Settings:
    """A case's `NNNNN-settings.txt`."""

    start: float
    duration: float
    steps: int
    variables: tuple[str, ...]
    absolute: float
    relative: float
    amount: tuple[str, ...]
    concentration: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class CaseResult:
    """The outcome of one case."""

    case: str
    status: str  # pass | fail | solver | refused | rejected | skipped | crash
    message: str = ""
    component_tags: tuple[str, ...] = ()
    test_tags: tuple[str, ...] = ()
    seconds: float = 0.0


def read_settings(path: pathlib.Path) -> Settings:
    fields: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()

    def names(key: str) -> tuple[str, ...]:
        return tuple(n.strip() for n in fields.get(key, "").split(",") if n.strip())

    return Settings(float(fields["start"]), float(fields["duration"]), int(fields["steps"]),
                    names("variables"), float(fields["absolute"]), float(fields["relative"]),
                    names("amount"), names("concentration"))


def case_tags(folder: pathlib.Path) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """(componentTags, testTags, testType) of a case, from its `-model.m` header."""
    found = {"componentTags": "", "testTags": "", "testType": ""}
    for line in (folder / f"{folder.name}-model.m").read_text().splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in found:
            found[key.strip()] = value.strip()

    def split(text: str) -> tuple[str, ...]:
        return tuple(t.strip() for t in text.split(",") if t.strip())

    return split(found["componentTags"]), split(found["testTags"]), found["testType"]


def sbml_file(folder: pathlib.Path) -> pathlib.Path | None:
    """The case's SBML file in the newest level it has."""
    for level in LEVELS:
        path = folder / f"{folder.name}-sbml-{level}.xml"
        if path.is_file():
            return path
    return None


def _results(path: pathlib.Path) -> tuple[list[str], np.ndarray]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]]
    values = np.array([[float(x) for x in row] for row in rows[1:] if row], dtype=float)
    return header, values


def _series(name: str, sol, m, n: int) -> np.ndarray:
    """A model name's values at the saved times: a state or output, else a parameter."""
    if name in sol:
        return np.asarray(sol[name], dtype=float)
    if name in m.params:
        return np.full(n, float(m.params[name]))
    raise KeyError(name)


def _simulate(folder: pathlib.Path, settings: Settings) -> tuple[str, str]:
    """Long because it is the one place a case goes from files to a verdict."""
    import symflow
    from symflow.errors import SolverError, SymflowError
    from symflow.sbml import read_sbml

    path = sbml_file(folder)
    if path is None:
        return "skipped", "no SBML file"
    try:
        imported = read_sbml(path)
    except SymflowError as e:
        return "refused", e.message
    try:
        m = symflow.loads(imported.text, file=str(path))
    except SymflowError as e:
        return "rejected", e.message
    header, ref = _results(folder / f"{folder.name}-results.csv")
    times = ref[:, 0]
    try:
        sol = m.simulate(tspan=(settings.start, settings.start + settings.duration),
                         saveat=[float(x) for x in times], rtol=RTOL, atol=ATOL,
                         max_steps=1_000_000)
    except SolverError as e:
        return "solver", e.message
    except SymflowError as e:
        return "rejected", e.message
    worst = ""
    worst_excess = 0.0
    for column, sid in enumerate(header[1:], start=1):
        name = imported.names.get(sid, sid)
        try:
            values = _series(name, sol, m, len(times))
        except KeyError:
            return "rejected", f"no output for {sid}"
        info = imported.species.get(name)
        if info is not None and info.compartment:
            volume = _series(info.compartment, sol, m, len(times))
            if sid in settings.amount and not info.amount:
                values = values * volume
            elif sid in settings.concentration and info.amount:
                values = values / volume
        expected = ref[:, column]
        bound = settings.absolute + settings.relative * np.abs(expected)
        error = np.abs(values - expected)
        same = (np.isnan(values) & np.isnan(expected)) | (values == expected)
        bad = ~same & ~(error <= bound)
        if bad.any():
            i = int(np.argmax(np.where(bad, error - bound, -np.inf)))
            excess = float(error[i] - bound[i]) if np.isfinite(error[i]) else np.inf
            if excess >= worst_excess:
                worst_excess = excess
                worst = (f"{sid} at t = {times[i]:g}: {values[i]:.10g}, expected "
                         f"{expected[i]:.10g}")
    return ("fail", worst) if worst else ("pass", "")


def run_case(folder: str | pathlib.Path) -> CaseResult:
    """Run one case folder (`.../cases/semantic/00001`)."""
    folder = pathlib.Path(folder)
    components, tests, kind = case_tags(folder)
    start = time.perf_counter()
    if "TimeCourse" not in kind:
        status, message = "skipped", f"test type {kind}"
    else:
        try:
            status, message = _simulate(folder,
                                        read_settings(folder / f"{folder.name}-settings.txt"))
        except Exception as e:  # a traceback symflow should have turned into an error
            status, message = "crash", f"{type(e).__name__}: {e}"
    return CaseResult(folder.name, status, message, components, tests,
                      time.perf_counter() - start)


def tally(results: Sequence[CaseResult]) -> dict[str, dict[str, int]]:
    """Counts by component tag: cases, and each status."""
    out: dict[str, dict[str, int]] = {}
    for r in results:
        for tag in (*r.component_tags, "(all)"):
            row = out.setdefault(tag, {"cases": 0, "pass": 0, "fail": 0, "solver": 0,
                                       "refused": 0, "rejected": 0, "skipped": 0, "crash": 0})
            row["cases"] += 1
            row[r.status] += 1
    return out


def table(results: Sequence[CaseResult]) -> str:
    """The counts as a Markdown table, tags by number of cases."""
    counts = tally(results)
    lines = ["| component tag | cases | passed | failed | solver error | refused | rejected "
             "| crashed | skipped |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for tag, row in sorted(counts.items(), key=lambda kv: (kv[0] != "(all)", -kv[1]["cases"])):
        lines.append(f"| {tag} | {row['cases']} | {row['pass']} | {row['fail']} | "
                     f"{row['solver']} | "
                     f"{row['refused']} | {row['rejected']} | {row['crash']} | "
                     f"{row['skipped']} |")
    return "\n".join(lines)
