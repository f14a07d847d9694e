"""A PEtab v1 problem read and checked by the `petab` library (its YAML file, SBML model
and four tables), every failure a `SymflowError` that names the file.

`petab` is an optional dependency (`pip install 'symflow[petab]'`), imported when a
problem is read.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import logging
import os
import warnings
from typing import Any

from ..errors import SymflowError

__all__ = ["Tables", "read_tables", "petab_module"]


@functools.cache
def petab_module() -> Any:
    """`petab.v1`, or a `SymflowError` that says how to install it."""
    try:
        import petab.v1 as module
    except ImportError:
        raise SymflowError("PEtab import needs the petab package: "
                           "pip install 'symflow[petab]'") from None
    return module


@dataclasses.dataclass(frozen=True)
class Tables:
    """What a PEtab problem holds: the SBML model's path, the four tables (pandas
    DataFrames, as `petab` reads them) and the file each came from (for errors)."""

    yaml: str
    sbml: str
    conditions: Any
    observables: Any
    measurements: Any
    parameters: Any
    files: dict[str, str]


def _files(problem_yaml: dict, base: str) -> dict[str, str]:
    """The file of each table (`+`-joined where the YAML names several)."""
    (problem,) = problem_yaml["problems"]
    keys = {"conditions": "condition_files", "observables": "observable_files",
            "measurements": "measurement_files", "sbml": "sbml_files"}
    out = {k: " + ".join(os.path.join(base, f) for f in problem.get(v, []))
           for k, v in keys.items()}
    out["parameters"] = os.path.join(base, str(problem_yaml["parameter_file"]))
    return out


def read_tables(path: str | os.PathLike) -> Tables:
    """Read the problem `path` names (a PEtab v1 YAML file) and check it with
    `petab.lint_problem`; an error in any of its files stops the import here."""
    petab = petab_module()
    label = os.fspath(path)
    if not os.path.isfile(label):
        raise SymflowError(f"PEtab problem {label}: no such file")
    try:
        problem_yaml = petab.yaml.load_yaml(label)
        if len(problem_yaml.get("problems", [])) != 1:
            raise SymflowError(f"PEtab problem {label}: holds "
                               f"{len(problem_yaml.get('problems', []))} problems; symflow "
                               "reads files with exactly one")
        if str(problem_yaml.get("format_version")) not in ("1", "1.0.0"):
            raise SymflowError(f"PEtab problem {label}: format_version "
                               f"{problem_yaml.get('format_version')!r}; symflow reads "
                               "PEtab version 1")
        with warnings.catch_warnings():  # pandas' deprecations inside petab: not ours
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            problem = petab.Problem.from_yaml(label)
    except SymflowError:
        raise
    except Exception as e:  # the petab library's own errors: file, column, value
        raise SymflowError(f"PEtab problem {label}: cannot read it: {e}") from None
    _lint(petab, problem, label)
    files = _files(problem_yaml, os.path.dirname(label))
    sbml = files["sbml"]
    if not sbml or " + " in sbml:
        raise SymflowError(f"PEtab problem {label}: names {sbml or 'no'} SBML files; "
                           "symflow reads a problem with one SBML model")
    return Tables(label, sbml, problem.condition_df, problem.observable_df,
                  problem.measurement_df, problem.parameter_df, files)


def _lint(petab: Any, problem: Any, label: str) -> None:
    """`petab.lint_problem`, its findings as one error."""
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("petab")
    logger.addHandler(handler)
    try:
        failed = petab.lint_problem(problem)
    except Exception as e:  # petab's own parser of formulas raises on a syntax error
        raise SymflowError(f"PEtab problem {label} does not pass petab's checks: {e}",
                           help="formulas are SBML L3 / PEtab infix: names, numbers, "
                                "+ - * / ^ and functions such as exp(x), log(x)") from None
    finally:
        logger.removeHandler(handler)
    if failed:
        found = log.getvalue().strip() or "see the petab library's log"
        raise SymflowError(f"PEtab problem {label} does not pass petab's checks: {found}",
                           help="run `petablint` on the YAML file for the full report")
