"""Test setup: float64 and strict dtype promotion, as DESIGN.md asks."""

import os

os.environ.setdefault("SYMFLOW_X64", "1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")

import pathlib  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# Shared model texts: test files at any depth `from models import model_text`
# (tests/models/); `--import-mode=importlib` leaves sys.path alone, so add tests/ here.
TESTS = pathlib.Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.append(str(TESTS))


@pytest.fixture
def examples_dir() -> pathlib.Path:
    return EXAMPLES
