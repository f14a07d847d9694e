"""Boundary values that vary along a face (`u = g(y, t) at x = 0`): a 2-D heat
equation with an exact separable solution, every side of a different kind
(Dirichlet, Neumann, Robin, Dirichlet), observed orders of accuracy over three grids
for order 2 and order 4."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symflow

X, Y, T = sp.symbols("x y t", real=True)
A, P, B, Q = 2.0, 0.5, 1.5, 0.2       # u = exp(-(A²+B²)t) cos(A x + P) cos(B y + Q)
T1 = 0.1


def model(n: int, order: int) -> str:
    decay = "exp(-rate*t)"
    return f"""model HeatFaces
  parameters
    rate = {A**2 + B**2}
  domain
    x in [0, 1], points = {n}
    y in [0, 1], points = {n}
  variables
    u(x, y) = cos({A}*x + {P})*cos({B}*y + {Q})
  equations
    der(u) = laplacian(u)
  boundary
    u = {decay}*cos({P})*cos({B}*y + {Q}) at x = 0
    diff(u, x) = -{A}*{decay}*sin({A} + {P})*cos({B}*y + {Q}) at x = 1
    diff(u, y) + u = {decay}*cos({A}*x + {P})*({B}*sin({-Q}) + cos({Q})) at y = 0
    u = {decay}*cos({A}*x + {P})*cos({B} + {Q}) at y = 1
  simulate
    tspan = [0, {T1}]
    order = {order}
end
"""


def exact(x, y, t):
    return np.exp(-(A**2 + B**2) * t) * np.cos(A * x + P) * np.cos(B * y + Q)


def errors(order: int, sizes=(11, 21, 41)) -> np.ndarray:
    out = []
    for n in sizes:
        m = symflow.loads(model(n, order))
        sol = m.simulate(rtol=1e-12, atol=1e-13, saveat=2, solver="tsit5")
        x, y = (d.grid() for d in m.system.domain)
        xx, yy = np.meshgrid(x, y, indexing="ij")
        value = np.asarray(sol["u"][-1]).reshape(n, n)
        out.append(float(np.max(np.abs(value - exact(xx, yy, T1)))))
    return np.array(out)


# order 2 (~8 s quiet) runs with -m slow: the order-4 faces exercise the same path
@pytest.mark.parametrize("order", [pytest.param(2, marks=pytest.mark.slow), 4])
def test_face_values_keep_the_observed_order(order):
    e = errors(order)
    orders = np.log2(e[:-1] / e[1:])
    print("order", order, "errors", e, "observed", orders)
    assert np.all(np.abs(orders - order) < 0.3), (e, orders)


def test_face_values_lie_on_the_dirichlet_faces_and_corners():
    n = 11
    m = symflow.loads(model(n, 2))
    sol = m.simulate(rtol=1e-8, atol=1e-10, saveat=3, solver="tsit5")
    x, y = (d.grid() for d in m.system.domain)
    for t, u in zip(sol.t, np.asarray(sol["u"]).reshape(-1, n, n)):
        g = np.exp(-(A**2 + B**2) * t)
        np.testing.assert_allclose(u[0, :], g * np.cos(P) * np.cos(B * y + Q), atol=1e-12)
        # the corner (x, y) = (0, 1) belongs to the x face (first dimension)
        np.testing.assert_allclose(u[1:, -1], g * np.cos(A * x[1:] + P) * np.cos(B + Q),
                                   atol=1e-12)
