"""The conditions and measurements tables as symflow experiments.

Each (simulation condition, pre-equilibration condition) pair that has measurements is
one experiment: the condition's values override parameters (`Experiment.params`) and
initial values of species (`Experiment.initial`; an empty cell keeps the model's), and
a pre-equilibration condition starts it at the steady state under that condition's
parameter values (`Experiment.preequilibration`). Replicates (two measurements of one
observable at one time) go into as many experiments of the same condition, the k-th
measurement into the k-th.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import SymflowError
from ..learn import Experiment
from ._observables import row_placeholders
from ._parameters import Parameter
from ._variants import Combination, column_of

__all__ = ["Targets", "check_times", "read_experiments"]


class Targets:
    """What a condition's column may set: the model's parameters and states (by model
    name), and the model name of each SBML id."""

    def __init__(self, names: Mapping[str, str], params: set[str], states: set[str],
                 defaults: Mapping[str, float]):
        self.names = dict(names)
        self.params = params
        self.states = states
        self.defaults = dict(defaults)


def _condition(table: Any, cid: str, file: str, targets: Targets,
               parameters: Mapping[str, Parameter]) -> tuple[dict, dict]:
    """A condition's parameter and initial-value overrides."""
    params: dict[str, float] = {}
    initial: dict[str, float] = {}
    row_number = list(table.index).index(cid) + 2
    for column, cell in table.loc[cid].items():
        if column == "conditionName":
            continue
        where = f"conditions table {file}, row {row_number} ({cid}), column {column}"
        value = _value(cell, parameters, where)
        name = targets.names.get(str(column), str(column))
        if name in targets.params:
            if value is None:
                raise SymflowError(f"{where}: empty; a parameter's value must be given")
            params[name] = value
        elif name in targets.states:
            if value is not None:
                initial[name] = value
        else:
            raise SymflowError(f"{where}: {column!r} is not a parameter, compartment or "
                               "species of the model")
    return params, initial


def _value(cell: Any, parameters: Mapping[str, Parameter], where: str) -> float | None:
    if isinstance(cell, (int, float, np.floating)):
        return None if math.isnan(cell) else float(cell)
    text = str(cell).strip()
    try:
        return float(text)
    except ValueError:
        pass
    p = parameters.get(text)
    if p is not None and not p.estimate:
        return p.nominal
    raise SymflowError(f"{where}: {text!r}", help="symflow reads numbers (or parameters "
                       "the parameters table fixes) here; condition-specific estimated "
                       "parameters are not supported")


def _preequilibration(table: Any, pre: str, sim_params: Mapping[str, float], file: str,
                      targets: Targets, parameters: Mapping[str, Parameter]) -> dict:
    """The parameter values of a pre-equilibration: its condition's, and the model's
    where only the simulation condition sets a value (PEtab does not carry them over)."""
    params, initial = _condition(table, pre, file, targets, parameters)
    if initial:
        raise SymflowError(f"conditions table {file}, condition {pre}: sets initial values "
                           f"({', '.join(initial)}) of a pre-equilibration; not supported",
                           help="pre-equilibration starts from the model's initial values")
    return {**{k: targets.defaults[k] for k in sim_params if k not in params}, **params}


def check_times(measurements: Any, file: str) -> float:
    """The last measurement time; an infinite one (a steady-state measurement) is
    refused with its row."""
    times = measurements["time"].to_numpy(dtype=float)
    bad = np.nonzero(~np.isfinite(times))[0]
    if bad.size:
        i = int(bad[0])
        raise SymflowError(f"measurements table {file}, row {i + 2}: time {times[i]}: "
                           "steady-state measurements are not supported",
                           help="symflow fits time courses; a steady state can start an "
                                "experiment (preequilibrationConditionId)")
    return float(times.max())


def read_experiments(measurements: Any, conditions: Any, *, files: Mapping[str, str],
                     targets: Targets, parameters: Mapping[str, Parameter],
                     varying: Mapping[str, tuple[str, ...]],
                     variants: Mapping[str, list[Combination]]) -> list[Experiment]:
    """One experiment per condition pair (and replicate, and set of values of the
    placeholders that vary: `varying` names their kinds by observable), in the
    measurements' order."""
    file = files["measurements"]
    groups: dict[tuple[str, str], list[int]] = {}
    pre_column = measurements.get("preequilibrationConditionId")
    check_times(measurements, file)
    for i in range(len(measurements)):
        pre = pre_column.iloc[i] if pre_column is not None else None
        pre = "" if pre is None or (isinstance(pre, float) and math.isnan(pre)) else str(pre)
        key = (str(measurements["simulationConditionId"].iloc[i]), pre)
        groups.setdefault(key, []).append(i)
    out = []
    for (sim, pre), rows in groups.items():
        params, initial = _condition(conditions, sim, files["conditions"], targets,
                                     parameters)
        preeq = (_preequilibration(conditions, pre, params, files["conditions"], targets,
                                   parameters) if pre else None)
        for k, (assigned, columns) in enumerate(_buckets(measurements, rows, varying, variants)):
            name = f"{sim}" + (f" after {pre}" if pre else "") + (f" #{k + 1}" if k else "")
            out.append(Experiment(t=columns.pop("t"), columns=columns,
                                  params={**params, **assigned}, initial=initial, name=name,
                                  preequilibration=preeq))
    return out


def _buckets(measurements: Any, rows: list[int], varying: Mapping[str, tuple[str, ...]],
             variants: Mapping[str, list[Combination]]
             ) -> list[tuple[dict[str, float], dict[str, np.ndarray]]]:
    """The rows of one condition as tables of columns (`t` and one per observable, NaN
    where missing): a row goes to the first table that has no value of its observable at
    its time yet and agrees on its placeholders' values (those the table's parameters
    set)."""
    buckets: list[tuple[dict[str, float], dict[tuple[str, float], float]]] = []
    for i in rows:
        obs = column_of(measurements, i, variants)
        t = float(measurements["time"].iloc[i])
        mine = row_placeholders(measurements, i, varying)
        for assigned, cells in buckets:
            if (obs, t) not in cells and all(assigned.get(n, v) == v for n, v in mine.items()):
                break
        else:
            buckets.append(({}, {}))
            assigned, cells = buckets[-1]
        assigned.update(mine)
        cells[(obs, t)] = float(measurements["measurement"].iloc[i])
    out = []
    for assigned, table in buckets:
        times = np.asarray(sorted({t for _, t in table}), dtype=float)
        columns = {"t": times}
        for obs in sorted({o for o, _ in table}):
            columns[obs] = np.asarray([table.get((obs, t), np.nan) for t in times])
        out.append((assigned, columns))
    return out
