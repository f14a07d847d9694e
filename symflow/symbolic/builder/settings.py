"""The `simulate` section, checked against the names of the catalogue (`symflow.catalog`:
solvers, grids, schemes, settings)."""

from __future__ import annotations

import difflib
from typing import Any

from ...catalog import (
    CONSERVED,
    INTERPRETATIONS,
    JUMP_SOLVERS,
    ODE_SOLVERS,
    SAMPLER_GRIDS,
    SCHEMES,
    SDE_SOLVERS,
    SETTINGS,
    SOLVER_ALIASES,
)
from ...errors import Span, SymflowError
from ...lang import ast
from ..system import Settings
from .expressions import constant_integer, constant_number
from .scope import Scope

__all__ = ["ODE_SOLVERS", "ORDERS", "SAMPLER_GRIDS", "SCHEMES", "SDE_SOLVERS", "SETTINGS",
           "build_settings", "check_solver", "suggest_solvers"]


ORDERS = (1, 2, 4)


def check_solver(name: str, span: Span | None, *, sde: bool = False,
                 jump: bool = False) -> None:
    """A solver name of the model's kind: an ODE, an SDE (`sde`) or a jump process."""
    known = JUMP_SOLVERS if jump else SDE_SOLVERS if sde else ODE_SOLVERS
    if name not in known:
        kind = "jump " if jump else "SDE " if sde else ""
        close = suggest_solvers(name, known)
        raise SymflowError(
            f"unknown {kind}solver '{name}'", span,
            help=("did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close
                  else "") + "known solvers: " + ", ".join(known))


def suggest_solvers(name: str, known: tuple[str, ...]) -> list[str]:
    """The solvers of `known` a mistyped or foreign solver name most likely means: the
    same job under another tool's name (`catalog.SOLVER_ALIASES`: `rk45` -> tsit5,
    dopri5), else the closest spelling."""
    key = name.lower()
    if key in SOLVER_ALIASES:
        return [s for s in SOLVER_ALIASES[key] if s in known]
    return difflib.get_close_matches(key, known, n=1)


def build_settings(scope: Scope, nodes) -> Settings:
    """The `simulate` section: each setting checked and given its value."""
    values: dict[str, Any] = {}
    spans: list[tuple[str, Span]] = []
    for s in nodes:
        if s.name not in SETTINGS:
            close = difflib.get_close_matches(s.name, SETTINGS, n=1)
            raise SymflowError(
                f"unknown simulate setting '{s.name}'", s.name_span,
                help=(f"did you mean '{close[0]}'? " if close else "")
                + "known settings: " + ", ".join(SETTINGS))
        if s.name in values:
            raise SymflowError(f"'{s.name}' is set twice", s.name_span)
        spans.append((s.name, s.value.span))
        values[s.name] = _setting_value(scope, s)
    if "solver" in values:
        interpretation = values.get("interpretation", "ode")
        check_solver(values["solver"], dict(spans)["solver"],
                     sde=bool(scope.brownians) or interpretation == "langevin",
                     jump=interpretation == "jump")
    if "dt" in values:
        values["dt0"] = values.pop("dt")
    return Settings(**values, spans=tuple(spans))

def _setting_value(scope: Scope, s: ast.Setting) -> Any:
    v = s.value
    if s.name == "solver":
        if not isinstance(v, ast.Name):
            raise SymflowError("solver must be a name, such as tsit5", v.span)
        return v.id.lower()  # any case; checked once the interpretation is known
    if s.name == "noise":
        if not isinstance(v, ast.Name) or v.id not in ("ito", "stratonovich"):
            raise SymflowError("noise must be ito or stratonovich", v.span)
        return v.id
    for name, words in (("interpretation", INTERPRETATIONS), ("conserved", CONSERVED)):
        if s.name == name:
            if not isinstance(v, ast.Name) or v.id not in words:
                raise SymflowError(f"{name} must be " + " or ".join(words), v.span)
            return v.id
    if s.name == "grid":
        if not isinstance(v, ast.Name) or v.id not in SAMPLER_GRIDS:
            choices = ", ".join(SAMPLER_GRIDS[:-1]) + " or " + SAMPLER_GRIDS[-1]
            raise SymflowError("grid must be " + choices, v.span)
        return v.id
    if s.name == "grid_exponent":
        x = constant_number(scope, v, "grid_exponent")
        if not 0 < x <= 100:
            raise SymflowError(f"grid_exponent must be positive (and at most 100), "
                               f"not {x:g}", v.span)
        return x
    if s.name == "steps":
        n = constant_integer(scope, v, "steps")
        if n < 1:
            raise SymflowError(f"steps (model evaluations) must be at least 1, not {n}",
                               v.span)
        return n
    if s.name == "trajectories":
        n = constant_integer(scope, v, "trajectories")
        if n < 1:
            raise SymflowError(f"trajectories must be at least 1, not {n}", v.span)
        return n
    if s.name == "seed":
        n = constant_integer(scope, v, "seed")
        if not 0 <= n < 2**32:
            raise SymflowError("seed must be a whole number in [0, 2**32)", v.span)
        return n
    if s.name == "tspan":
        if not isinstance(v, ast.ArrayLiteral) or len(v.items) != 2:
            raise SymflowError("tspan must be [start, end]", v.span)
        a, b = (constant_number(scope, x, "tspan") for x in v.items)
        if a == b:
            raise SymflowError("tspan is empty: start and end are equal", v.span)
        return (a, b)
    if s.name == "saveat":
        if isinstance(v, ast.ArrayLiteral):
            return tuple(constant_number(scope, x, "a save time") for x in v.items)
        n = constant_integer(scope, v, "saveat")
        if n < 2:
            raise SymflowError("saveat needs at least 2 points", v.span)
        return n
    if s.name == "scheme":
        if not isinstance(v, ast.Name) or v.id not in SCHEMES:
            raise SymflowError("unknown scheme", v.span,
                               help="schemes: " + ", ".join(SCHEMES))
        return v.id
    if s.name == "order":
        n = constant_integer(scope, v, "order")
        if n not in ORDERS:
            raise SymflowError(f"finite differences of order {n} are not available",
                               v.span, help="order = 2 or 4 (central), 1 or 2 (upwind)")
        return n
    if s.name in ("max_steps", "max_events"):
        n = constant_integer(scope, v, s.name)
        if n < 1:
            raise SymflowError(f"{s.name} must be positive", v.span)
        return n
    if s.name == "event_samples":
        n = constant_integer(scope, v, s.name)
        if not 0 <= n <= 1000:
            raise SymflowError("event_samples must be between 0 and 1000", v.span,
                               help="the interior points of each step where the events' "
                                    "conditions are checked (default 3)")
        return n
    x = constant_number(scope, v, s.name)
    if x <= 0:
        raise SymflowError(f"{s.name} must be positive", v.span)
    return x
