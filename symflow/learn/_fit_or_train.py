"""`Model.fit`: a fit (`fit`) or, for a model with closures, training (`train`), from
one explicit set of options, each checked to belong to the kind of model given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import SymflowError
from ._fit import fit
from ._fit_result import FitResult
from ._model import SimulatedModel
from ._train import train
from ._train_result import TrainResult

__all__ = ["FIT_DEFAULTS", "FIT_ONLY", "SOLVE_OPTIONS", "TRAIN_ONLY", "fit_or_train"]

# `Model.fit`'s options and their defaults: an option at its default is not passed
# on, so `fit` and `train` keep their own defaults (adam's steps, the learning rates)
FIT_DEFAULTS: Mapping[str, Any] = {
    "optimizer": None, "steps": None, "log": (), "scale": "none", "noise": None,
    "per_experiment": (), "starts": 1, "sampler": "lhs", "seed": 0, "batched": None,
    "mesh": None,
    "rtol": None, "atol": None, "learning_rate": None, "progress": False,
    "freeze": (), "schedule": None, "window": None, "batch": None, "start": None,
    "print_every": None,
    "solver": None, "tspan": None, "solve_rtol": None, "solve_atol": None,
    "adjoint": None, "max_steps": None, "dt": None, "best": None,
}
# options of a fit that training closures does not take, and the other way round
FIT_ONLY = ("noise", "per_experiment", "starts", "sampler", "batched", "mesh", "rtol",
            "atol")
TRAIN_ONLY = ("freeze", "schedule", "window", "batch", "start", "print_every")
# passed on to `simulate` by both
SOLVE_OPTIONS = ("solver", "tspan", "solve_rtol", "solve_atol", "adjoint", "max_steps", "dt")


def fit_or_train(model: SimulatedModel, data: Any, params: Sequence[str] | None,
                 options: Mapping[str, Any]) -> FitResult | TrainResult:
    """Fit `model` to `data`, or train it if it has closures, with the options of
    `Model.fit` (by name, every one of `FIT_DEFAULTS`); an option of the other kind
    given away from its default is refused, with what it is for."""
    unknown = set(options) - set(FIT_DEFAULTS)
    if unknown:  # a programming error of the caller, not of the user
        raise TypeError(f"unknown options {sorted(unknown)}")
    given = {k: v for k, v in options.items() if not _is_default(v, FIT_DEFAULTS[k])}
    training = bool(model.system.closures)
    wrong = [k for k in (FIT_ONLY if training else TRAIN_ONLY) if k in given]
    if wrong:
        raise SymflowError(
            f"{wrong[0]}= is an option of "
            + ("fitting a model without closures" if training
               else "training a model with closures (docs/closures.md)"),
            help=f"{model.name} " + ("has closures: it is trained with adam" if training
                                     else "has no closures: it is fitted (docs/fitting.md)"))
    if training:
        return train(model, data, params, **given)
    return fit(model, data, params, **given)


def _is_default(value: Any, default: Any) -> bool:
    if default is None:
        return value is None
    if isinstance(default, tuple):
        return isinstance(value, (tuple, list)) and len(value) == 0
    return isinstance(value, type(default)) and value == default
