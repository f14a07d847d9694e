"""Learn stage: parameters, initial values and networks from data.

`fit` (least squares or likelihood with standard errors, multistart, noise
models), `profile` (profile likelihood), `train` (closures and physical
parameters with optax), the closure weights (`initial_weights`, `save_weights`,
...), the data they learn from (`Experiment`, `load_data`), and `distill` (trained
networks back to symbols). They take any `SimulatedModel`, never `symflow.api`.
"""

from ._best import BestSoFar as BestSoFar
from ._common import Bounds as Bounds
from ._common import rewrite_defaults as rewrite_defaults
from ._data import Experiment as Experiment
from ._data import as_experiments as as_experiments
from ._data import check_experiment as check_experiment
from ._data import load_data as load_data
from ._data import output_names as output_names
from ._evaluate import objective_value as objective_value
from ._fit import OPTIMIZERS as OPTIMIZERS
from ._fit import fit as fit
from ._fit_or_train import fit_or_train as fit_or_train
from ._fit_result import FitError as FitError
from ._fit_result import FitResult as FitResult
from ._fit_result import Multistart as Multistart
from ._model import SimulatedModel as SimulatedModel
from ._noise import NOISE_MODELS as NOISE_MODELS
from ._noise import Laplace as Laplace
from ._noise import Log10Normal as Log10Normal
from ._noise import LogNormal as LogNormal
from ._noise import NoiseModel as NoiseModel
from ._noise import Normal as Normal
from ._optimisers import OPTIMISERS as OPTIMISERS
from ._optimisers import SCHEDULES as SCHEDULES
from ._optimisers import Optimiser as Optimiser
from ._optimisers import optimiser_named as optimiser_named
from ._profile import Profile as Profile
from ._profile import ProfileResult as ProfileResult
from ._profile import profile as profile
from ._starts import START_SAMPLERS as START_SAMPLERS
from ._starts import StartSampler as StartSampler
from ._train import TRAINING_ADJOINT as TRAINING_ADJOINT
from ._train import train as train
from ._train_result import TrainResult as TrainResult
from ._weights import closure_samples as closure_samples
from ._weights import complete_weights as complete_weights
from ._weights import initial_weights as initial_weights
from ._weights import load_weights as load_weights
from ._weights import save_weights as save_weights

__all__ = ["BestSoFar", "Bounds", "Experiment", "FitError", "FitResult", "Laplace",
           "Log10Normal", "LogNormal",
           "Multistart", "NOISE_MODELS", "NoiseModel", "Normal", "OPTIMISERS", "OPTIMIZERS",
           "Optimiser", "Profile", "ProfileResult", "SCHEDULES", "START_SAMPLERS",
           "SimulatedModel", "StartSampler", "TRAINING_ADJOINT", "TrainResult",
           "as_experiments", "check_experiment", "closure_samples", "complete_weights", "fit",
           "fit_or_train", "objective_value",
           "initial_weights", "load_data", "load_weights", "optimiser_named", "output_names",
           "profile", "rewrite_defaults", "save_weights", "train"]
