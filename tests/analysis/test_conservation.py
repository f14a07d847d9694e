"""Conservation laws of reaction networks and linear invariants of plain equations
(analysis/conservation.py)."""

from __future__ import annotations

import sympy as sp

import symflow
from models import model_text
from symflow.analysis import conservation_laws, linear_invariants


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


# ------------------------------------------------ linear invariants of plain equations


def _invariants(text: str) -> dict[str, dict[str, sp.Rational]]:
    return {law.pivot: dict(law.coefficients)
            for law in linear_invariants(symflow.loads(text).built)}


def test_robertsons_equations_conserve_the_sum_of_the_three():
    assert _invariants(model_text("robertson")) == {"y1": {"y1": 1, "y2": 1, "y3": 1}}
    # the pivot is the first state declared: robertson_long declares y3 first
    assert _invariants(model_text("robertson_long")) == {"y3": {"y3": 1, "y1": 1, "y2": 1}}


DIMER_EQUATIONS = """
model Dimer
  parameters
    k = 2.0
    u = 0.5
  variables
    a = 1.0
    d = 0.0
    x = 1.0
  equations
    der(a) = -2*k*a^2 + 2*u*d
    der(d) = k*a^2 - u*d
    der(x) = -x
end
"""


def test_coefficients_other_than_one_and_unrelated_states():
    # a + 2 d is conserved; x decays on its own and is in no law
    assert _invariants(DIMER_EQUATIONS) == {"a": {"a": 1, "d": 2}}


def test_equations_with_no_cancellation_conserve_nothing():
    assert _invariants(model_text("lv")) == {}
    assert _invariants(model_text("decay")) == {}
