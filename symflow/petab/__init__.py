"""PEtab import: a PEtab v1 parameter estimation problem (a YAML file naming an SBML
model and the conditions, observables, measurements and parameters tables) as a symflow
fit (docs/petab.md).

```python
from symflow import petab
problem = petab.load("problem.yaml")
problem.nominal_nll()           # the negative log-likelihood at the nominal values
problem.fit(starts=10)          # Model.fit with the problem's data, names, bounds
print(problem.text)             # the model text: SBML import + observables + noise
```

The tables are read and checked by the `petab` library (`pip install 'symflow[petab]'`);
their formulas are read with libsbml's infix parser, never evaluated. What symflow cannot
represent (placeholders that vary between measurements, log10 observables, priors,
steady-state measurements, ...) is refused by name with its file and row.
"""

from ._problem import PetabProblem as PetabProblem
from ._problem import ProblemText as ProblemText
from ._problem import load as load
from ._problem import read_problem as read_problem

__all__ = ["PetabProblem", "ProblemText", "load", "read_problem"]
