"""Discretization: a PDE system on fields becomes an ODE system on the grid.

One module per piece: `weights` (exact difference weights), `grid` (slicing
along a dimension, Dirichlet ends and faces), the schemes `central`, `upwind`,
`divergence` (conservative form) and `spectral`, and `method_of_lines`, the
pass that puts them together.
"""

from .method_of_lines import discretize as discretize
from .spectral import discretize_spectral as discretize_spectral
from .weights import difference_weights as difference_weights
