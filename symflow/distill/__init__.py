"""From network back to symbols: distil a trained closure into a sparse expression."""

from ._library import (FunctionCandidate as FunctionCandidate, Library as Library,
                       Term as Term, build_library as build_library)
from ._sindy import (CrossValidation as CrossValidation, SparseFit as SparseFit,
                     THRESHOLDS as THRESHOLDS, sparse_regression as sparse_regression,
                     stlsq as stlsq)


__all__ = ["CrossValidation", "FunctionCandidate", "Library", "SparseFit", "THRESHOLDS",
           "Term", "build_library", "sparse_regression", "stlsq"]
