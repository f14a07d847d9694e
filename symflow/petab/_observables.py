"""The observables table: each observable as an observed output of the model and a noise
model of its data.

`observableFormula` and `noiseFormula` are read with libsbml's infix parser (never
evaluated). Their placeholders (`observableParameter1_obs`, `noiseParameter1_obs`) take
the values the measurements table gives them (`observableParameters`,
`noiseParameters`: numbers or parameter ids); symflow writes one formula per
observable: a placeholder that takes one value in every measurement of its observable
is replaced by it; one whose values vary (numbers only: σ per measurement, as
published data often give) becomes a parameter of the model that each experiment sets
(measurements with different values go to different experiments).

Noise: `normal` and `laplace` on the `lin` scale, `normal` on the `log` and `log10`
scales (symflow's `lognormal`, `log10normal`), with a noise formula that is one
parameter or one number (σ, or the Laplace scale); the rest is refused by name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ..errors import SymflowError
from ..learn import Laplace, Log10Normal, LogNormal, NoiseModel, Normal
from ..sbml import read_formula
from ._variants import Combination, split_values, variant_name

__all__ = ["Observable", "read_observables", "placeholder_values", "row_placeholders"]


@dataclasses.dataclass(frozen=True)
class Observable:
    """An observable: its id (the data column), the model text of its formula and its
    noise model."""

    id: str
    formula: str
    noise: NoiseModel
    # placeholders that vary between measurements: parameters of the model (a start
    # value each), set by each experiment
    varying: tuple[str, ...] = ()


def placeholder_values(measurements: Any, column: str, file: str, *,
                       skip: Collection[str] = ()) -> dict[str, tuple[str | float, ...] | None]:
    """For each observable, the values `column` gives its placeholders: one tuple when it
    is the same in every measurement, `None` when it varies (then every value must be a
    number: each measurement's goes to its experiment as a parameter value)."""
    seen: dict[str, tuple[str | float, ...] | None] = {}
    cells = measurements.get(column, [math.nan] * len(measurements))
    for i, (obs, cell) in enumerate(zip(measurements["observableId"], cells)):
        if obs in skip:  # split into variants (_variants.py)
            continue
        values = split_values(cell)
        if obs in seen and seen[obs] != values:
            seen[obs] = None
        seen.setdefault(obs, values)
    for i, (obs, cell) in enumerate(zip(measurements["observableId"], cells)):
        if seen.get(obs, ()) is None and not all(isinstance(v, float) for v in split_values(cell)):
            raise SymflowError(
                f"measurements table {file}, row {i + 2}: {column} of observable {obs!r} "
                f"is {cell!r}, and it varies between measurements",
                help="placeholders that vary between measurements may take numbers "
                     "(each measurement's value goes to its experiment); parameters that "
                     "differ by measurement are not supported")
    return seen


def row_placeholders(measurements: Any, i: int,
                     varying: Mapping[str, tuple[str, ...]]) -> dict[str, float]:
    """The values of the varying placeholders of measurement `i` (by placeholder name):
    its experiment's parameter values."""
    obs = str(measurements["observableId"].iloc[i])
    out: dict[str, float] = {}
    for kind, column in (("observable", "observableParameters"),
                         ("noise", "noiseParameters")):
        if kind not in varying.get(obs, ()):
            continue
        for k, v in enumerate(split_values(measurements[column].iloc[i])):
            out[f"{kind}Parameter{k + 1}_{obs}"] = float(v)
    return out


def _replacements(kind: str, obs: str, values: tuple[str | float, ...] | None,
                  symbols: set[str], where: str) -> dict[str, str | float]:
    """What each placeholder becomes: its one value, or (`values` None: it varies) the
    placeholder itself, a parameter each experiment sets."""
    prefix = f"{kind}Parameter"
    wanted = sorted(s for s in symbols if s.startswith(prefix) and s.endswith("_" + obs))
    if values is None:
        return {w: w for w in wanted}
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
    if transformation == "log10" and distribution == "normal":
        return Log10Normal(sigma=sigma)
    raise SymflowError(f"{where}: noiseDistribution {distribution!r} with "
                       f"observableTransformation {transformation!r} is not supported",
                       help="supported: normal and laplace on the lin scale, normal on the "
                            "log and log10 scales; Laplace on a log scale is not")


def read_observables(table: Any, file: str, *,
                     observable_values: Mapping[str, tuple | None],
                     noise_values: Mapping[str, tuple | None], name: Callable[[str], str],
                     parameters: set[str],
                     variants: Mapping[str, list[Combination]]) -> list[Observable]:
    """The observables that have measurements (or their variants), in table order."""
    out = []
    for i, (obs, row) in enumerate(table.iterrows()):
        obs = str(obs)
        where = f"observables table {file}, row {i + 2} ({obs})"
        if obs in variants:
            out += [_observable(variant_name(obs, k), obs, row, o, n, name, parameters, where)
                    for k, (o, n) in enumerate(variants[obs])]
        elif obs in observable_values:
            out.append(_observable(obs, obs, row, observable_values[obs], noise_values[obs],
                                   name, parameters, where))
    return out


def _observable(output: str, obs: str, row: Any, observable: tuple | None,
                noise: tuple | None, name: Callable[[str], str], parameters: set[str],
                where: str) -> Observable:
    """The observed output `output` of observable `obs` (its table `row`) with these
    placeholder values (`None`: they vary, numbers set by each experiment)."""
    formula = read_formula(str(row["observableFormula"]), where + ", observableFormula")
    noise_formula = read_formula(str(row["noiseFormula"]), where + ", noiseFormula")
    replace = _replacements("noise", obs, noise, noise_formula.symbols, where)
    obs_replace = _replacements("observable", obs, observable, formula.symbols, where)
    varying = tuple(sorted(k for r in (obs_replace, replace) for k, v in r.items() if k == v))
    sigma = _sigma(noise_formula, replace, parameters | set(varying), where)
    transformation = str(row.get("observableTransformation", "lin") or "lin")
    transformation = "lin" if transformation == "nan" else transformation
    distribution = str(row.get("noiseDistribution", "normal") or "normal")
    distribution = "normal" if distribution == "nan" else distribution
    return Observable(output, formula.text(obs_replace, name),
                      _noise(distribution, transformation, sigma, where), varying)


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
