"""Learn stage: parameters, initial values and networks from data.

`fit` (least squares with standard errors), `train` (closures and physical
parameters with optax), the closure weights (`initial_weights`, `save_weights`,
...), the data they learn from (`Experiment`, `load_data`), and `distill` (trained
networks back to symbols). They take any `SimulatedModel`, never `symflow.api`.
"""

from ._common import Bounds as Bounds, rewrite_defaults as rewrite_defaults
from ._data import (
    Experiment as Experiment,
    as_experiments as as_experiments,
    check_experiment as check_experiment,
    load_data as load_data,
    output_names as output_names,
)
from ._fit import OPTIMIZERS as OPTIMIZERS, fit as fit
from ._fit_result import FitError as FitError, FitResult as FitResult
from ._model import SimulatedModel as SimulatedModel
from ._optimisers import (
    OPTIMISERS as OPTIMISERS,
    SCHEDULES as SCHEDULES,
    Optimiser as Optimiser,
    optimiser_named as optimiser_named,
)
from ._train import TRAINING_ADJOINT as TRAINING_ADJOINT, train as train
from ._train_result import TrainResult as TrainResult
from ._weights import (
    closure_samples as closure_samples,
    complete_weights as complete_weights,
    initial_weights as initial_weights,
    load_weights as load_weights,
    save_weights as save_weights,
)


__all__ = ["Bounds", "Experiment", "FitError", "FitResult", "OPTIMISERS", "OPTIMIZERS",
           "Optimiser", "SCHEDULES", "SimulatedModel", "TRAINING_ADJOINT", "TrainResult",
           "as_experiments", "check_experiment", "closure_samples", "complete_weights", "fit",
           "initial_weights", "load_data", "load_weights", "optimiser_named", "output_names",
           "rewrite_defaults", "save_weights", "train"]
