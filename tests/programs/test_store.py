"""Kept programs on disk: whole files only, checked before they are trusted."""

import os

import numpy as np
import pytest

from symflow.programs import KeptProgram, ProgramStore, program_key, source_digests


def _program(tmp_path, sources=()):
    return KeptProgram.export(lambda x, y: x * y + 1.0, np.float64(2.0), np.arange(3.0),
                              meta={"name": "affine"}, sources=source_digests(sources))


@pytest.fixture
def store(tmp_path):
    folder = tmp_path / "programs"
    return ProgramStore(folder)


def test_a_kept_program_runs_as_exported(store, tmp_path):
    store.put("k", _program(tmp_path))
    program = store.get("k")
    assert program is not None and program.meta == {"name": "affine"}
    np.testing.assert_allclose(program(np.float64(3.0), np.arange(3.0)), [1.0, 4.0, 7.0])


def test_a_truncated_file_is_never_used_and_is_removed(store, tmp_path):
    store.put("k", _program(tmp_path))
    path = store.path("k")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert store.get("k") is None
    assert not path.exists()


def test_an_altered_byte_is_detected(store, tmp_path):
    store.put("k", _program(tmp_path))
    path = store.path("k")
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert store.get("k") is None


def test_a_file_of_another_format_is_refused(store, tmp_path):
    store.put("k", _program(tmp_path))
    path = store.path("k")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"SYMFLOW-PROGRAM 1 ", b"SYMFLOW-PROGRAM 0 ", 1))
    assert store.get("k") is None


def test_a_changed_source_file_invalidates_the_program(store, tmp_path):
    table = tmp_path / "table.csv"
    table.write_text("t,u\n0,1\n1,2\n")
    store.put("k", _program(tmp_path, [str(table)]))
    assert store.get("k") is not None
    table.write_text("t,u\n0,1\n1,3\n")
    assert store.get("k") is None


def test_a_file_others_can_write_is_not_trusted(store, tmp_path):
    store.put("k", _program(tmp_path))
    os.chmod(store.path("k"), 0o666)
    assert store.get("k") is None


def test_the_key_follows_the_model_and_the_settings_not_their_order():
    a = program_key(model=b"model M", settings={"solver": "tsit5", "rtol": 1e-6})
    assert a == program_key(model=b"model M", settings={"rtol": 1e-6, "solver": "tsit5"})
    assert a != program_key(model=b"model N", settings={"solver": "tsit5", "rtol": 1e-6})
    assert a != program_key(model=b"model M", settings={"solver": "tsit5", "rtol": 1e-7})
