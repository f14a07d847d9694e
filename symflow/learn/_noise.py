"""Noise models of measured observables: what a data point's error is, as a likelihood.

A fit with noise models minimises the negative log-likelihood of the data,
summed over every measured point of every experiment; the parameters of a noise
model (a σ, a scale) are numbers (known) or the names of model parameters, which
are fitted with the rest when they are among the fitted names. The models, each
a small typed object (`NOISE_MODELS`, names in `symflow.catalog.NOISE_MODELS`):

- `normal(sigma = s)`: Gaussian, σ constant; `normal(b = s)`: proportional,
  σ = s·|y|; `normal(a = s0, b = s1)`: σ = a + b·|y| (y the model's value);
- `laplace(scale = b)`: Laplace with scale b;
- `lognormal(sigma = s)`: log y_data ~ normal(log y, σ);
- `log10normal(sigma = s)`: log10 y_data ~ normal(log10 y, σ) (PEtab's log10-normal).

They are written in a model's `fit` section (`x ~ normal(sigma = s_x)`, see
docs/fitting.md) and may be given or overridden from Python (`noise={"x":
"laplace(scale = 0.1)"}`) and the command line (`--noise x~laplace(scale=0.1)`).
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import jax.numpy as jnp

from ..errors import SymflowError
from ..lang import ast, parse
from ..symbolic import noise_values
from ._model import SimulatedModel

__all__ = ["NoiseModel", "Normal", "Laplace", "LogNormal", "Log10Normal", "NOISE_MODELS",
           "noise_models", "noise_named"]

Value = float | str  # a number, or the name of a parameter
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_LN10 = math.log(10.0)


class NoiseModel(abc.ABC):
    """The likelihood of one observable's data given the model's values."""

    name: ClassVar[str]

    @abc.abstractmethod
    def values(self) -> dict[str, Value]:
        """The noise parameters by role (`sigma`, `a`, `b`, `scale`)."""

    def parameter_names(self) -> tuple[str, ...]:
        """The model parameters this noise model reads."""
        return tuple(v for v in self.values().values() if isinstance(v, str))

    @abc.abstractmethod
    def nll(self, y, data, theta: Mapping[str, Any]):
        """Each point's negative log-likelihood (traceable); `theta` holds the values of
        `parameter_names()`."""

    def weighted(self, y, data, theta: Mapping[str, Any]):
        """Residuals whose sum of squares is twice the NLL up to a constant, or `None`
        when there are none (a σ that is fitted or follows the model's value)."""
        return None

    def is_least_squares(self, fitted: set[str]) -> bool:
        """Whether `weighted` applies with these names fitted."""
        return False

    def __str__(self) -> str:
        args = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                         for k, v in self.values().items())
        return f"{self.name}({args})"


def _value(v: Value, theta: Mapping[str, Any]):
    return theta[v] if isinstance(v, str) else v


@dataclasses.dataclass(frozen=True)
class Normal(NoiseModel):
    """Gaussian: σ = `sigma`, or σ = `a` + `b`·|y|."""

    name: ClassVar[str] = "normal"
    sigma: Value | None = None
    a: Value | None = None
    b: Value | None = None

    def values(self) -> dict[str, Value]:
        return {k: v for k, v in (("sigma", self.sigma), ("a", self.a), ("b", self.b))
                if v is not None}

    def _sigma(self, y, theta):
        if self.sigma is not None:
            return _value(self.sigma, theta)
        a = _value(self.a, theta) if self.a is not None else 0.0
        return a + _value(self.b, theta) * jnp.abs(y)  # type: ignore[arg-type]

    def nll(self, y, data, theta):
        s = self._sigma(y, theta)
        return 0.5 * ((y - data) / s) ** 2 + jnp.log(s) + _HALF_LOG_2PI

    def weighted(self, y, data, theta):
        return (y - data) / self._sigma(y, theta)

    def is_least_squares(self, fitted: set[str]) -> bool:
        return self.sigma is not None and self.sigma not in fitted


