"""The inputs read from tables, in the generated module.

Three module constants describe them: `INPUTS` (name, interpolation,
extrapolation, the table's file name, sanitized), `INPUT_KNOTS` (each table's
times) and `INPUT_VALUES` (each table's values, the default of `p[name]`).
`parameter_defaults` puts the values into the parameter dict, so they are
arrays that `jax.grad` differentiates and `simulate(params=...)` replaces; the
knots are constants. Expressions call `symflow.runtime.interpolate` (printed by
`JnpPrinter._print_TableInput`).

A natural cubic spline needs its curvatures, one tridiagonal solve over the whole
table: the generated `prepare(p)` (when an input is `cubic`) adds them to `p`
under `"name:curvatures"` (a key no model name can be), and a solve calls it once
before it steps, so that each evaluation of the right-hand side reads the
segment around `t` only; `rhs` called on a `p` without them solves at each call.
"""

from __future__ import annotations

import re

from ..symbolic import System

__all__ = ["CURVATURES", "import_line", "input_constants", "input_defaults",
           "input_preparation"]

CURVATURES = "{}:curvatures"  # the key of a cubic input's curvatures in `p`


def import_line(system: System) -> str:
    cubic = any(i.interpolation == "cubic" for i in system.inputs)
    return "from symflow.runtime import interpolate" + (", spline_curvatures" if cubic else "")


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


def input_preparation(system: System) -> list[str]:
    """The lines of the generated `prepare(p)` that add the curvatures of every cubic
    input to `p` (none without)."""
    return [f"    p[{CURVATURES.format(i.name)!r}] = spline_curvatures("
            f"INPUT_KNOTS[{i.name!r}], p[{i.name!r}])"
            for i in system.inputs if i.interpolation == "cubic"]
