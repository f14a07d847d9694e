"""The cyclic collector paused around a compiler stage (`symflow/collector.py`)."""

import gc

import pytest

from symflow.collector import collector_paused, gc_paused


def test_paused_inside_and_restored_after_an_error():
    assert gc.isenabled()

    @gc_paused
    def stage():
        assert not gc.isenabled()
        raise ValueError("boom")

    with pytest.raises(ValueError):
        stage()
    assert gc.isenabled()


def test_nested_blocks_leave_it_to_the_outermost():
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
