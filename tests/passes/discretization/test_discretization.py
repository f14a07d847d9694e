"""The discretization pass: stencil weights, and the observed order of accuracy of
the heat equation against its exact Fourier solutions, for every kind of
boundary condition, over three grids.

Each grid compiles once (about 2 s): the default run covers order 2 with
Dirichlet ends and order 4 with a Robin end (which also exercises the Neumann
closure); the full matrix (every boundary type at both orders) is marked slow.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import sympy as sp

import symflow
from models import model_text
from symflow.passes import difference_weights
from symflow.symbolic import Diff

HEAT = model_text("heat_1d_template")

KAPPA, T1 = 0.5, 0.1
# The first eigenvalue of u'' on [0, 1] with u(0) = 0 and u'(1) + 2 u(1) = 0:
# u = sin(l x) with l cos(l) + 2 sin(l) = 0.
ROBIN_L = scipy.optimize.brentq(lambda ell: ell * math.cos(ell) + 2 * math.sin(ell), 1.6, 3.1)

CASES = {
    "dirichlet": ("sin(pi*x)", "    u = 0 at x = 0\n    u = 0 at x = 1", "",
                  lambda x: np.exp(-KAPPA * np.pi**2 * T1) * np.sin(np.pi * x)),
    "neumann": ("cos(pi*x)", "    diff(u, x) = 0 at x = 0\n    diff(u, x) = 0 at x = 1", "",
                lambda x: np.exp(-KAPPA * np.pi**2 * T1) * np.cos(np.pi * x)),
    "robin": (f"sin({ROBIN_L!r}*x)",
              "    u = 0 at x = 0\n    diff(u, x) + 2*u = 0 at x = 1", "",
              lambda x: np.exp(-KAPPA * ROBIN_L**2 * T1) * np.sin(ROBIN_L * x)),
    "periodic": ("sin(2*pi*x)", "", ", periodic",
                 lambda x: np.exp(-KAPPA * 4 * np.pi**2 * T1) * np.sin(2 * np.pi * x)),
}
GRIDS = {2: (21, 41, 81), 4: (21, 41, 81)}


def observed_order(case: str, order: int) -> tuple[np.ndarray, list[float]]:
    u0, bcs, periodic, exact = CASES[case]
    errors = []
    for n in GRIDS[order]:
        n = n - 1 if periodic else n  # the same spacing: 1/20, 1/40, 1/80
        m = symflow.loads(HEAT.format(n=n, periodic=periodic, u0=u0, bcs=bcs, order=order))
        sol = m.simulate(rtol=1e-12, atol=1e-14, saveat=2, solver="tsit5")
        x = m.system.domain[0].grid()
        errors.append(float(np.max(np.abs(np.asarray(sol["u"][-1]) - exact(x)))))
    errors_ = np.array(errors)
    return np.log2(errors_[:-1] / errors_[1:]), errors


FAST = [("dirichlet", 2), ("robin", 4)]
SLOW = [("dirichlet", 4), ("neumann", 2), ("neumann", 4), ("robin", 2), ("periodic", 2),
        ("periodic", 4)]


@pytest.mark.parametrize("case, order", FAST + [pytest.param(*c, marks=pytest.mark.slow)
                                                for c in SLOW])
def test_observed_order_of_accuracy(case, order):
    rates, errors = observed_order(case, order)
    assert errors[-1] < 1e-3
    # the finest pair is in the asymptotic range
    assert abs(rates[-1] - order) < 0.25, (rates, errors)
    assert rates[0] > order - 0.5, (rates, errors)


def test_weights_central_and_one_sided():
    w, _ = difference_weights((-1, 0, 1), 2)
    assert w == (1, -2, 1)
    w, _ = difference_weights((-2, -1, 0, 1, 2), 1)
    assert w == (sp.Rational(1, 12), sp.Rational(-2, 3), 0, sp.Rational(2, 3),
                 sp.Rational(-1, 12))
    # the classical fourth-order second derivative next to a boundary
    w, _ = difference_weights((-1, 0, 1, 2, 3, 4), 2)
    assert w == tuple(sp.Rational(c, 12) for c in (10, -15, -4, 14, -6, 1))
    # with the slope known at the end: u''(0) from u(0), u(1), u(2) and u'(0)
    w, s = difference_weights((0, 1, 2), 2, 0)
    f = lambda z: z**3 - 2 * z**2 + z  # noqa: E731 - exact on cubics
    assert sum(wi * f(m) for wi, m in zip(w, (0, 1, 2))) + s * 1 == -4


MANUFACTURED = model_text("ramp")


@pytest.fixture(scope="module")
def ramp():
    return symflow.loads(MANUFACTURED)


def test_boundary_values_follow_time_and_parameters(ramp):
    # u = a (x^2 + 2 t) solves u_t = u_xx with these conditions, and central
    # differences are exact on quadratics: only the time integration errs.
    x = ramp.system.domain[0].grid()
    for a in (1.5, -0.7):
        sol = ramp.simulate(params={"a": a}, saveat=3)
        t = np.asarray(sol.t)[:, None]
        np.testing.assert_allclose(sol["u"], a * (x**2 + 2 * t), atol=1e-8)
        np.testing.assert_allclose(sol["slope"], 2 * a * np.broadcast_to(x, sol["slope"].shape),
                                   atol=1e-7)


def test_no_derivative_is_left_and_code_is_grid_independent(ramp):
    assert not any(e.rhs.has(Diff) for e in ramp.system.equations)
    small = symflow.loads(MANUFACTURED)
    big = symflow.loads(MANUFACTURED.replace("points = 9", "points = 100001"))
    # the same code, with other numbers in it
    assert small.source.count("\n") == big.source.count("\n")
    assert len(big.source) < 1.25 * len(small.source)


def test_npz_holds_the_grid_and_plot_draws_a_heat_map(ramp, tmp_path):
    sol = ramp.simulate(saveat=3)  # the configuration compiled above: no recompile
    sol.save(tmp_path / "out.npz")
    data = np.load(tmp_path / "out.npz")
    assert set(data) == {"t", "u", "slope", "grid.x"}
    np.testing.assert_allclose(data["grid.x"], np.linspace(0, 1, 9))
    assert data["u"].shape == (3, 9)
    ax = sol.plot(tmp_path / "u.png")
    assert (tmp_path / "u.png").stat().st_size > 0
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "t"


ADVECTION = model_text("advection_1d_template")
# u = sin(2 pi (x - t)): inflow value at x = 0, its slope at the outflow end
INFLOW = ("boundary\n    u = sin(-2*pi*t) at x = 0\n"
          "    diff(u, x) = 2*pi*cos(2*pi*(1 - t)) at x = 1")


@pytest.mark.parametrize("order, periodic", [
    (2, True), pytest.param(1, True, marks=pytest.mark.slow),
    pytest.param(2, False, marks=pytest.mark.slow)])
def test_upwind_observed_order(order, periodic):
    errors = []
    for n in (40, 80, 160):
        text = ADVECTION.format(n=n if periodic else n + 1,
                                periodic=", periodic" if periodic else "",
                                boundary="" if periodic else INFLOW, order=order)
        m = symflow.loads(text)
        sol = m.simulate(solver="tsit5")
        x = m.system.domain[0].grid()
        errors.append(float(np.max(np.abs(np.asarray(sol["u"][-1])
                                          - np.sin(2 * np.pi * (x - 0.5))))))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert abs(rates[-1] - order) < 0.1, (rates, errors)


def test_upwind_needs_order_1_or_2():
    text = ADVECTION.format(n=40, periodic=", periodic", boundary="", order=4)
    with pytest.raises(symflow.SymflowError, match="scheme upwind has no differences of "
                                                   "order 4"):
        symflow.loads(text)
