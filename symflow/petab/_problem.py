"""A PEtab problem as a symflow fit: the model (compiled from the completed model text),
the experiments, the fitted names and which of them are fitted in log space.

```python
from symflow import petab
problem = petab.load("Boehm_JProteomeRes2014.yaml")
problem.nominal_nll()                 # the objective at the table's nominal values
result = problem.fit(starts=20)       # Model.fit with the problem's data and names
```
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from ..api import Model, loads
from ..learn import Experiment, objective_value
from ..sbml import read_sbml
from ._experiments import Targets, check_times, read_experiments
from ._observables import placeholder_values, read_observables
from ._parameters import Parameter, read_parameters
from ._read import Tables, read_tables
from ._text import model_text
from ._variants import Combination, find_variants

__all__ = ["PetabProblem", "ProblemText", "load", "read_problem"]


@dataclasses.dataclass(frozen=True)
class PetabProblem:
    """A PEtab problem read for symflow.

    - `text`: the model text (the SBML import with the observables, noise models and
      parameter bounds of the tables); `model`: it compiled.
    - `experiments`: the data, one `Experiment` per condition (and replicate).
    - `fitted`: the names the table estimates; `log`: those fitted in log space.
    - `nominal`: the table's nominal value of every fitted name.
    - `parameters`: the parameters table's rows by id.
    """

    source: str
    text: str
    model: Model
    experiments: tuple[Experiment, ...]
    fitted: tuple[str, ...]
    log: tuple[str, ...]
    nominal: dict[str, float]
    parameters: dict[str, Parameter]

    @property
    def tspan(self) -> tuple[float, float]:
        """The span every experiment is simulated over: from 0 to the last measurement."""
        return (0.0, max(float(e.t[-1]) for e in self.experiments))

    def fit(self, **options: Any) -> Any:
        """`Model.fit` on the problem's data, names and log scaling (`options`: the rest
        of `Model.fit`'s, `starts=`, `steps=`, `progress=`...)."""
        options.setdefault("log", self.log)
        return self.model.fit(list(self.experiments), list(self.fitted), **options)

    def nll(self, values: dict[str, float] | None = None, **options: Any) -> float:
        """The negative log-likelihood at `values` (default: the nominal values), with
        PEtab's constants (½ log 2πσ² per point of a normal observable)."""
        return objective_value(self.model, list(self.experiments),
                               dict(values if values is not None else self.nominal),
                               **options)

    def nominal_nll(self) -> float:
        """The negative log-likelihood at the parameters table's nominal values."""
        return self.nll()


@dataclasses.dataclass(frozen=True)
class ProblemText:
    """A PEtab problem read up to its model text (nothing compiled): the `text`, the
    `tables`, the model name of each SBML id (`names`), the parameters table's rows,
    the kinds of placeholder that vary by measurement (by observable: `observable`,
    `noise`), and the observables split into variants (`_variants.py`)."""

    text: str
    tables: Tables
    names: dict[str, str]
    parameters: dict[str, Parameter]
    varying: dict[str, tuple[str, ...]]
    variants: dict[str, list[Combination]]


def read_problem(path: str | os.PathLike) -> ProblemText:
    """The PEtab problem `path` read up to its model text: its mistakes and what symflow
    refuses are found here, before anything is compiled."""
    tables = read_tables(path)
    imported = read_sbml(tables.sbml)
    names = imported.names
    parameters = read_parameters(tables.parameters, tables.files["parameters"])
    known = {names.get(p, p) for p in parameters} | set(names.values())
    file = tables.files["measurements"]
    variants = find_variants(tables.measurements)
    observables = read_observables(
        tables.observables, tables.files["observables"],
        observable_values=placeholder_values(tables.measurements, "observableParameters",
                                             file, skip=variants),
        noise_values=placeholder_values(tables.measurements, "noiseParameters", file,
                                        skip=variants),
        name=lambda sid: names.get(sid, sid), parameters=known, variants=variants)
    t_end = check_times(tables.measurements, file)
    pre = tables.measurements.get("preequilibrationConditionId")
    text = model_text(imported.text, names, parameters, observables,
                      t_end=t_end if t_end > 0 else 1.0, source=tables.sbml,
                      preequilibration=pre is not None and bool(pre.notna().any()))
    varying = {o.id: tuple(sorted({v.split("Parameter")[0] for v in o.varying}))
               for o in observables if o.varying}
    return ProblemText(text, tables, names, parameters, varying, variants)


def load(path: str | os.PathLike) -> PetabProblem:
    """Read a PEtab v1 problem (its YAML file) and compile its model."""
    read = read_problem(path)
    tables, names, parameters, text = read.tables, read.names, read.parameters, read.text
    model = loads(text, file=os.fspath(path) + ".sf")
    defaults = {k: float(v) for k, v in model.params.items() if getattr(v, "shape", ()) == ()}
    targets = Targets(names, set(model.params), set(model.state_names), defaults)
    experiments = read_experiments(tables.measurements, tables.conditions, files=tables.files,
                                   targets=targets, parameters=parameters,
                                   varying=read.varying, variants=read.variants)
    fitted = tuple(names.get(p.name, p.name) for p in parameters.values() if p.estimate)
    log = tuple(names.get(p.name, p.name) for p in parameters.values()
                if p.estimate and p.scale != "lin")
    nominal = {names.get(p.name, p.name): p.nominal for p in parameters.values() if p.estimate}
    return PetabProblem(os.fspath(path), text, model, tuple(experiments), fitted, log,
                        nominal, parameters)
