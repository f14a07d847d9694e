"""The package list of pyproject.toml names every package folder, so that a plain
`pip install .` ships all of symflow (the quick start installs that way)."""

from __future__ import annotations

import pathlib

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "symflow").rglob("__init__.py")}
    data_folders = {"symflow.library", "symflow.grammar"}  # model files, the grammar
    assert folders | data_folders == listed


def test_license_file_matches_pyproject() -> None:
    license = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert license == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("Copyright (c) 2026 the symflow developers\n")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
