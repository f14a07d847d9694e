"""Conservation laws of reaction networks (analysis/conservation.py)."""

from __future__ import annotations

import sympy as sp

import symflow
from models import model_text
from symflow.analysis import conservation_laws


def _laws(name: str) -> dict[str, dict[str, sp.Rational]]:
    network = symflow.loads(model_text(name)).built.reactions
    return {law.pivot: dict(law.coefficients) for law in conservation_laws(network)}


def test_the_enzyme_conserves_its_enzyme_and_its_substrate():
    laws = _laws("enzyme")
    # E + C and S + C + P, in reduced row-echelon form over (S, E, C, P)
    assert laws == {"S": {"S": 1, "C": 1, "P": 1}, "E": {"E": 1, "C": 1}}


def test_a_dimer_conserves_twice_its_count_plus_the_monomers():
    assert _laws("dimerization") == {"A": {"A": 1, "D": 2}}


def test_an_open_network_conserves_nothing():
    assert _laws("birth_death") == {}
    assert _laws("brusselator_reactions") == {}


def test_every_law_is_in_the_left_null_space():
    network = symflow.loads(model_text("enzyme")).built.reactions
    names = [s.name for s in network.species]
    for law in conservation_laws(network):
        row = sp.Matrix([[dict(law.coefficients).get(n, 0) for n in names]])
        assert row * network.stoichiometry() == sp.zeros(1, len(network.reactions))
