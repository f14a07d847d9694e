"""The SBML Test Suite: the vendored cases (tests/data/sbml/cases, LGPL-2.1, see the
LICENSE.txt there) in the default run, and the whole suite under `-m slow`.

    SBML_TEST_SUITE=/path/to/cases/semantic pytest -m slow tests/sbml/test_suite_cases.py

(`python tests/data/sbml/fetch_suite.py DEST` makes such a folder.)
"""

from __future__ import annotations

import os
import pathlib

import pytest

pytest.importorskip("libsbml")

from sbml_suite import CaseResult, run_case, table  # noqa: E402

VENDORED = pathlib.Path(__file__).resolve().parents[1] / "data" / "sbml" / "cases"

# case -> "pass", or a piece of the refusal's message (the construct, by name)
EXPECTED = {
    "00001": "pass",  # one reaction
    "01800": "pass",  # local parameters, hasOnlySubstanceUnits
    "01026": "pass",  # non-unity stoichiometry, reversible
    "01200": "pass",  # assignment rule
    "00903": "pass",  # rate rules on compartments
    "00912": "pass",  # initial assignments
    "00911": "pass",  # function definitions
    "00182": "pass",  # algebraic rule
    "00026": "pass",  # event resetting a species
    "01330": "pass",  # event priorities, values from the trigger time
    "01665": "pass",  # avogadro
    "01122": "pass",  # a boundary species keeps its amount while its volume grows
    "00028": "factorial",
    "00068": "StoichiometryMath",
    "00071": "EventWithDelay",
    "00870": "FastReaction",
    "00938": "csymbol delay",
    "01248": "rateOf",
    "01738": "ConversionFactors",
    "01778": "'comp'",
}


def _check(result: CaseResult, expected: str) -> None:
    if expected == "pass":
        assert result.status == "pass", f"{result.case}: {result.status}: {result.message}"
    else:
        assert result.status == "refused", f"{result.case}: {result.status}: {result.message}"
        assert expected in result.message


# more vendored cases, for `-m slow` (the default run keeps to its time budget)
MORE = {
    "00293": "pass",  # two compartments
    "00339": "pass",  # boundary species
    "00164": "pass",  # rate rule
    "01243": "pass",  # event on time
    "01211": "pass",  # a chained comparison in a trigger: an `and` condition
    "00197": "pass",  # ceiling in a kinetic law
    # a trigger on its threshold at t = 0, initialValue true and false (the default run
    # has the rule in tests/solve/events/test_triggers.py)
    "00996": "pass",
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_vendored_case(case: str) -> None:
    _check(run_case(VENDORED / case), EXPECTED[case])


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(MORE))
def test_more_vendored_cases(case: str) -> None:
    _check(run_case(VENDORED / case), MORE[case])


def test_every_vendored_case_is_listed() -> None:
    assert sorted(p.name for p in VENDORED.iterdir() if p.is_dir()) == sorted(
        {**EXPECTED, **MORE})


# Component and test tags whose every case should pass (docs/sbml.md, "Supported");
# a case carrying any other tag may be refused.
SUPPORTED_COMPONENTS = {
    "Compartment", "Species", "Reaction", "Parameter", "AssignmentRule", "RateRule",
    "AlgebraicRule", "InitialAssignment", "FunctionDefinition", "EventNoDelay",
    "CSymbolTime", "CSymbolAvogadro", "EventPriority"}
UNSUPPORTED_TESTS = {
    "FastReaction", "ConversionFactors", "AssignedVariableStoichiometry",
    "RandomEventExecution", "EventIsNotPersistent"}


@pytest.mark.slow
def test_full_suite() -> None:
    root = os.environ.get("SBML_TEST_SUITE")
    if not root:
        pytest.skip("set SBML_TEST_SUITE to a cases/semantic folder")
    folders = sorted(p for p in pathlib.Path(root).iterdir() if p.is_dir() and p.name.isdigit())
    results = [run_case(folder) for folder in folders]
    print(table(results))
    wrong = [r for r in results if r.status in ("fail", "crash", "rejected")
             and set(r.component_tags) <= SUPPORTED_COMPONENTS
             and not set(r.test_tags) & UNSUPPORTED_TESTS]
    assert not wrong, "\n".join(f"{r.case} {r.status}: {r.message}" for r in wrong)
