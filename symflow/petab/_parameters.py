"""The parameters table: which names are fitted, their bounds, scale and nominal values.

PEtab's `parameterScale` is the scale an optimiser works on; symflow fits `log` and
`log10` names in log space (natural log: the same optimum and the same bounds, only the
coordinate's unit differs) and `lin` names as they are. Priors (`objectivePriorType`)
would add terms to the objective that symflow does not compute: they are refused.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from ..errors import SymflowError

__all__ = ["Parameter", "read_parameters"]

_SCALES = ("lin", "log", "log10")


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One row of the parameters table."""

    name: str
    nominal: float
    lower: float
    upper: float
    scale: str
    estimate: bool


def _number(row: Any, column: str, where: str) -> float:
    value: Any = row.get(column) if hasattr(row, "get") else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SymflowError(f"{where}: {column} is {value!r}, not a number") from None
    if math.isnan(number):
        raise SymflowError(f"{where}: {column} is empty",
                           help="symflow needs a nominal value and both bounds for every "
                                "parameter of the table")
    return number


def read_parameters(table: Any, file: str) -> dict[str, Parameter]:
    """Each row of the parameters table (`table`, indexed by parameterId) by id."""
    out = {}
    for i, (pid, row) in enumerate(table.iterrows()):
        where = f"parameters table {file}, row {i + 2} ({pid})"
        prior = row.get("objectivePriorType")
        if isinstance(prior, str) and prior.strip():
            raise SymflowError(f"{where}: objectivePriorType {prior!r}: priors are not "
                               "supported", help="symflow's objective is the negative "
                               "log-likelihood of the data; remove the prior columns")
        scale = str(row.get("parameterScale", "lin")).strip()
        if scale not in _SCALES:
            raise SymflowError(f"{where}: parameterScale {scale!r}",
                               help="one of " + ", ".join(_SCALES))
        estimate = int(_number(row, "estimate", where)) == 1
        lower = _number(row, "lowerBound", where) if estimate else -math.inf
        upper = _number(row, "upperBound", where) if estimate else math.inf
        if estimate and not lower < upper:
            raise SymflowError(f"{where}: lowerBound {lower:g} is not below upperBound "
                               f"{upper:g}")
        if estimate and scale != "lin" and lower <= 0:
            raise SymflowError(f"{where}: a {scale}-scaled parameter needs a positive "
                               f"lowerBound (it is {lower:g})")
        nominal = _number(row, "nominalValue", where)
        out[str(pid)] = Parameter(str(pid), nominal, lower, upper, scale, estimate)
    return out
