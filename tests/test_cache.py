"""The cache folder runs nothing another user could have put there (issue 20, item 1)."""

from __future__ import annotations

import hashlib
import os
import pathlib
import py_compile
import stat

import pytest

from symflow.cache import cache_dir, is_private, trusted_file
from symflow.codegen import import_source

posix_owners = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file owners")


@pytest.fixture
def configured(tmp_path, monkeypatch) -> pathlib.Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SYMFLOW_CACHE", str(folder))
    return folder


@posix_owners
def test_a_folder_others_can_write_is_not_used(configured):
    configured.mkdir(mode=0o700)
    assert cache_dir() == configured  # the user's own: used
    configured.chmod(0o777)
    used = cache_dir()
    assert used != configured and is_private(used)
    assert stat.S_IMODE(os.stat(used).st_mode) == 0o700


@posix_owners
def test_a_link_in_place_of_the_folder_is_not_used(configured, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    configured.symlink_to(target)
    assert cache_dir() != configured


@posix_owners
def test_a_file_others_can_write_is_not_trusted(configured):
    configured.mkdir(mode=0o700)
    table = configured / "grammar.lark-cache"
    assert trusted_file(table)  # absent: nothing will be read
    table.write_bytes(b"tables")
    assert trusted_file(table)
    table.chmod(0o666)
    assert not trusted_file(table)


def test_generated_code_runs_from_the_checked_source_not_a_planted_pyc(configured):
    """Python's file loader runs a `.pyc` whose header matches the source file's size
    and time; a module compiled from the source string in memory never reads one."""
    source = "VALUE = 'generated'\n"
    evil = "VALUE = 'planted'  \n"  # the same size as `source`
    assert len(evil) == len(source)
    folder = configured / "generated"
    folder.mkdir(mode=0o700, parents=True)
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    path = folder / f"model_{digest}.py"
    path.write_text(source)
    planted = folder / "planted.py"
    planted.write_text(evil)
    stat_of = os.stat(path)
    os.utime(planted, ns=(stat_of.st_atime_ns, stat_of.st_mtime_ns))
    tag = __import__("sys").implementation.cache_tag
    pyc = folder / "__pycache__" / f"model_{digest}.{tag}.pyc"
    py_compile.compile(str(planted), cfile=str(pyc), dfile=str(path),
                       invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    module = import_source(source, kind="model")
    assert module.VALUE == "generated"


def test_the_file_beside_the_module_is_rewritten_when_it_differs(configured):
    source = "VALUE = 1\n"
    module = import_source(source, kind="library")
    (path,) = (configured / "generated").glob("library_*.py")
    path.write_text("VALUE = 2\n")
    assert import_source(source, kind="library").VALUE == module.VALUE == 1
    assert path.read_text() == source
