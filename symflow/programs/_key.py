"""The key of a kept program: a digest of everything that decides what it computes.

The model's text and the options that shape the compiled program (solver,
tolerances, span, save points, which parameters and states are given on the
command line: their names, not their values), and the versions of everything that
generates or runs it: symflow's own files (so an edited checkout never reuses an
old program), JAX, jaxlib, diffrax and their kin, NumPy, Python, the machine.
Files the model reads (imports, input tables) are checked separately on a hit
(`source_digests`): their names are known only after the model is built.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import pathlib
import platform
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["program_key", "source_digests"]

# Bumped when the layout of a kept program or its metadata changes.
FORMAT = 1
_PACKAGE = pathlib.Path(__file__).resolve().parent.parent
_DISTRIBUTIONS = ("jax", "jaxlib", "diffrax", "equinox", "optimistix", "lineax", "numpy",
                  "ml_dtypes", "sympy")
# Environment variables that change what JAX compiles or where it runs.
_ENVIRONMENT = ("JAX_ENABLE_X64", "SYMFLOW_X64", "JAX_PLATFORMS", "XLA_FLAGS",
                "EQX_ON_ERROR", "JAX_DEFAULT_MATMUL_PRECISION")


def program_key(*, model: bytes, settings: Mapping[str, Any]) -> str:
    """The key of the program of the model file whose bytes are `model`, under
    `settings` (JSON values)."""
    blob = json.dumps({
        "format": FORMAT, "model": hashlib.sha256(model).hexdigest(),
        "settings": settings, "versions": _versions(),
        "environment": {k: os.environ.get(k) for k in _ENVIRONMENT},
    }, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def source_digests(paths: Iterable[str]) -> dict[str, str]:
    """The SHA-256 of each file (`""` for one that cannot be read)."""
    out = {}
    for path in paths:
        try:
            out[path] = hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
        except OSError:
            out[path] = ""
    return out


@functools.cache
def _versions() -> dict[str, str]:
    """The versions of what generates and runs a program, and the digest of
    symflow's own files (names, sizes, modification times: cheap to take)."""
    versions = {"python": sys.version, "machine": platform.machine(),
                "system": sys.platform, "symflow": _package_digest()}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def _package_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        if path.suffix in (".py", ".lark", ".sf") and "__pycache__" not in path.parts:
            info = path.stat()
            digest.update(f"{path.relative_to(_PACKAGE)}:{info.st_size}:"
                          f"{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()
