"""A network's right side generated as stoichiometry times rates (codegen/_emit_reactions.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import symflow
from models import model_text


def _expanded_rhs(m: symflow.Model, t: float, y: np.ndarray, params: dict) -> np.ndarray:
    """The final system's equations, each written out, evaluated by SymPy."""
    system = m.system
    values = {p.symbol: float(params[p.name]) for p in system.free_parameters}
    values[system.time] = t
    values.update({v.symbol: y[k] for k, v in enumerate(system.states)})
    return np.array([float(system.equation_for(v.name).rhs.xreplace(values))
                     for v in system.states])


@pytest.mark.parametrize("name", ["enzyme", "dimerization", "growing_cell",
                                  "brusselator_reactions"])
def test_the_network_form_equals_the_equations_written_out(name):
    m = symflow.loads(model_text(name))
    assert "def reaction_rates(" in m.source  # the network form was taken
    rng = np.random.default_rng(0)
    y = rng.uniform(0.1, 2.0, len(m.system.states))
    params = {k: float(v) * rng.uniform(0.5, 1.5) for k, v in m.params.items()}
    got = np.asarray(m.rhs(0.3, jnp.asarray(y), params))
    np.testing.assert_allclose(got, _expanded_rhs(m, 0.3, y, params), rtol=1e-12)


def test_its_jacobian_is_the_jacobian_of_the_equations():
    m = symflow.loads(model_text("enzyme"))
    y = jnp.asarray([3.0, 0.05, 0.02, 1.0])
    jac = np.asarray(jax.jacfwd(lambda x: m.rhs(0.0, x, m.params))(y))
    system = m.system
    states = [v.symbol for v in system.states]
    f = sp.Matrix([system.equation_for(v.name).rhs for v in system.states])
    values = {p.symbol: float(m.params[p.name]) for p in system.free_parameters}
    values.update(dict(zip(states, [3.0, 0.05, 0.02, 1.0])))
    exact = np.array(f.jacobian(states).xreplace(values), dtype=float)
    np.testing.assert_allclose(jac, exact, rtol=1e-12, atol=1e-15)


def test_a_species_an_equation_defines_stays_out_of_the_network_form():
    m = symflow.loads("""
model Fed
  parameters
    k = 0.4
  species
    A = 1.0, boundary
    B = 0.0
  reactions
    A -> B, k
  equations
    der(A) = -0.5*A
end
""")
    y = np.array([0.7, 0.2])
    names = [v.name for v in m.system.states]
    got = dict(zip(names, np.asarray(m.rhs(0.0, jnp.asarray(y), m.params))))
    a = y[names.index("A")]
    assert got["A"] == pytest.approx(-0.5 * a)
    assert got["B"] == pytest.approx(0.4 * a)


def test_rates_that_name_what_the_program_does_not_know_are_written_out():
    """With an algebraic rule (the DAE path), the network's rates still name `k2`, which
    the passes solved away: the equations are generated as written instead."""
    m = symflow.loads("""
model M
  parameters
    k1 = 10
    k3 = 0.7
  species
    S1 = 0.2
    S2 = 0.2
    S3 = 0
    S4 = 0
  variables
    k2
  reactions
    S1 + S2 => S3, k1*S1*S2
    S3 => S1 + S2, k2*S3
    S3 => S1 + S4, k3*S3
  equations
    0 = k2 - 0.9
end
""")
    assert "def reaction_rates(" not in m.source
    y = np.array([0.2, 0.1, 0.05, 0.0])
    names = [v.name for v in m.system.states]
    got = dict(zip(names, np.asarray(m.rhs(0.0, jnp.asarray(y[[["S1", "S2", "S3", "S4"].index(n)
                                                                for n in names]]), m.params))))
    assert got["S4"] == pytest.approx(0.7 * 0.05)
    assert got["S3"] == pytest.approx(10 * 0.2 * 0.1 - 0.9 * 0.05 - 0.7 * 0.05)
