"""The band bound of 1-D PDE Jacobians read from the stencils: which models get one,
and that it is a true bound (the dense Jacobian, interleaved, has nothing beyond it)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import symflow
from models import model_text
from symflow import analysis
from symflow.solve.linear import interleave

MODEL = model_text("two_fields_1d_template")
ENDS = """  boundary
    u = 1 at x = 0
    diff(u, x) + a*u = 0 at x = 1
    diff(v, x) = 0 at x = 0
    v = 2 at x = 1"""


def model(*, n=17, periodic=False, du="diff(u, x, 2) + u^2*v", dv="a*diff(v, x, 2) - u*v",
          order=2, extra_var="", extra_eq=""):
    return symflow.loads(MODEL.format(
        n=n, periodic=", periodic" if periodic else "", du=du, dv=dv, order=order,
        extra_var=extra_var, extra_eq=extra_eq, boundary="" if periodic else ENDS))


def test_several_fields_get_the_interleaved_bound():
    s = analysis.band_structure(model().built)
    # reach s = max(order, 2) + 1 = 3, two fields: m (s + 1) - 1 = 7
    assert (s.bound, s.fields, s.points, s.periodic) == (7, 2, 17, False)
    s = analysis.band_structure(model(periodic=True, order=4).built)
    assert (s.bound, s.fields, s.periodic) == (2 * 6 - 1, 2, True)
    flux = model(du="diff((1 + u^2)*diff(u, x), x) + v", order=2)
    assert analysis.band_structure(flux.built).bound == 2 * 5 - 1  # a flux reads one further


@pytest.mark.parametrize("change", [
    {"du": "diff(u, x, 2) + u[3]"},                               # indexing: reaches anywhere
    {"dv": "diff(v, x, 2) + sum(u)"},                              # a sum over the field
    {"extra_var": "    w = 0", "extra_eq": "    der(w) = -w"},     # a scalar state
])
def test_no_band_without_a_proof(change):
    assert analysis.band_structure(model(**change).built) is None


def test_spectral_and_two_dimensional_models_have_no_band():
    m = symflow.loads("""model S
  domain
    x in [0, 6.283185307179586], points = 16, periodic
  variables
    u(x) = sin(x)
  equations
    der(u) = diff(u, x, 2)
  simulate
    scheme = spectral
end
""")
    assert analysis.band_structure(m.built) is None
    m = symflow.loads("""model G
  domain
    x in [0, 1], points = 6, periodic
    y in [0, 1], points = 6, periodic
  variables
    u(x, y) = sin(2*pi*x)
  equations
    der(u) = laplacian(u)
end
""")
    assert analysis.band_structure(m.built) is None


@pytest.mark.parametrize("kwargs", [
    {},
    {"order": 4},
    {"periodic": True},
    {"periodic": True, "order": 4, "du": "diff((1 + u^2)*diff(u, x), x) + diff(v, x)"},
    {"du": "diff((1 + v^2)*diff(u, x), x)", "dv": "diff(u, x) - v*diff(v, x, 2)", "order": 4},
])
def test_the_bound_holds_on_the_dense_jacobian(kwargs):
    """Every nonzero of the Jacobian, in the interleaved order, lies within the bound
    (cyclically on a periodic grid): the proof, checked on the discretized program."""
    m = model(n=21, **kwargs)
    s = analysis.band_structure(m.built)
    n = m.generated.n_states
    y = jax.random.normal(jax.random.key(1), (n,)) * 0.1 + 1.0
    jac = jax.jacfwd(lambda z: m.generated.rhs(0.0, z, m.params))(y)
    order = np.asarray(interleave(np.arange(n), 2))  # field-major index at each place
    permuted = np.asarray(jac)[np.ix_(order, order)]
    i, j = np.nonzero(permuted)
    distance = np.abs(i - j)
    if s.periodic:
        distance = np.minimum(distance, n - distance)
    assert distance.max() <= s.bound
    assert distance.max() >= 2  # the test sees a coupling across points at all
