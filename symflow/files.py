"""Reading the user's files safely, and writing them so that none is ever lost or
half-written.

Every input file symflow reads as a whole goes through `open_regular` or
`read_text`: only a regular file is read (a named pipe, a device or a folder is
refused before a byte is read, so `/dev/zero` or a FIFO cannot hang a command or
fill the memory), and never more than its size limit.

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
import stat
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from .errors import Span, SymflowError

__all__ = ["MODEL_LIMIT", "InputError", "OutputError", "check_output", "decode_text",
           "open_regular", "read_regular", "read_text", "replacing", "save_figure",
           "write_atomically"]

# the most a model file (or an imported one) may hold: a model of 16 MiB has some
# 300,000 lines; anything larger is not a model someone wrote
MODEL_LIMIT = 16 * 2**20

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


class InputError(SymflowError):
    """An input file that cannot be read: missing, not a regular file, or too large
    (a usage error at the command line)."""


def open_regular(path: str | os.PathLike, *, what: str = "file",
                 limit: int | None = None) -> BinaryIO:
    """`path` opened for reading bytes, after checking on the open file (no race)
    that it is a regular file and, with `limit`, no larger than `limit` bytes.

    Opened non-blocking, so that a named pipe with no writer is refused at once
    instead of waiting forever."""
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise InputError(f"cannot read {what} {path}: {e.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
            raise InputError(f"{what} {path} is {kind}, not a regular file",
                             help="symflow reads only regular files: save the text to a "
                                  "file and give its path")
        if limit is not None and info.st_size > limit:
            raise _too_large(path, what, info.st_size, limit)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_regular(path: str | os.PathLike, *, what: str = "file",
                 limit: int | None = MODEL_LIMIT) -> bytes:
    """The bytes of the regular file `path` (`open_regular`), reading at most
    `limit` + 1 bytes: a file that grows past its limit while read is refused too."""
    with open_regular(path, what=what, limit=limit) as f:
        data = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise _too_large(os.fspath(path), what, len(data), limit)
    return data


def read_text(path: str | os.PathLike, *, what: str = "file",
              limit: int | None = MODEL_LIMIT) -> str:
    """The text of the regular file `path`: `read_regular`, then `decode_text`."""
    return decode_text(read_regular(path, what=what, limit=limit), os.fspath(path))


def decode_text(data: bytes, file: str) -> str:
    """`data` as UTF-8 text (a leading byte-order mark dropped); a binary file (a
    NUL byte) or one in another encoding is refused with the line and column of the
    first byte that is not UTF-8 text."""
    nul = data.find(b"\0")
    if nul >= 0:
        line, column = _place(data, nul)
        raise SymflowError(f"{file} is not a text file: it holds a NUL byte (line {line}, "
                           f"column {column})",
                           help="symflow reads UTF-8 text files; is this the right file?")
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # as some Windows editors write
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as e:
        start = e.start + bom
        line, column = _place(data, start)
        shown = data.decode("utf-8", errors="replace")
        raise SymflowError(
            f"{file} is not UTF-8: byte 0x{data[start]:02x} at line {line}, column {column} "
            "is not UTF-8 text",
            Span(file, line, column, line, column + 1, shown),
            help="files must be UTF-8: save it as UTF-8 in your editor, or convert it "
                 "(for Latin-1: iconv -f latin1 -t utf-8)") from None


def _place(data: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column (in characters) of byte `offset` of `data`."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _too_large(path: str, what: str, size: int, limit: int) -> InputError:
    return InputError(f"{what} {path} is larger than {_size(limit)} ({_size(size)} or more)",
                      help=f"symflow reads {what}s of at most {_size(limit)}; is this the "
                           "right file?")


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


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
        os.chmod(tmp, _mode_of(target))  # mkstemp's 0600 would hide the file from others
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode_of(target: str) -> int:
    """The permissions a written file gets: those of the file it replaces, else what
    `open` would give a new file (0666 less the umask)."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask: read from /proc where there is one (setting it to read it
    back, the portable way, changes it for every thread for an instant)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


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
