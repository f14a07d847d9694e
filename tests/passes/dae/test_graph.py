"""The incidence graph of the DAE passes (`passes/dae/graph.py`): correct on the
pendulum of examples/, immutable, and built once per system."""

import dataclasses
import pathlib

import pytest
import sympy as sp

from symflow.lang import parse
from symflow.passes import fold_constants
from symflow.passes.dae import (
    IncidenceGraph,
    check_structure,
    dae_to_ode,
    eliminate_aliases,
    incidence_graph,
    reduce_index,
    select_dummy_derivatives,
)
from symflow.passes.dae import graph as graph_module
from symflow.symbolic import build

EXAMPLES = pathlib.Path(__file__).parents[3] / "examples"


def der(s: sp.Symbol) -> sp.Symbol:
    return sp.Symbol(f"der({s.name})", real=True)


@pytest.fixture
def pendulum():
    text = (EXAMPLES / "pendulum.sf").read_text()
    return fold_constants(build(parse(text, "pendulum.sf")))


def test_incidence_of_the_pendulum(pendulum):
    x, y, vx, vy, lam = sp.symbols("x y vx vy lam", real=True)
    graph = incidence_graph(pendulum)
    assert graph.variables == (x, y, vx, vy, lam)
    assert len(graph.equations) == 5
    # der(x) = vx, der(y) = vy, der(vx) = -lam*x, der(vy) = -lam*y - g, 0 = x^2 + y^2 - L^2:
    # variables and their derivatives, parameters (g, L) and time left out.
    assert list(graph.incidence) == [
        {der(x), vx}, {der(y), vy}, {der(vx), lam, x}, {der(vy), lam, y}, {x, y}]
    assert dict(graph.derivative) == {x: der(x), y: der(y), vx: der(vx), vy: der(vy)}
    assert graph.differentiated == {x, y, vx, vy}
    assert graph.highest_derivatives == (der(x), der(y), der(vx), der(vy), lam)
    # Projected onto the variables, a derivative counting as its variable:
    assert graph.rows(graph.variables, through_base=True) == [
        [0, 2], [1, 3], [0, 2, 4], [1, 3, 4], [0, 1]]


def test_the_graph_is_an_immutable_value(pendulum):
    graph = incidence_graph(pendulum)
    with pytest.raises(dataclasses.FrozenInstanceError):
        graph.equations = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        graph.derivative[sp.Symbol("z")] = sp.Symbol("der(z)")  # type: ignore[index]
    assert isinstance(graph.incidence[0], frozenset)


def test_built_once_and_handed_on(pendulum, monkeypatch):
    built = []
    build_graph = graph_module._build

    def counting(system):
        built.append(system)
        return build_graph(system)

    monkeypatch.setattr(graph_module, "_build", counting)
    aliased = eliminate_aliases(pendulum)  # builds the graph; no alias: the system goes on
    assert aliased is pendulum and len(built) == 1
    checked = check_structure(aliased)  # reuses it
    assert checked is pendulum and len(built) == 1
    reduced = reduce_index(checked)  # reuses it, and hands on the graph it grew
    assert len(built) == 1
    grown = incidence_graph(reduced)
    assert len(built) == 1
    # What was handed on is exactly what reading the reduced system gives.
    fresh = build_graph(reduced)
    assert grown == fresh
    assert isinstance(grown, IncidenceGraph) and len(grown.equations) == 9
    # Dummy derivatives read it without rebuilding; the system they return (with
    # the dummies renamed) gets its graph once, in dae_to_ode.
    selected = select_dummy_derivatives(reduced)
    assert len(built) == 1
    final = dae_to_ode(selected)
    assert len(built) == 2 and built[-1] is selected
    assert [v.name for v in final.states] == ["x", "y", "vx", "vy"]
