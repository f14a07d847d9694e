"""The incidence structure of an implicit system, computed once and handed on.

Every DAE pass asks the same questions of the implicit equations: which
variables and derivatives appear in which equation, which variables are
differentiated, what the highest derivative of each is. `IncidenceGraph` holds
the answers as one immutable value (as ModelingToolkit's `TearingState` holds
the equation-variable graph and the derivative map for its structural passes):

- `equations`: the implicit equations, in the system's order;
- `variables`: the symbols of the system's variables, in order;
- `incidence`: for each equation, the variables and derivatives of variables
  that appear in it (parameters and time left out);
- `derivative`: `s -> der(s)` for every `der(s)` that appears (the derivative
  map; follow it to the highest derivative).

`incidence_graph(system)` builds it; a pass that leaves the system as it is,
or that already knows the graph of the system it returns (Pantelides grows the
graph as it differentiates), hands it on with `hand_on`, so that the next pass
finds it instead of reading every equation again.

Derivatives are symbols named `der(x)` (built by `symbolic`); the helpers
here (`der_symbol`, `base_variable`, `derivative_order`, `state_name`) are the
one place the DAE passes read that naming.
"""

from __future__ import annotations

import dataclasses
import functools
import weakref
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import sympy as sp

from ...symbolic import Equation, System, der_symbol, integral_of, is_der

__all__ = ["IncidenceGraph", "incidence_graph", "hand_on", "base_variable",
           "derivative_order", "state_name", "der_symbol", "integral_of", "is_der"]


@functools.lru_cache(maxsize=None)
def base_variable(symbol: sp.Symbol) -> sp.Symbol:
    """`x` for `x`, `der(x)`, `der(der(x))`."""
    while is_der(symbol):
        symbol = integral_of(symbol)
    return symbol


def derivative_order(symbol: sp.Symbol) -> int:
    """0 for `x`, 1 for `der(x)`, 2 for `der(der(x))`."""
    n = 0
    while is_der(symbol):
        symbol, n = integral_of(symbol), n + 1
    return n


def state_name(symbol: sp.Symbol) -> str:
    """The name a derivative gets as a variable: `der(x)` -> `der_x`, `der(der(x))`
    -> `der2_x` (dots kept: codegen mangles them)."""
    n, s = 0, symbol
    while is_der(s):
        s, n = integral_of(s), n + 1
    if n == 0:
        return s.name
    return ("der_" if n == 1 else f"der{n}_") + s.name


@dataclasses.dataclass(frozen=True)
class IncidenceGraph:
    """The bipartite graph of implicit equations and variables (with their
    derivatives), and the derivative map (module docstring)."""

    equations: tuple[Equation, ...]
    variables: tuple[sp.Symbol, ...]
    incidence: tuple[frozenset[sp.Symbol], ...]
    derivative: Mapping[sp.Symbol, sp.Symbol]

    @classmethod
    def of(cls, equations: Sequence[Equation], variables: Sequence[sp.Symbol],
           incidence: Sequence[frozenset[sp.Symbol]]) -> IncidenceGraph:
        """The graph of these equations and their incidence; the derivative map is
        read from the incidence."""
        present = frozenset().union(*incidence)
        derivative = {integral_of(s): s for s in present if is_der(s)}
        return cls(tuple(equations), tuple(variables), tuple(incidence),
                   MappingProxyType(derivative))

    @functools.cached_property
    def present(self) -> frozenset[sp.Symbol]:
        """Every variable and derivative that appears in some equation."""
        return frozenset().union(*self.incidence)

    def highest(self, symbol: sp.Symbol) -> sp.Symbol:
        """The highest derivative of `symbol` that appears (`symbol` itself if none)."""
        while symbol in self.derivative:
            symbol = self.derivative[symbol]
        return symbol

    @functools.cached_property
    def highest_derivatives(self) -> tuple[sp.Symbol, ...]:
        """The highest derivative of each variable, in the variables' order."""
        return tuple(self.highest(s) for s in self.variables)

    @functools.cached_property
    def differentiated(self) -> frozenset[sp.Symbol]:
        """The variables whose derivative appears."""
        return frozenset(s for s in self.variables if s in self.derivative)

    def rows(self, columns: Sequence[sp.Symbol], *, equations: Sequence[int] | None = None,
             through_base: bool = False) -> list[list[int]]:
        """The incidence projected onto `columns`: for each equation (all, or the
        indices `equations`), the sorted positions in `columns` of the symbols it
        holds. With `through_base`, a derivative counts as its base variable."""
        position = {s: j for j, s in enumerate(columns)}
        chosen = range(len(self.equations)) if equations is None else equations
        if through_base:
            return [sorted({position[base_variable(s)] for s in self.incidence[i]
                            if base_variable(s) in position}) for i in chosen]
        return [sorted(position[s] for s in self.incidence[i] if s in position)
                for i in chosen]


# The graphs handed on, by the identity of their system. The system is held
# weakly: its entry goes when it does (before its id can be reused), so a graph
# never outlives its system and a pipeline run keeps nothing alive.
_HANDED_ON: dict[int, tuple[weakref.ref[System], IncidenceGraph]] = {}


def hand_on(system: System, graph: IncidenceGraph) -> System:
    """Record `graph` as the incidence graph of `system` (which must be exact:
    what `incidence_graph` would compute) for the next pass; return `system`."""
    key = id(system)
    _HANDED_ON[key] = (weakref.ref(system, lambda _: _HANDED_ON.pop(key, None)), graph)
    return system


def incidence_graph(system: System) -> IncidenceGraph:
    """The incidence graph of the implicit equations of `system`: the one handed
    on with it, else built (once) from its equations and handed on."""
    kept = _HANDED_ON.get(id(system))
    if kept is not None and kept[0]() is system:
        return kept[1]
    graph = _build(system)
    hand_on(system, graph)
    return graph


def _build(system: System) -> IncidenceGraph:
    variables = tuple(v.symbol for v in system.variables)
    bases = set(variables)
    equations = tuple(e for e in system.equations if e.kind == "implicit")
    incidence = tuple(frozenset(s for s in e.rhs.free_symbols if base_variable(s) in bases)
                      for e in equations)
    return IncidenceGraph.of(equations, variables, incidence)
