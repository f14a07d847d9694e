"""From network back to symbols: distil a trained closure into a sparse expression."""

from ._distill import Distillation as Distillation
from ._distill import DistilledOutput as DistilledOutput
from ._distill import data_error as data_error
from ._distill import distill as distill
from ._distill import distill_samples as distill_samples
from ._functions import model_functions as model_functions
from ._library import FunctionCandidate as FunctionCandidate
from ._library import Library as Library
from ._library import Term as Term
from ._library import build_library as build_library
from ._rewrite import format_number as format_number
from ._rewrite import format_sum as format_sum
from ._rewrite import input_texts as input_texts
from ._rewrite import rewrite_closures as rewrite_closures
from ._sindy import THRESHOLDS as THRESHOLDS
from ._sindy import CrossValidation as CrossValidation
from ._sindy import SparseFit as SparseFit
from ._sindy import sparse_regression as sparse_regression
from ._sindy import stlsq as stlsq

__all__ = ["CrossValidation", "Distillation", "DistilledOutput", "data_error", "distill",
           "distill_samples", "FunctionCandidate", "Library", "SparseFit", "THRESHOLDS",
           "Term", "build_library", "format_number", "format_sum", "input_texts",
           "model_functions", "rewrite_closures", "sparse_regression", "stlsq"]
