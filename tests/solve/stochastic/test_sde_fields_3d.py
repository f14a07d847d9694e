"""Multiplicative noise on a 3-D Brownian field `W(x, y, z)`, checked without solving.

`tests/solve/test_sde_fields_nd.py` checks 3-D additive noise statistically (under
`-m slow`); here the cheap part for a nonlinear coefficient: `sigma*u^2*dW` is
diagonal (each point's coefficient reads that point only, through the Dirichlet
`concat` of all six faces), and the generated Milstein term is
`1/2 g dg/du (dB^2 - h) = (sigma^2/V) u^3 (dB^2 - h)` inside, `g = sigma u^2/sqrt(V)`,
and 0 on every face; a coefficient that reads neighbours along `z` is general.
"""

import numpy as np

import symflow

POINTS = (5, 6, 5)


def model_text(noise):
    return f"""
model StochasticHeat3D
  parameters
    kappa = 1.0
    sigma = 0.5
  domain
    x in [0, 1], points = {POINTS[0]}
    y in [0, 1], points = {POINTS[1]}
    z in [0, 1], points = {POINTS[2]}
  variables
    u(x, y, z) = sin(pi*x)*sin(pi*y)*sin(pi*z)
  brownian
    W(x, y, z)
  equations
    d(u) = kappa*laplacian(u)*dt + {noise}*dW
  boundary
    u = 0 at x = 0
    u = 0 at x = 1
    u = 0 at y = 0
    u = 0 at y = 1
    u = 0 at z = 0
    u = 0 at z = 1
  simulate
    tspan = [0, 0.01]
    solver = auto
    dt = 0.001
end
"""


def test_nonlinear_3d_field_noise_is_diagonal_with_the_pointwise_milstein_term():
    m = symflow.loads(model_text("sigma*u^2"))
    assert m.runner.ensembles.noise_class == "diagonal"
    assert m.runner.ensembles.solver_for(None, "ito") == "milstein"
    n = int(np.prod(POINTS))
    assert m.generated.brownian_sizes == (n,)
    rng = np.random.default_rng(0)
    y, dw, h = rng.normal(size=n), rng.normal(size=n) * 0.03, 1e-3
    volume = np.prod([1 / (p - 1) for p in POINTS])
    faces = np.zeros(POINTS, dtype=bool)
    for axis in range(3):
        face = [slice(None)] * 3
        face[axis] = [0, -1]
        faces[tuple(face)] = True
    assert faces.sum() == n - 3 * 4 * 3  # 36 inner points
    want = (0.5**2 / volume * y**3 * (dw**2 - h)).reshape(POINTS)
    want[faces] = 0
    g = m.generated
    got = np.asarray(g.milstein(0.0, y, g.parameter_defaults({}), dw, h))
    np.testing.assert_allclose(got, want.ravel(), rtol=1e-12, atol=1e-15)
    # the diffusion column itself: sigma u^2 / sqrt(V) inside, 0 on the faces
    column = np.asarray(g.diffusion(0.0, y, g.parameter_defaults({}))[0])
    want_column = (0.5 * y**2 / np.sqrt(volume)).reshape(POINTS)
    want_column[faces] = 0
    np.testing.assert_allclose(column, want_column.ravel(), rtol=1e-12, atol=1e-15)


def test_3d_field_noise_reading_neighbours_is_general():
    m = symflow.loads(model_text("sigma*diff(u, z)"))
    assert m.runner.ensembles.noise_class == "general"
