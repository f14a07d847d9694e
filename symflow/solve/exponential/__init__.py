"""Exponential integrators (`expeuler`, `lawson`, `etdrk4`) as diffrax solvers, and the
set-up that hands them the linear part of the model's semilinear split."""

from .integrators import (
    ETDRK4 as ETDRK4,
    EXPONENTIAL as EXPONENTIAL,
    DiagonalOperator as DiagonalOperator,
    ExponentialEuler as ExponentialEuler,
    Lawson as Lawson,
    MatrixOperator as MatrixOperator,
    TimeVaryingDiagonal as TimeVaryingDiagonal,
    pack_spectrum as pack_spectrum,
    phi_functions as phi_functions,
    unpack_spectrum as unpack_spectrum,
)
from .setup import (
    ExponentialSetup as ExponentialSetup,
    exponential_setup as exponential_setup,
    generate_functions as generate_functions,
)
