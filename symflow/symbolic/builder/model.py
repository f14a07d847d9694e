"""Building one model: AST to `System`, section by section.

`build` picks the model and the equations strategy (explicit, or implicit after
flattening components: `dae.py`), then `build_model` declares its sections in
dependency order (functions, constants, parameters, inputs, domain, Brownian motions,
variables, closures, observed outputs, equations, settings, boundary) in one
`Scope` and checks what spans sections.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from typing import Protocol

import sympy as sp

from ...catalog import EXPONENTIAL_SOLVERS, SAMPLERS
from ...collector import gc_paused
from ...errors import SymflowError
from ...lang import ast
from ..system import Equation, System, Variable
from .closures import build_closures
from .components import flatten
from .dae import ImplicitEquations, needs_dae
from .declarations import declare_functions, observed, parameters, variables
from .equations import ExplicitEquations
from .events import build_events
from .fields import build_boundary, build_domain, check_points, check_spectral
from .fit import build_fit
from .inputs import build_inputs
from .loops import unrolled_model
from .reactions import (
    build_network,
    check_species_equations,
    diluted_resets,
    network_equations,
    plan_network,
)
from .scope import TIME, Scope
from .sde import brownians
from .settings import build_settings

__all__ = ["EquationStrategy", "build", "build_model", "function_scope"]


class EquationStrategy(Protocol):
    """How a model's equations become `Equation`s: `ExplicitEquations` or
    `ImplicitEquations`."""

    # whether equations are residuals `0 = ...` with `der(x)` a symbol
    implicit: bool

    def check_variables(self, variables: list[Variable]) -> None: ...

    def build(self, scope: Scope, nodes, variables: list[Variable]) -> list[Equation]: ...

    def hold(self, discrete: list[Variable]) -> list[Equation]:
        """The equations der(x) = 0 of the discrete states, in this strategy's form."""
        ...


@gc_paused
def build(program: ast.Program, model: str | None = None, *,
          allow_import: Iterable[str | os.PathLike] = ()) -> System:
    """Build the `System` of one model of a parsed file.

    **Arguments:**

    - `program`: the parsed file.
    - `model`: which model to build; by default the last one in the file (the
      others are usually its parts).
    - `allow_import`: folders imports may read besides the file's own folder and
      the standard library (docs/language.md, imports).
    """
    chosen = _pick(program, model)
    if needs_dae(chosen) or program.imports:
        # Implicit equations, components, imports, `extends`: flattened first.
        for section in chosen.sections:
            if section.kind == "closures":
                raise SymflowError(
                    "closures in models with implicit equations or components are not "
                    "supported yet", section.span,
                    help="closures work in explicit ODE, SDE and PDE models")
        flat, generated, imported = flatten(program, chosen, allow_import=allow_import)
        flat_program = dataclasses.replace(program, models=(flat,), imports=())
        labels = {id(g): why for why, g in generated}
        system = build_model(Scope(flat_program, flat, dotted=True),
                             ImplicitEquations(labels))
    else:
        system = build_model(Scope(program, unrolled_model(chosen)), ExplicitEquations())
        imported = ()
    tables = (os.path.abspath(i.path) for i in system.inputs if i.path)
    own = os.path.abspath(program.file)
    sources = tuple(sorted({*imported, *tables} - {own}))
    return dataclasses.replace(system, sources=sources) if sources else system


def _pick(program: ast.Program, model: str | None) -> ast.Model:
    if not program.models:
        raise SymflowError(
            f"{program.file} defines no model",
            help="a model starts with `model Name` and ends with `end`",
        )
    if model is None:
        return program.models[-1]
    matches = [m for m in program.models if m.name == model]
    if not matches:
        names = ", ".join(m.name for m in program.models)
        raise SymflowError(f"no model named {model!r} in {program.file}",
                           help=f"the file defines: {names}")
    return matches[0]


