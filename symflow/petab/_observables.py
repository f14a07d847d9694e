"""The observables table: each observable as an observed output of the model and a noise
model of its data.

`observableFormula` and `noiseFormula` are read with libsbml's infix parser (never
evaluated). Their placeholders (`observableParameter1_obs`, `noiseParameter1_obs`) take
the values the measurements table gives them (`observableParameters`,
`noiseParameters`: numbers or parameter ids); symflow writes one formula per
observable, so a placeholder must take the same value in every measurement of its
observable, else the import refuses it with the two rows that differ.

Noise: `normal` and `laplace` on the `lin` scale, `normal` on the `log` scale (symflow's
`lognormal`), with a noise formula that is one parameter or one number (σ, or the
Laplace scale); the rest is refused by name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import SymflowError
from ..learn import Laplace, LogNormal, NoiseModel, Normal
from ..sbml import read_formula

__all__ = ["Observable", "read_observables", "placeholder_values"]


@dataclasses.dataclass(frozen=True)
class Observable:
    """An observable: its id (the data column), the model text of its formula and its
    noise model."""

    id: str
    formula: str
    noise: NoiseModel


def _split(value: Any) -> tuple[str | float, ...]:
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


def placeholder_values(measurements: Any, column: str, file: str
                       ) -> dict[str, tuple[str | float, ...]]:
    """For each observable, the values `column` gives its placeholders: one tuple, the
    same in every measurement, else a `SymflowError` naming the two rows."""
    seen: dict[str, tuple[tuple[str | float, ...], int]] = {}
    for i, (obs, cell) in enumerate(zip(measurements["observableId"],
                                        measurements.get(column, [math.nan] * len(
                                            measurements)))):
        values = _split(cell)
        if obs not in seen:
            seen[obs] = (values, i)
        elif seen[obs][0] != values:
            first = seen[obs][1]
            raise SymflowError(
                f"measurements table {file}, row {i + 2}: {column} of observable {obs!r} "
                f"is {cell!r}, but row {first + 2} gives {';'.join(map(str, seen[obs][0]))!r}",
                help="symflow writes one formula per observable: placeholders that vary "
                     "between measurements are not supported; give each variant its own "
                     "observable")
    return {obs: v for obs, (v, _) in seen.items()}


def _replacements(kind: str, obs: str, values: tuple[str | float, ...], symbols: set[str],
                  where: str) -> dict[str, str | float]:
    prefix = f"{kind}Parameter"
    wanted = sorted(s for s in symbols if s.startswith(prefix) and s.endswith("_" + obs))
    if len(wanted) != len(values):
        raise SymflowError(f"{where}: uses {len(wanted)} {kind} placeholders, the "
                           f"measurements give {len(values)} values")
    return {f"{prefix}{k + 1}_{obs}": v for k, v in enumerate(values)}


def _noise(distribution: str, transformation: str, sigma: str | float,
           where: str) -> NoiseModel:
    if transformation == "lin" and distribution == "normal":
        return Normal(sigma=sigma)
    if transformation == "lin" and distribution == "laplace":
        return Laplace(scale=sigma)
    if transformation == "log" and distribution == "normal":
        return LogNormal(sigma=sigma)
    raise SymflowError(f"{where}: noiseDistribution {distribution!r} with "
                       f"observableTransformation {transformation!r} is not supported",
                       help="supported: normal and laplace on the lin scale, normal on the "
                            "log scale (log-normal); log10 and log-laplace are not")


def read_observables(table: Any, file: str, *, observable_values: Mapping[str, tuple],
                     noise_values: Mapping[str, tuple], name: Callable[[str], str],
                     parameters: set[str]) -> list[Observable]:
    """The observables that have measurements, in table order."""
    out = []
    for i, (obs, row) in enumerate(table.iterrows()):
        obs = str(obs)
        if obs not in observable_values:
            continue
        where = f"observables table {file}, row {i + 2} ({obs})"
        formula = read_formula(str(row["observableFormula"]), where + ", observableFormula")
        text = formula.text(_replacements("observable", obs, observable_values[obs],
                                          formula.symbols, where), name)
        noise_formula = read_formula(str(row["noiseFormula"]), where + ", noiseFormula")
        replace = _replacements("noise", obs, noise_values[obs], noise_formula.symbols, where)
        sigma = _sigma(noise_formula, replace, parameters, where)
        transformation = str(row.get("observableTransformation", "lin") or "lin")
        transformation = "lin" if transformation == "nan" else transformation
        distribution = str(row.get("noiseDistribution", "normal") or "normal")
        distribution = "normal" if distribution == "nan" else distribution
        out.append(Observable(obs, text, _noise(distribution, transformation, sigma, where)))
    return out


def _sigma(formula: Any, replace: Mapping[str, str | float], parameters: set[str],
           where: str) -> str | float:
    """The noise formula as one parameter's name or one positive number."""
    value: str | float | None = formula.number
    if formula.name is not None:
        value = replace.get(formula.name, formula.name)
    if isinstance(value, float) and value > 0:
        return value
    if isinstance(value, str) and value in parameters:
        return value
    raise SymflowError(f"{where}: noiseFormula is not one parameter or one positive number "
                       f"(it is {formula.text(replace, str)!r})",
                       help="symflow's noise models take σ (or the Laplace scale) as a "
                            "parameter or a number; formulas of several terms are not "
                            "supported")
