"""The diffrax private names symflow relies on are still where `_compat` finds them."""

from __future__ import annotations

import diffrax

from symflow.solve import _compat


def test_result_codes_and_messages():
    assert int(_compat.result_code(diffrax.RESULTS.successful)) == 0
    code = int(_compat.result_code(diffrax.RESULTS.max_steps_reached))
    assert code != 0 and "steps" in _compat.result_message(code)
    assert _compat.result_message(10_000) == "unknown failure"


def test_the_private_classes_are_classes_diffrax_uses():
    assert issubclass(diffrax.Tsit5, _compat.AbstractAdaptiveSolver)
    assert diffrax.with_stepsize_controller_tols(diffrax.VeryChord)().rtol is (
        _compat.use_stepsize_tol)
    assert isinstance(_compat.WrapTerm, type)
    assert issubclass(_compat.WrapTerm, diffrax.AbstractTerm)
    assert callable(_compat.while_loop) and callable(_compat.buffer_at_set)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def test_installed_diffrax_is_in_the_range_pyproject_allows():
    # the private names above are checked against this diffrax only: pyproject.toml
    # bounds diffrax to the minor releases that were tested
    import importlib.metadata
    import pathlib
    import re

    pyproject = (pathlib.Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    spec = re.search(r'"diffrax>=([0-9.]+),<([0-9.]+)"', pyproject)
    assert spec is not None, "diffrax needs an upper bound in pyproject.toml"
    low, high = _version(spec.group(1)), _version(spec.group(2))
    installed = _version(importlib.metadata.version("diffrax"))
    assert low <= installed < high, (installed, low, high)
