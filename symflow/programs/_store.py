"""Kept programs on disk: one file per key, checked before it is trusted.

A file is `SYMFLOW-PROGRAM <format> <sha256 of the rest>\\n`, a JSON header line
(the metadata, the model's source digests, the payload's size) and the payload
(the serialized program). A file that is truncated, altered, of another format,
not this user's own, or whose model's files have changed since is never used:
`get` returns None (and removes a damaged file), and the caller compiles anew.
Files are written to a temporary name and renamed, so several processes
compiling the same model at once each write a whole file and readers see one
whole file or another.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib

from ..cache import trusted_file
from ..files import write_atomically
from ._key import FORMAT, source_digests
from ._program import KeptProgram

__all__ = ["ProgramStore"]

_MAGIC = b"SYMFLOW-PROGRAM"


class ProgramStore:
    """The kept programs of one cache folder."""

    def __init__(self, folder: pathlib.Path):
        self.folder = folder

    def path(self, key: str) -> pathlib.Path:
        return self.folder / f"{key}.program"

    def get(self, key: str) -> KeptProgram | None:
        """The program kept under `key`, if whole, trusted and still current."""
        path = self.path(key)
        if not path.exists() or not trusted_file(path):
            return None
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        program = _decode(blob)
        if program is None:  # damaged: rebuilt by the caller, so drop it now
            _remove(path)
            return None
        if source_digests(program.sources) != dict(program.sources):
            return None  # an imported file or input table changed
        return program

    def put(self, key: str, program: KeptProgram) -> None:
        """Keep `program` under `key` (atomically; a failure to write is ignored:
        keeping is an optimisation)."""
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomically(self.path(key), _encode(program))
        except OSError:
            pass


def _encode(program: KeptProgram) -> bytes:
    header = json.dumps({"meta": program.meta, "sources": program.sources,
                         "payload": len(program.exported)}, sort_keys=True).encode()
    rest = header + b"\n" + program.exported
    digest = hashlib.sha256(rest).hexdigest().encode()
    return _MAGIC + b" " + str(FORMAT).encode() + b" " + digest + b"\n" + rest


def _decode(blob: bytes) -> KeptProgram | None:
    first, sep, rest = blob.partition(b"\n")
    parts = first.split(b" ")
    if not sep or len(parts) != 3 or parts[0] != _MAGIC or parts[1] != str(FORMAT).encode():
        return None
    if hashlib.sha256(rest).hexdigest().encode() != parts[2]:
        return None
    header_line, sep, payload = rest.partition(b"\n")
    try:
        header = json.loads(header_line)
        if not sep or header["payload"] != len(payload):
            return None
        return KeptProgram(header["meta"], payload, header["sources"])
    except (ValueError, KeyError, TypeError):
        return None


def _remove(path: pathlib.Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
