"""Compiled programs kept across processes (docs/performance.md).

The second `symflow run` of a model skips parsing, the passes, codegen, tracing and
XLA's compile: the first one exports its solve (`jax.export`, StableHLO) into the
cache folder under a key of everything that shapes the program, and XLA's own
persistent cache keeps the machine code. On a hit only JAX is imported.

Nothing here imports diffrax or the rest of symflow's pipeline: this package is
what a cached run loads.
"""

from ._key import program_key as program_key
from ._key import source_digests as source_digests
from ._program import KeptProgram as KeptProgram
from ._store import ProgramStore as ProgramStore

__all__ = ["KeptProgram", "ProgramStore", "program_key", "source_digests"]