def build_model(scope: Scope, equations: EquationStrategy) -> System:
    """The `System` of `scope.model`, its equations built by `equations`."""
    m = scope.model
    network_plan = plan_network(m)
    # functions first: a declared value may call one (its body is built where it is
    # called, so it may use only what that value may)
    declare_functions(scope, m.items("functions"))
    params = parameters(scope, m.items("constants"), constant=True)
    params += parameters(scope, m.items("parameters"), constant=False)
    params += parameters(scope, network_plan.compartment_parameters
                         + network_plan.species_parameters, constant=False)
    inputs = build_inputs(scope, m.items("inputs"))
    scope.dimensions = build_domain(scope, m.items("domain"))
    scope.brownians = brownians(scope, m.items("brownian"))
    variable_list = variables(scope, m.items("variables") + network_plan.compartment_variables
                              + network_plan.species_variables)
    network_variables = variables(scope, network_plan.moved + network_plan.diluted)
    discrete_list = [dataclasses.replace(v, discrete=True)
                     for v in variables(scope, m.items("discrete") + network_plan.held)]
    scope.discrete = {v.name for v in discrete_list}
    equations.check_variables(variable_list + network_variables)
    scope.closures = build_closures(scope, m.items("closures"))
    observed_nodes = m.items("observed")
    for o in observed_nodes:
        scope.declare(o.name, "observed", o.name_span, symbol=sp.Symbol(o.name, real=True))
    equation_list = equations.build(scope, m.items("equations"), variable_list)
    equation_list += equations.hold(discrete_list)
    network = None
    if not network_plan.empty:
        network = build_network(scope, network_plan)
        check_species_equations(network, network_plan)
        equation_list += network_equations(network, implicit=equations.implicit)
    # (with implicit equations, which variables stay states is known only after index
    # reduction: codegen refuses an affect on one that did not)
    states = ({e.target for e in equation_list if e.kind == "ode"} if
              all(e.kind != "implicit" for e in equation_list) else
              {v.name for v in variable_list + discrete_list})
    events = build_events(scope, diluted_resets(network_plan, m.items("events")), states,
                          scope.discrete)
    observed_list = observed(scope, observed_nodes)
    noise = build_fit(scope, m.items("fit"), variable_list + network_variables + discrete_list,
                      observed_list)
    settings = build_settings(scope, m.items("simulate"))
    boundary = build_boundary(scope, m.items("boundary"))
    for e in equation_list:
        if e.target in scope.field_coordinates and e.kind != "ode":
            raise SymflowError(f"field '{e.target}' must be defined by der({e.target})",
                               e.spans[0])
    if events and settings.solver in (*EXPONENTIAL_SOLVERS, *SAMPLERS):
        raise SymflowError(f"solver {settings.solver} does not run events",
                           settings.span_of("solver"),
                           help="events work with the adaptive and fixed-step ODE and SDE "
                                "solvers (not the exponential integrators or samplers)")
    check_points(scope.dimensions, settings.order, settings.span_of("order"), settings.scheme)
    check_spectral(scope, settings)
    return System(
        name=m.name, time=TIME, parameters=tuple(params),
        variables=tuple(variable_list + network_variables + discrete_list),
        equations=tuple(equation_list),
        observed=tuple(observed_list), settings=settings, file=scope.program.file,
        brownians=tuple(scope.brownians),
        domain=scope.dimensions, fields=tuple(scope.field_coordinates.items()),
        boundary=boundary, closures=tuple(scope.closures), events=events,
        inputs=tuple(inputs), reactions=network, noise=noise,
    )


def function_scope(program: ast.Program, model: ast.Model) -> Scope:
    """A scope with the constants, parameters and functions of `model` declared (and
    their numbers in `scope.values`): enough to build the body of one of its
    functions with `expressions.build_expression` (used by `symflow distill`)."""
    scope = Scope(program, model)
    parameters(scope, model.items("constants"), constant=True)
    parameters(scope, model.items("parameters"), constant=False)
    for f in model.items("functions"):
        if isinstance(f, ast.FunctionDef):
            scope.declare(f.name, "function", f.name_span, node=f)
    return scope
