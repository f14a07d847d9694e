"""Writing files so that none of the user's is ever lost or half-written.

Every file symflow writes goes through here: to a temporary file in the same
folder, flushed to disk, then renamed over the target (atomic on POSIX and
Windows), so a reader sees the old file or the new one and an interrupted write
leaves the old one in place. `check_output` is asked before any work starts: it
refuses a target that is one of the inputs (through links too), a folder that
does not exist or cannot be written, and an existing file unless told to replace
it, each with a message that says which.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import SymflowError

__all__ = ["OutputError", "check_output", "replacing", "save_figure", "write_atomically"]


class OutputError(SymflowError):
    """An output file that must not or cannot be written (a usage error)."""


def write_atomically(path: str | os.PathLike, data: str | bytes) -> None:
    """Write `data` (text as UTF-8, or bytes) to `path` through a temporary file in
    the same folder and a rename."""
    with replacing(path) as tmp, open(tmp, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


def save_figure(fig: Any, path: str | os.PathLike, *, close: bool = True) -> None:
    """Save a Matplotlib figure to `path` through `replacing` (the old file stays
    whole if saving fails), then close it (unless `close=False`: a figure of the
    caller's, drawn into with `ax=`): a plot written to a file is not kept open in
    pyplot's registry."""
    import matplotlib.pyplot as plt

    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=120)
    if close:
        plt.close(fig)


@contextlib.contextmanager
def replacing(path: str | os.PathLike) -> Iterator[str]:
    """A temporary path (same folder, same extension) to write the new `path` to:
    renamed over `path` when the block succeeds, removed when it fails. For
    writers that take a file name (NumPy, Matplotlib, Equinox)."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    suffix = os.path.splitext(target)[1]
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".symflow-", suffix=".tmp" + suffix)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # on disk before the rename makes it the file
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_output(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                 force: bool = False, option: str = "-o") -> None:
    """Refuse, before any work, an output `path` that would replace one of `inputs`
    (the same file by any name), that lies in a folder that is missing or not
    writable, that is a folder, or that exists already (unless `force`)."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target)) or "."
    for given in inputs:
        if _same_file(target, os.fspath(given)):
            raise OutputError(f"{option} {target}: refusing to overwrite the input "
                              f"{os.fspath(given)}", help="write the result to another file")
    if not os.path.isdir(folder):
        raise OutputError(f"{option} {target}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{option} {target}: the folder {folder} cannot be written")
    if os.path.isdir(target):
        raise OutputError(f"{option} {target}: is a folder", help="give a file name")
    if os.path.lexists(target) and not force:
        raise OutputError(f"{option} {target}: the file exists",
                          help="add --force to replace it, or write to another file")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)
