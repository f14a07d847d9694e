"""Model texts shared by the tests: one `.sf` file per model in this folder.

A test reads one with `model_text("lotka_volterra_two_saves")` (or its path with
`model_path(...)`, for the command line). The files hold the texts exactly as the tests
used them; a file whose text has `{name}` fields is a template that its tests fill in
with `str.format`. Tests import this package as `models`: `tests/conftest.py` puts
`tests/` on `sys.path`, since `--import-mode=importlib` does not.
"""

from __future__ import annotations

import pathlib

MODELS = pathlib.Path(__file__).resolve().parent


def model_path(name: str) -> pathlib.Path:
    """The path of the shared model file `name` (without `.sf`); it must exist."""
    path = MODELS / f"{name}.sf"
    if not path.is_file():
        raise FileNotFoundError(f"no shared test model {name!r} in {MODELS}")
    return path


def model_text(name: str) -> str:
    """The text of the shared model file `name` (without `.sf`)."""
    return model_path(name).read_text()


def published_reference(problem: str) -> tuple[float, dict[str, float]]:
    """The published reference solution of a problem of the Test Set for IVP Solvers
    (`pollu`, `orego`, `rober`, `transamp`): its time and its values by state name
    (`testset_reference.json`, which cites the source)."""
    import json

    entry = json.loads((MODELS / "testset_reference.json").read_text())[problem]
    return float(entry["t"]), {k: float(v) for k, v in entry["values"].items()}
