"""Test setup: float64 and strict dtype promotion, as DESIGN.md asks."""

import os

os.environ.setdefault("SYMFLOW_X64", "1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")

import pathlib  # noqa: E402

import pytest  # noqa: E402


ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def examples_dir() -> pathlib.Path:
    return EXAMPLES
