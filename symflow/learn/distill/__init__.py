"""From network back to symbols: distil a trained closure into a sparse expression."""

from ._library import (FunctionCandidate as FunctionCandidate, Library as Library,
                       Term as Term, build_library as build_library)
from ._distill import (Distillation as Distillation, DistilledOutput as DistilledOutput,
                       data_error as data_error, distill as distill,
                       distill_samples as distill_samples)
from ._functions import model_functions as model_functions
from ._rewrite import (format_number as format_number, format_sum as format_sum,
                       input_texts as input_texts, rewrite_closures as rewrite_closures)
from ._sindy import (CrossValidation as CrossValidation, SparseFit as SparseFit,
                     THRESHOLDS as THRESHOLDS, sparse_regression as sparse_regression,
                     stlsq as stlsq)


__all__ = ["CrossValidation", "Distillation", "DistilledOutput", "data_error", "distill",
           "distill_samples", "FunctionCandidate", "Library", "SparseFit", "THRESHOLDS",
           "Term", "build_library", "format_number", "format_sum", "input_texts",
           "model_functions", "rewrite_closures", "sparse_regression", "stlsq"]
