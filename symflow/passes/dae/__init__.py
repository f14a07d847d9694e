"""The DAE passes: from implicit equations (components, `0 = ...`) to explicit ODEs.

In pipeline order: `alias_elimination`, `mass_matrix` (row compression of a
constant singular mass matrix), `structural_analysis`, `pantelides`
(index reduction), `dummy_derivatives`, `dae_to_ode` (matching, block ordering,
`tearing` of algebraic loops, then `consistent_initialization`). Each is a
no-op on an ODE system. They share one `IncidenceGraph` (`graph.py`), built
once per system and handed on from pass to pass.
"""

from .alias_elimination import eliminate_aliases as eliminate_aliases
from .dae_to_ode import dae_to_ode as dae_to_ode
from .dummy_derivatives import DummySelection as DummySelection
from .dummy_derivatives import dummy_selection as dummy_selection
from .dummy_derivatives import select_dummy_derivatives as select_dummy_derivatives
from .graph import IncidenceGraph as IncidenceGraph
from .graph import incidence_graph as incidence_graph
from .mass_matrix import compress_mass_matrix as compress_mass_matrix
from .pantelides import reduce_index as reduce_index
from .structural_analysis import check_structure as check_structure
