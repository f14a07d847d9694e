"""Rosenbrock methods (`rodas5p`, `rodas4`, `ros3p`) as diffrax solvers: their
coefficients (`tableau`), the step and its error estimate (`solver`), dense output
(`interpolation`), and the derivatives of the right-hand side a step takes
(`jacobian`). docs/stiff.md says when `auto` picks them."""

from .interpolation import RosenbrockInterpolation as RosenbrockInterpolation
from .jacobian import Derivatives as Derivatives
from .jacobian import autodiff_derivatives as autodiff_derivatives
from .solver import ROSENBROCK as ROSENBROCK
from .solver import AbstractRosenbrock as AbstractRosenbrock
from .solver import Rodas4 as Rodas4
from .solver import Rodas5P as Rodas5P
from .solver import Ros3P as Ros3P
from .tableau import RODAS4 as RODAS4
from .tableau import RODAS5P as RODAS5P
from .tableau import ROS3P as ROS3P
from .tableau import RosenbrockTableau as RosenbrockTableau