@dataclasses.dataclass(frozen=True)
class Laplace(NoiseModel):
    """Laplace (double exponential): robust to outliers."""

    name: ClassVar[str] = "laplace"
    scale: Value = 1.0

    def values(self) -> dict[str, Value]:
        return {"scale": self.scale}

    def nll(self, y, data, theta):
        b = _value(self.scale, theta)
        return jnp.abs(y - data) / b + jnp.log(2 * b)


@dataclasses.dataclass(frozen=True)
class LogNormal(NoiseModel):
    """Log-normal: the data's logarithm is Gaussian about the model's (positive data)."""

    name: ClassVar[str] = "lognormal"
    sigma: Value = 1.0

    def values(self) -> dict[str, Value]:
        return {"sigma": self.sigma}

    def nll(self, y, data, theta):
        s = _value(self.sigma, theta)
        log_data = jnp.log(data)
        return (0.5 * ((jnp.log(y) - log_data) / s) ** 2 + jnp.log(s) + log_data
                + _HALF_LOG_2PI)

    def weighted(self, y, data, theta):
        return (jnp.log(y) - jnp.log(data)) / _value(self.sigma, theta)

    def is_least_squares(self, fitted: set[str]) -> bool:
        return self.sigma not in fitted


@dataclasses.dataclass(frozen=True)
class Log10Normal(NoiseModel):
    """Log-normal in decades: the data's base-10 logarithm is Gaussian about the model's,
    σ in decades (as PEtab's `log10` observables). Its density in the data carries the
    Jacobian 1/(d ln 10)."""

    name: ClassVar[str] = "log10normal"
    sigma: Value = 1.0

    def values(self) -> dict[str, Value]:
        return {"sigma": self.sigma}

    def nll(self, y, data, theta):
        s = _value(self.sigma, theta)
        return (0.5 * ((jnp.log10(y) - jnp.log10(data)) / s) ** 2 + jnp.log(s)
                + jnp.log(data * _LN10) + _HALF_LOG_2PI)

    def weighted(self, y, data, theta):
        return (jnp.log10(y) - jnp.log10(data)) / _value(self.sigma, theta)

    def is_least_squares(self, fitted: set[str]) -> bool:
        return self.sigma not in fitted


NOISE_MODELS: dict[str, type[NoiseModel]] = {
    cls.name: cls for cls in (Normal, Laplace, LogNormal, Log10Normal)}


def noise_named(call: ast.Call, model: SimulatedModel) -> NoiseModel:
    """The noise model a `fit` entry's call writes, every mistake pointed at."""
    values = noise_values(call, parameters=model.params, model=model.name)
    return NOISE_MODELS[call.func](**dict(values))  # type: ignore[arg-type]


def noise_models(model: SimulatedModel, given: Mapping[str, NoiseModel | str] | None = None
                 ) -> dict[str, NoiseModel]:
    """The noise model of each observable: the model file's `fit` section (checked
    when the model was built), overridden by `given` (objects, or texts such as
    `"normal(sigma = 0.1)"`)."""
    out: dict[str, NoiseModel] = {
        n.observable: NOISE_MODELS[n.distribution](**dict(n.values))  # type: ignore[arg-type]
        for n in model.built.noise}
    for name, value in (given or {}).items():
        _check_observable(model, name, None)
        out[name] = value if isinstance(value, NoiseModel) else _parse_noise(
            model, name, value)
    return out


def _parse_noise(model: SimulatedModel, name: str, text: str) -> NoiseModel:
    """`text` (`normal(sigma = 0.1)`) parsed as the right side of a `fit` entry."""
    source = f"model _\n  fit\n    x ~ {text}\nend\n"
    program = parse(source, f"<noise of {name}>")
    entry = program.models[0].items("fit")
    if len(entry) != 1:
        raise SymflowError(f"cannot read the noise model {text!r}")
    return noise_named(entry[0].distribution, model)


def _check_observable(model: SimulatedModel, name: str, span) -> None:
    from ._data import output_names

    if name not in output_names(model):
        raise SymflowError(f"noise model for {name!r}: {model.name} has no state or observed "
                           "output of that name", span,
                           help="observables: " + ", ".join(output_names(model)))
