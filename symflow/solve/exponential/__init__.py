"""Exponential integrators (`expeuler`, `lawson`, `etdrk4`) as diffrax solvers, and the
set-up that hands them the linear part of the model's semilinear split."""

from .integrators import ETDRK4 as ETDRK4
from .integrators import EXPONENTIAL as EXPONENTIAL
from .integrators import DiagonalOperator as DiagonalOperator
from .integrators import ExponentialEuler as ExponentialEuler
from .integrators import Lawson as Lawson
from .integrators import MatrixOperator as MatrixOperator
from .integrators import TimeVaryingDiagonal as TimeVaryingDiagonal
from .integrators import pack_spectrum as pack_spectrum
from .integrators import phi_functions as phi_functions
from .integrators import unpack_spectrum as unpack_spectrum
from .setup import ExponentialSetup as ExponentialSetup
from .setup import exponential_setup as exponential_setup
from .setup import generate_functions as generate_functions
