"""Reaction networks built into reaction-rate equations (symbolic/builder/reactions.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

import symflow
from models import model_text
from symflow.errors import SymflowError


@pytest.mark.slow
def test_michaelis_menten_matches_scipy_and_the_quasi_steady_state_limit():
    """Elementary mass action against the same ODEs solved by scipy, and the product
    curve against the Michaelis–Menten (quasi-steady-state) law when E0 << S0."""
    m = symflow.loads(model_text("enzyme"))
    ts = np.linspace(0, 50, 11)
    sol = m.simulate(saveat=ts)
    kf, kr, kcat = 10.0, 1.0, 0.5

    def rhs(t, y):
        s, e, c, p = y
        bind = kf * s * e - kr * c
        return [-bind, -bind + kcat * c, bind - kcat * c, kcat * c]

    ref = solve_ivp(rhs, (0, 50), [10.0, 0.1, 0.0, 0.0], t_eval=ts, rtol=1e-11, atol=1e-12,
                    method="LSODA")
    for i, name in enumerate("SECP"):
        np.testing.assert_allclose(np.asarray(sol[name]), ref.y[i], rtol=1e-6, atol=1e-9)
    # QSSA: dP/dt = Vmax*S/(Km + S) with S + P ≈ S0 (the complex is at most E0 = 0.1)
    km, vmax = (kr + kcat) / kf, kcat * 0.1
    qssa = solve_ivp(lambda t, p: [vmax * (10 - p[0]) / (km + 10 - p[0])], (0, 50), [0.0],
                     t_eval=ts, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(sol["P"]), qssa.y[0], atol=0.05)
    # the enzyme is conserved
    np.testing.assert_allclose(np.asarray(sol["E"]) + np.asarray(sol["C"]), 0.1, rtol=1e-8)


def test_brusselator_written_as_reactions_equals_its_rate_equations():
    reactions = symflow.loads(model_text("brusselator_reactions"))
    rates = symflow.loads(model_text("brusselator_rates"))
    a, b = reactions.simulate(saveat=21), rates.simulate(saveat=21)
    for name in ("X", "Y"):
        np.testing.assert_allclose(np.asarray(a[name]), np.asarray(b[name]), rtol=1e-7,
                                   atol=1e-9)
    # the limit cycle is reached (b > 1 + a^2): X oscillates, it does not settle
    assert float(np.ptp(np.asarray(a["X"])[10:])) > 1.0


def test_dimerization_follows_the_combinatoric_mass_action_law():
    m = symflow.loads(model_text("dimerization"))
    ts = np.linspace(0, 4, 5)
    sol = m.simulate(saveat=ts)
    np.testing.assert_allclose(np.asarray(sol["A"]), 5.0 / (1 + 0.3 * 5.0 * ts), rtol=1e-8)
    # each dimer takes two monomers
    np.testing.assert_allclose(np.asarray(sol["D"]), (5.0 - np.asarray(sol["A"])) / 2,
                               rtol=1e-8, atol=1e-12)


def test_a_growing_compartment_dilutes_its_species():
    """Amounts follow A -> B; concentrations are the amounts over V(t) = V0*exp(g*t)."""
    m = symflow.loads(model_text("growing_cell"))
    ts = np.linspace(0, 4, 5)
    sol = m.simulate(saveat=ts)
    volume = 1.5 * np.exp(0.1 * ts)
    amount_a = 2.0 * 1.5 * np.exp(-0.5 * ts)
    np.testing.assert_allclose(np.asarray(sol["cell"]), volume, rtol=1e-8)
    np.testing.assert_allclose(np.asarray(sol["A"]), amount_a / volume, rtol=1e-8)
    np.testing.assert_allclose(np.asarray(sol["B"]), (3.0 - amount_a) / volume, rtol=1e-8)


def test_the_network_is_kept_with_each_direction_on_its_own():
    m = symflow.loads(model_text("enzyme"))
    network = m.built.reactions
    assert [r.name for r in network.reactions] == ["binding", "binding_reverse", "catalysis"]
    stoichiometry = network.stoichiometry()
    assert stoichiometry == sp.Matrix([[-1, 1, 0], [-1, 1, 1], [1, -1, -1], [0, 0, 1]])


def test_reactions_across_compartments_take_the_volume_they_are_written_per():
    """Transport A(outside) -> A(inside) at rate k*A_out per volume of `outside`: the
    amount moved per time is V_out*k*A_out, so the inside concentration rises by
    V_out/V_in times that."""
    m = symflow.loads("""
