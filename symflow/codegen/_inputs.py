"""The inputs read from tables, in the generated module.

Three module constants describe them: `INPUTS` (name, interpolation,
extrapolation, the table's file name, sanitized), `INPUT_KNOTS` (each table's
times) and `INPUT_VALUES` (each table's values, the default of `p[name]`).
`parameter_defaults` puts the values into the parameter dict, so they are
arrays that `jax.grad` differentiates and `simulate(params=...)` replaces; the
knots are constants. Expressions call `symflow.runtime.interpolate` (printed by
`JnpPrinter._print_TableInput`).
"""

from __future__ import annotations

import re

from ..symbolic import System

__all__ = ["IMPORT_LINE", "input_constants", "input_defaults"]

IMPORT_LINE = "from symflow.runtime import interpolate"


def _numbers(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(repr(float(v)) for v in values) + ("," if len(values) == 1 else "") \
        + ")"


def input_constants(system: System) -> list[str]:
    """The module constants of the inputs (none without inputs)."""
    if not system.inputs:
        return []
    described = tuple((i.name, i.interpolation, i.extrapolation,
                       re.sub(r"[^A-Za-z0-9_.\-/ ]", "_", i.file)) for i in system.inputs)
    lines = [f"INPUTS = {described!r}", "INPUT_KNOTS = {"]
    lines += [f"    {i.name!r}: {_numbers(i.knots)}," for i in system.inputs]
    lines += ["}", "INPUT_VALUES = {"]
    lines += [f"    {i.name!r}: {_numbers(i.values)}," for i in system.inputs]
    return lines + ["}"]


def input_defaults(system: System) -> list[str]:
    """The lines of `parameter_defaults` that fill in each table's values."""
    lines = []
    for i in system.inputs:
        lines.append(f"    if {i.name!r} not in p:")
        lines.append(f"        p[{i.name!r}] = jnp.asarray(INPUT_VALUES[{i.name!r}], "
                     "dtype=float)")
    return lines
