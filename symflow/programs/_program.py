"""One kept program: a serialized `jax.export.Exported` and what its caller needs
to know about it (metadata, JSON), with the digests of the files its model read."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["KeptProgram"]


@dataclasses.dataclass(frozen=True)
class KeptProgram:
    """A compiled program kept across processes.

    `meta` is what its caller stored with it (JSON values: for `symflow run` the
    model's names, output layout, save times, the solver chosen); `exported` the
    serialized StableHLO (`jax.export`); `sources` the SHA-256 of each file the
    model read, checked on every hit.
    """

    meta: Mapping[str, Any]
    exported: bytes
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def export(cls, fn: Callable, *args: Any, meta: Mapping[str, Any],
               sources: Mapping[str, str]) -> KeptProgram:
        """Export `fn` (a jittable function) for arguments shaped like `args`.
        Raises what `jax.export` raises for a program it cannot serialize (one
        with host callbacks: a progress bar, Equinox's runtime checks)."""
        import jax

        exported = jax.export.export(jax.jit(fn))(*args)
        return cls(dict(meta), bytes(exported.serialize()), dict(sources))

    def callable(self) -> Callable:
        """The program as a jitted function of the exported arguments (its XLA
        compile is served by JAX's persistent cache after the first process)."""
        import jax

        exported = jax.export.deserialize(bytearray(self.exported))
        return jax.jit(exported.call)

    def __call__(self, *args: Any) -> np.ndarray:
        """Run the program once; its output as a NumPy array."""
        return np.asarray(self.callable()(*args))
