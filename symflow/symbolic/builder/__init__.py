"""The builder: AST to `System`, one module per part of the language.

`model.build` picks the model and its equations strategy; the other modules
each take the `scope.Scope` (the model's name table) explicitly:

- `scope`: names, built-in names, limits; `expressions` and `calls`: one
  expression to SymPy; `derivatives`: `diff`/`laplacian`;
- `declarations`: constants, parameters, functions, variables, observed outputs;
- `equations` (explicit) and `dae` (implicit, after `components` flattening, with
  `imports` (the models a file sees), `component_arrays` (arrays of components)
  and `loops` (`for ... end`, unrolled));
- `settings` (the `simulate` section and the names it accepts), `fields` (domain,
  boundary), `closures`, `sde` (Brownian motions, `d(x) = ...`), `fit` (each
  observable's noise model).
"""

from .closures import ACTIVATIONS as ACTIVATIONS
from .closures import CLOSURE_OPTIONS as CLOSURE_OPTIONS
from .components import LIBRARY as LIBRARY
from .components import flatten as flatten
from .components import load_namespace as load_namespace
from .dae import needs_dae as needs_dae
from .expressions import build_expression as build_expression
from .fit import NOISE_ROLES as NOISE_ROLES
from .fit import noise_values as noise_values
from .model import build as build
from .model import function_scope as function_scope
from .scope import Entry as Entry
from .scope import Scope as Scope
from .settings import ODE_SOLVERS as ODE_SOLVERS
from .settings import SAMPLER_GRIDS as SAMPLER_GRIDS
from .settings import SDE_SOLVERS as SDE_SOLVERS
from .settings import SETTINGS as SETTINGS
from .settings import check_solver as check_solver
from .settings import suggest_solvers as suggest_solvers
