"""The band of a chain of components' Jacobian, read off its right-hand sides."""

import jax
import jax.numpy as jnp
import numpy as np

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