model Transport
  parameters
    k = 0.2
  compartments
    outside = 4.0
    inside = 1.0
  species
    A_out = 1.0 in outside
    A_in = 0.0 in inside
  reactions
    A_out => A_in, k*A_out in outside
  simulate
    tspan = [0, 3]
    rtol = 1e-10
    atol = 1e-12
end
""")
    ts = np.linspace(0, 3, 4)
    sol = m.simulate(saveat=ts)
    out = np.exp(-0.2 * ts)
    np.testing.assert_allclose(np.asarray(sol["A_out"]), out, rtol=1e-8)
    np.testing.assert_allclose(np.asarray(sol["A_in"]), 4.0 * (1 - out), rtol=1e-8)


_BASE = """
model M
  parameters
    k = 1.0
  compartments
    c1 = 1.0
    c2 = 2.0
  species
    A = 1.0 in c1
    B = 0.0 in c2
{extra}
  reactions
    {reaction}
{equations}
end
"""


@pytest.mark.parametrize(("reaction", "extra", "equations", "message"), [
    ("A -> Q, k", "", "", "'Q' is not a species"),
    ("A <-> B, k in c1", "", "", "needs two rates"),
    ("A -> B, k, k in c1", "", "", "is not reversible but has two rates"),
    ("A + B -> 0, k", "", "", "different compartments"),
    ("A -> B, k in c3", "", "", "unknown compartment 'c3'"),
    ("A -> B, k in c1", "", "  equations\n    der(B) = 1", "changed by reaction"),
    ("A -> B, k in c1", "    C = 1, sticky", "", "unknown species option 'sticky'"),
    ("r: A -> B, k in c1\n    r: B -> A, k in c1", "", "", "two reactions are named 'r'"),
    ("A -> B, [k, k] in c1", "", "", "must be a scalar"),
])
def test_misused_reactions_are_clear_errors(reaction, extra, equations, message):
    text = _BASE.format(reaction=reaction, extra=extra, equations=equations)
    with pytest.raises(SymflowError, match=message) as info:
        symflow.loads(text, file="bad.sf")
    assert "bad.sf:" in str(info.value)  # file, line and column are named


@pytest.mark.parametrize(("line", "message"), [
    ("A - B -> C, k", "joined by '+'"),
    ("2 -> A, k", "cannot be the number 2"),
    ("A + 0 -> B, k", "cannot be added"),
    ("A -> B", "unexpected end of line"),
])
def test_malformed_reaction_lines_are_syntax_errors(line, message):
    text = f"model M\n  species\n    A = 1\n  reactions\n    {line}\nend\n"
    with pytest.raises(SymflowError, match=re.escape(message)) as info:
        symflow.loads(text, file="bad.sf")
    assert "bad.sf:5:" in str(info.value)


def test_a_species_its_own_equation_defines_is_not_held_by_the_network():
    m = symflow.loads("""
model M
  compartments
    c = 1
  species
    S = 0 in c
  equations
    der(S) = 7
end
""")
    np.testing.assert_allclose(np.asarray(m.simulate(saveat=2)["S"]), [0.0, 7.0])


def test_a_boundary_species_in_a_growing_compartment_keeps_its_amount():
    """SBML's semantics: nothing changes its amount, so growth dilutes it: 2/(1 + t)."""
    m = symflow.loads("""
model M
  compartments
    V = 1
  species
    B = 2 in V, boundary
  equations
    der(V) = 1
  simulate
    tspan = [0, 2]
end
""")
    sol = m.simulate(saveat=3)
    np.testing.assert_allclose(np.asarray(sol["B"]), 2 / (1 + np.asarray(sol.t)), rtol=1e-6)
