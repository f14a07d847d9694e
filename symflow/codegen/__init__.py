"""Codegen stage: a simplified `System` to generated JAX source and callables."""

from ._emit import Layout as Layout, emit as emit, state_layout as state_layout
from ._load import (
    GeneratedModel as GeneratedModel,
    cache_dir as cache_dir,
    load_source as load_source,
)
from ._printer import JnpPrinter as JnpPrinter
