"""The IR vocabulary: SymPy node types that the passes write and codegen prints."""

from .._arrays import _ArrayFunction as ArrayFunction  # noqa: F401 (the base of every array node)
from .spectral import (
    LINEAR_SPECTRAL_NODES as LINEAR_SPECTRAL_NODES,
    SpectralAxisDiff as SpectralAxisDiff,
    SpectralDiff as SpectralDiff,
    SpectralDiffOfSpectrum as SpectralDiffOfSpectrum,
    SpectralFilter as SpectralFilter,
    SpectralGridFilter as SpectralGridFilter,
)
