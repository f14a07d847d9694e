"""symflow's cache folder: generated modules, Lark's parse tables, JAX's compiled programs.

What is read back from here runs as code (Lark's tables are a pickle, JAX's
entries are native code), so the folder must be the user's own: `cache_dir`
refuses a folder that another user owns or can write to (as pip and Python's
`__pycache__` handling do), and falls back to a fresh private folder for this
process. `trusted_file` applies the same test to one file before it is read.
"""

from __future__ import annotations

import functools
import os
import pathlib
import stat
import tempfile

__all__ = ["cache_dir", "is_private", "trusted_file"]


def _configured_root() -> pathlib.Path:
    """`$SYMFLOW_CACHE`, else `$XDG_CACHE_HOME/symflow`, else `~/.cache/symflow`."""
    root = os.environ.get("SYMFLOW_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "symflow")
    return pathlib.Path(root)


def is_private(path: pathlib.Path) -> bool:
    """Whether `path` (not followed if a link) belongs to this user and no one else can
    write to it. Without POSIX owners (Windows) only the write bits are checked."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(info.st_mode):
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def trusted_file(path: pathlib.Path) -> bool:
    """A regular file of this user's that no one else can write (or no file at all: then
    nothing will be read from it), inside a private folder."""
    if not is_private(path.parent):
        return False
    if not os.path.lexists(path):
        return True
    return is_private(path) and stat.S_ISREG(os.lstat(path).st_mode)


def cache_dir() -> pathlib.Path:
    """The cache folder: the configured one when it is (or can be made) private, else a
    private temporary folder for this process (a warning-free fallback: caching is an
    optimisation)."""
    root = _configured_root()
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return _private_temporary()
    return root if is_private(root) else _private_temporary()


@functools.cache
def _private_temporary() -> pathlib.Path:
    """A folder only this process's user can use (mode 0700, a fresh random name)."""
    return pathlib.Path(tempfile.mkdtemp(prefix="symflow-cache-"))
