"""The Fourier spectral scheme on 2-D and 3-D periodic grids: spectral accuracy of
the Laplacian, a mixed derivative, advection and a conservative flux against a
manufactured analytic solution over three grids; the 2/3 rule in 2-D."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import symflow
from models import model_text

X, Y, Z, T = sp.symbols("x y z t", real=True)
D, C, AX, AY = 0.3, 0.2, 0.7, -0.4
T1 = 0.5
# an analytic solution with every Fourier mode present: the error of a spectral
# scheme falls faster than any power of the spacing
U = sp.exp(sp.sin(X - AX * T) + sp.cos(Y - AY * T))
V = sp.exp(-T) * sp.exp(sp.cos(X + Y)) / 3
OPERATORS = {
    "u": ("D*laplacian(u) + C*diff(diff(u, x), y) - ax*diff(u, x) - ay*diff(u, y)",
          lambda e: D * (sp.diff(e, X, 2) + sp.diff(e, Y, 2)) + C * sp.diff(e, X, Y)
          - AX * sp.diff(e, X) - AY * sp.diff(e, Y), U),
    "v": ("diff((1 + v^2)*diff(v, x), x) + diff(diff(v, y), y)",
          lambda e: sp.diff((1 + e**2) * sp.diff(e, X), X) + sp.diff(e, Y, 2), V),
}


def model(n: int) -> str:
    lines = ["model Spectral2D", "  parameters", f"    D = {D}", f"    C = {C}",
             f"    ax = {AX}", f"    ay = {AY}", "  domain",
             f"    x in [0, 2*pi], points = {n}, periodic",
             f"    y in [0, 2*pi], points = {n}, periodic", "  variables"]
    lines += [f"    {k}(x, y) = {sp.sstr(e.subs(T, 0))}" for k, (_, _, e) in OPERATORS.items()]
    lines += ["  equations"]
    for k, (rhs, op, e) in OPERATORS.items():
        source = sp.diff(e, T) - op(e)
        lines.append(f"    der({k}) = {rhs} + {sp.sstr(source)}")
    lines += ["  simulate", f"    tspan = [0, {T1}]", "    scheme = spectral", "end", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def errors():
    out = {k: [] for k in OPERATORS}
    sizes = (12, 18, 24)
    for n in sizes:
        m = symflow.loads(model(n))
        sol = m.simulate(rtol=1e-13, atol=1e-13, saveat=2, solver="dopri8")
        x, y = (d.grid() for d in m.system.domain)
        xx, yy = np.meshgrid(x, y, indexing="ij")
        for k, (_, _, e) in OPERATORS.items():
            exact = sp.lambdify((X, Y), e.subs(T, T1))(xx, yy)
            value = np.asarray(sol[k][-1]).reshape(n, n)
            out[k].append(float(np.max(np.abs(value - exact))))
    return sizes, out


@pytest.mark.parametrize("field", list(OPERATORS))
def test_spectral_accuracy_2d(errors, field):
    sizes, out = errors
    e = np.array(out[field])
    # the observed algebraic order log(e1/e2)/log(n2/n1) grows with n (an
    # exponential fall), and is large already
    orders = np.log(e[:-1] / e[1:]) / np.log(np.array(sizes[1:]) / np.array(sizes[:-1]))
    print(field, "errors", e, "algebraic orders", orders)
    assert e[-1] < 1e-6, e
    assert orders[1] > orders[0] > 6, orders


def test_two_thirds_rule_in_2d():
    # u = cos(5x) cos(3y) on 16 x 16: u^2 holds cos(10x) (aliased onto mode 6 of
    # x) times 1/2 + cos(6y)/2. With dealias = 2/3 (modes up to 5 along each axis)
    # only (1/4)(1 + ...) without the x-mode 10 and y-mode 6 remains: 1/4.
    text = model_text("alias_2d")
    g = 2 * np.pi * np.arange(16) / 16
    xx, yy = np.meshgrid(g, g, indexing="ij")
    u = np.cos(5 * xx) * np.cos(3 * yy)
    for dealias, expected in (("1", u**2), ("2/3", 0.25 + 0 * xx)):
        m = symflow.loads(text.replace("DEALIAS", dealias))
        rhs = np.asarray(m.rhs(0.0, jnp.asarray(u.ravel()))).reshape(16, 16)
        np.testing.assert_allclose(rhs, expected, atol=1e-14)


def test_spectral_3d_heat_is_exact_on_a_trigonometric_solution():
    # sin(x) cos(2y) sin(3z) e^{-14 t}: the spectral Laplacian is exact on it
    text = model_text("heat_3d_spectral")
    m = symflow.loads(text)
    sol = m.simulate(rtol=1e-11, atol=1e-13, saveat=2, solver="tsit5")
    x, y, z = (d.grid() for d in m.system.domain)
    xx, yy, zz = np.meshgrid(x, y, z, indexing="ij")
    exact = np.sin(xx) * np.cos(2 * yy) * np.sin(3 * zz) * np.exp(-14 * 0.05)
    np.testing.assert_allclose(np.asarray(sol["u"][-1]).reshape(8, 10, 12), exact,
                               atol=1e-9)
