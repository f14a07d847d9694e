"""Observables whose placeholders take parameters that differ between measurements (a
scaling or a σ per data set), split into variants: one observed output per distinct
set of placeholder values, `obs__1`, `obs__2`, ..., each with its own formula and noise
model, and each measurement in the data column of its variant. The fit then needs no
parameter that changes meaning between experiments, and one condition stays one
simulation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["Combination", "split_values", "row_values", "find_variants", "column_of",
           "variant_name"]

# the values of an observable's placeholders in one measurement: (observable, noise)
Combination = tuple[tuple[str | float, ...], tuple[str | float, ...]]


def split_values(value: Any) -> tuple[str | float, ...]:
    """A cell of `observableParameters` / `noiseParameters`: `;`-separated numbers or
    ids (empty: none)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, (int, float)):
        return (float(value),)
    out: list[str | float] = []
    for part in str(value).split(";"):
        part = part.strip()
        try:
            out.append(float(part))
        except ValueError:
            out.append(part)
    return tuple(out)


def _cell(measurements: Any, column: str, i: int) -> Any:
    return measurements[column].iloc[i] if column in measurements else None


def row_values(measurements: Any, i: int) -> Combination:
    """The placeholder values of measurement `i`."""
    return (split_values(_cell(measurements, "observableParameters", i)),
            split_values(_cell(measurements, "noiseParameters", i)))


def find_variants(measurements: Any) -> dict[str, list[Combination]]:
    """The observables to split (their placeholder values differ between measurements
    and some are parameter ids), with their distinct combinations in order of first
    appearance."""
    seen: dict[str, list[Combination]] = {}
    for i, obs in enumerate(measurements["observableId"]):
        combination = row_values(measurements, i)
        combinations = seen.setdefault(str(obs), [])
        if combination not in combinations:
            combinations.append(combination)
    return {obs: c for obs, c in seen.items() if len(c) > 1 and any(
        isinstance(v, str) for o, n in c for v in (*o, *n))}


def variant_name(obs: str, k: int) -> str:
    """The observed output of the k-th (from 0) variant of `obs`."""
    return f"{obs}__{k + 1}"


def column_of(measurements: Any, i: int, variants: Mapping[str, list[Combination]]) -> str:
    """The data column of measurement `i`: its observable, or its variant."""
    obs = str(measurements["observableId"].iloc[i])
    if obs not in variants:
        return obs
    return variant_name(obs, variants[obs].index(row_values(measurements, i)))
