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
