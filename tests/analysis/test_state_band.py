"""The band of a chain of components' Jacobian, read off its right-hand sides."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.analysis import state_band
from symflow.codegen import emit, load_source
from symflow.lang import parse
from symflow.passes import simplify
from symflow.symbolic import build


def _system(name: str):
    return simplify(build(parse(model_text(name))))


def test_band_of_ladder_and_chain_bounds_the_jacobian():
    for name, width in (("rc_ladder_8", 1), ("mass_spring_chain_8", 3)):
        system = _system(name)
        band = state_band(system, min_states=4)
        assert band is not None and (band.bound, band.fields, band.periodic) == (width, 1, False)
        # the Jacobian (by autodiff of the generated rhs) is zero outside the band
        generated = load_source(emit(system))
        y = jnp.asarray(np.random.default_rng(0).normal(size=generated.n_states))
        jac = np.asarray(jax.jacfwd(lambda z: generated.rhs(0.0, z, generated.parameter_defaults(
            {})))(y))
        rows, cols = np.nonzero(jac)
        assert np.max(np.abs(rows - cols)) == width


def test_small_or_wide_systems_have_no_band():
    assert state_band(_system("rc_ladder_8")) is None  # too few states for a banded solve
    assert state_band(_system("lv"), min_states=1) is None  # two coupled states: not narrow


def test_a_field_major_chain_keeps_its_band_in_the_interleaved_order():
    # 40 masses: codegen lays out positions then velocities (FIELDS = 2); the band of
    # the Jacobian is read in the model's interleaved order, where it is 3 wide
    m = symflow.loads(model_text("mass_spring_chain_array"))
    assert m.generated.fields == 2
    band = state_band(m.system, fields=2)
    assert band is not None and (band.bound, band.fields, band.points) == (3, 2, 40)
    strategy = m.runner.linear_strategy("kvaerno5", m.params, 0.0)
    assert (type(strategy).__name__, strategy.fields) == ("Interleaved", 2)


@pytest.mark.slow
def test_a_banded_implicit_solve_of_the_chain_equals_an_explicit_one():
    m = symflow.loads(model_text("mass_spring_chain_array"))
    implicit = m.simulate(solver="kvaerno5", rtol=1e-10, atol=1e-12, saveat=5)
    explicit = m.simulate(solver="tsit5", rtol=1e-10, atol=1e-12, saveat=5)
    for name in ("m[39].s", "m[0].v", "m[20].s"):
        np.testing.assert_allclose(implicit[name], explicit[name], atol=1e-8)
