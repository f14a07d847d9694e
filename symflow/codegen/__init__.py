"""Codegen stage: a simplified `System` to generated JAX source and callables."""

from ._emit import emit as emit
from ._emit_derivatives import DERIVATIVE_MAX_STATES as DERIVATIVE_MAX_STATES
from ._emit_derivatives import derivatives_source as derivatives_source
from ._emit_derivatives import load_derivatives as load_derivatives
from ._layout import Layout as Layout
from ._layout import state_layout as state_layout
from ._load import GeneratedModel as GeneratedModel
from ._load import InputTable as InputTable
from ._load import import_source as import_source
from ._load import load_source as load_source
from ._printer import JnpPrinter as JnpPrinter
