"""The `fit` section: each observable's noise model, checked where it is written.

Each entry names an observable (a state, an observed output, or an element of an
array one, `z[0]`) and a distribution of `catalog.NOISE_MODELS` with its values
by role (`NOISE_ROLES`): a positive number or a declared parameter's name.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ... import catalog
from ...errors import SymflowError
from ...lang import ast
from ..measurement_noise import MeasurementNoise
from ..system import Observed, Variable
from .scope import Scope

__all__ = ["NOISE_ROLES", "build_fit", "noise_values"]

# the roles each distribution takes, in each form it may be written
NOISE_ROLES: dict[str, tuple[tuple[str, ...], ...]] = {
    "normal": (("sigma",), ("b",), ("a", "b")), "laplace": (("scale",),),
    "lognormal": (("sigma",),), "log10normal": (("sigma",),)}


def build_fit(scope: Scope, nodes: Sequence[ast.NoiseDef], variables: Sequence[Variable],
              observed: Sequence[Observed]) -> tuple[MeasurementNoise, ...]:
    """The noise models of the `fit` section, every mistake pointed at."""
    shapes = {v.name: v.shape for v in variables}
    shapes.update({o.name: o.shape for o in observed})
    seen: set[str] = set()
    out = []
    for node in nodes:
        _check_observable(node, shapes)
        if node.name in seen:
            raise SymflowError(f"{node.name!r} has two noise models", node.name_span)
        seen.add(node.name)
        parameters = {n for n, e in scope.names.items() if e.kind == "parameter"}
        out.append(MeasurementNoise(node.name, node.distribution.func, noise_values(
            node.distribution, parameters=parameters, model=scope.model.name), node.span))
    return tuple(out)


def _check_observable(node: ast.NoiseDef, shapes: dict[str, tuple[int, ...]]) -> None:
    base, _, index = node.name.partition("[")
    shape = shapes.get(base)
    if shape is None:
        raise SymflowError(f"noise model for {node.name!r}: no state or observed output of "
                           "that name", node.name_span,
                           help="observables: " + ", ".join(shapes))
    if not index and shape != ():
        raise SymflowError(f"{base!r} is an array of {shape[0]} values: give each element "
                           f"its noise model, `{base}[0] ~ ...`", node.name_span)
    if index and (len(shape) != 1 or not 0 <= int(index.rstrip("]")) < shape[0]):
        what = "not an array" if shape == () else f"an array of {shape[0]} values " \
            f"(indices 0 to {shape[0] - 1})"
        raise SymflowError(f"{node.name!r}: {base!r} is {what}", node.name_span)


def noise_values(call: ast.Call, *, parameters: Collection[str],
                 model: str) -> tuple[tuple[str, float | str], ...]:
    """The values of a noise model's call (`normal(sigma = s)`) by role, each a
    positive number or one of `parameters` (of the model called `model`)."""
    if call.func not in NOISE_ROLES:
        raise SymflowError(f"unknown noise model {call.func!r}", call.func_span,
                           help="choose " + ", ".join(catalog.NOISE_MODELS))
    roles = NOISE_ROLES[call.func]
    if call.args:
        raise SymflowError("name the noise parameters: "
                           f"`{call.func}({', '.join(roles[0])} = ...)`", call.span)
    values = tuple((k.name, _value(k, parameters, model)) for k in call.keywords)
    if tuple(sorted(name for name, _ in values)) not in roles:
        forms = " or ".join("(" + ", ".join(f"{r} = ..." for r in form) + ")"
                            for form in roles)
        raise SymflowError(f"{call.func} takes {forms}", call.span)
    return values


def _value(k: ast.Keyword, parameters: Collection[str], model: str) -> float | str:
    v = k.value
    if isinstance(v, ast.Name):
        if v.id not in parameters:
            raise SymflowError(f"{v.id!r} is not a parameter of {model}", v.span,
                               help="a noise parameter is a number or a declared parameter "
                                    "(fitted when it is among the fitted names)")
        return v.id
    if not isinstance(v, ast.Number):
        raise SymflowError("a noise parameter is a number or a parameter's name", v.span)
    if not float(v.value) > 0:
        raise SymflowError(f"{k.name} must be positive", v.span)
    return float(v.value)
