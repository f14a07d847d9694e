"""Order 4 for derivatives of expressions: the conservative form
`diff(D(u)*diff(u, x), x)` and the mixed derivative `diff(diff(u, x), y)`, with
Dirichlet, Neumann and Robin sides (values varying along the faces and in time)
and a periodic side; observed orders over three grids against manufactured
solutions (each field its own exact solution, its source term computed by SymPy).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symflow

X, Y, T = sp.symbols("x y t", real=True)
COORDS = {"x": X, "y": Y}


def conditions(name: str, exact: sp.Expr, sides) -> list[str]:
    """Boundary conditions satisfied by `exact`: `sides` lists (kind, coordinate, at)."""
    out = []
    for kind, c, at in sides:
        s = COORDS[c]
        slope = sp.diff(exact, s)
        if kind == "dirichlet":
            lhs, value = name, exact
        elif kind == "neumann":
            lhs, value = f"diff({name}, {c})", slope
        else:
            lhs, value = f"diff({name}, {c}) + 2*{name}", slope + 2 * exact
        out.append(f"{lhs} = {sp.sstr(value.subs(s, at))} at {c} = {at}")
    return out


def model(fields, domain: list[str], n: int, tend: float) -> str:
    lines = ["model Order4", "  domain"] + [f"    {d.format(n=n)}" for d in domain]
    lines += ["  variables"]
    lines += [f"    {k}({', '.join(c)}) = {sp.sstr(e.subs(T, 0))}"
              for k, (e, _, _, _, c) in fields.items()]
    lines += ["  equations"]
    for k, (e, rhs, op, _, _) in fields.items():
        lines.append(f"    der({k}) = {rhs} + {sp.sstr(sp.diff(e, T) - op(e))}")
    lines += ["  boundary"]
    for k, (e, _, _, sides, _) in fields.items():
        lines += [f"    {b}" for b in conditions(k, e, sides)]
    lines += ["  simulate", f"    tspan = [0, {tend}]", "    order = 4", "end", ""]
    return "\n".join(lines)


def observed_orders(fields, domain, sizes, tend, solver="tsit5"):
    errors = {k: [] for k in fields}
    for n in sizes:
        m = symflow.loads(model(fields, domain, n, tend))
        sol = m.simulate(rtol=1e-12, atol=1e-13, saveat=2, solver=solver)
        grids = np.meshgrid(*(d.grid() for d in m.system.domain), indexing="ij")
        for k, (e, *_, coords) in fields.items():
            exact = sp.lambdify([COORDS[c] for c in coords], e.subs(T, tend))(*grids)
            value = np.asarray(sol[k][-1]).reshape(grids[0].shape)
            errors[k].append(float(np.max(np.abs(value - exact))))
    h = 1 / (np.array(sizes) - 1)
    return {k: (np.array(e), np.log(np.array(e[:-1]) / np.array(e[1:])) / np.log(h[:-1] / h[1:]))
            for k, e in errors.items()}


def flux(e, s):
    return sp.diff((1 + e**2) * sp.diff(e, s), s)


FIELDS_1D = {
    # name: (exact, right side, its exact operator, sides, coordinates)
    "a": (sp.exp(-T) * sp.cos(2 * X + 0.3) + 0.5, "diff((1 + a^2)*diff(a, x), x)",
          lambda e: flux(e, X), [("neumann", "x", 0), ("robin", "x", 1)], ("x",)),
    "b": (sp.exp(-T / 2) * sp.sin(3 * X + 0.2) / 2, "diff((1 + x)*exp(b)*diff(b, x), x)",
          lambda e: sp.diff((1 + X) * sp.exp(e) * sp.diff(e, X), X),
          [("dirichlet", "x", 0), ("neumann", "x", 1)], ("x",)),
}


def test_conservative_form_order_4_in_1d():
    result = observed_orders(FIELDS_1D, ["x in [0, 1], points = {n}"], (21, 41, 81), 0.05)
    for k, (e, orders) in result.items():
        print(k, "errors", e, "observed orders", orders)
        # measured: a 4.54, 4.28 (from above: the boundary rows converge like
        # h^3 locally, which the global error does not see); b 4.44, 4.13
        assert np.all(orders > 3.7) and abs(orders[-1] - 4) < 0.35, (k, e, orders)


FIELDS_2D = {
    "q": (sp.exp(-T) * sp.sin(X + 0.5) * sp.cos(sp.pi * Y + 0.2),
          "laplacian(q) + diff(diff(q, x), y)",
          lambda e: sp.diff(e, X, 2) + sp.diff(e, Y, 2) + sp.diff(e, X, Y),
          [("dirichlet", "x", 0), ("robin", "x", 1)], ("x", "y")),
    "c": (sp.exp(-T) * sp.cos(1.5 * X + 0.1) * sp.sin(sp.pi * Y) / 2,
          "diff((1 + c^2)*diff(c, x), x) + diff((1 + c^2)*diff(c, y), y)",
          lambda e: flux(e, X) + flux(e, Y), [("neumann", "x", 0), ("dirichlet", "x", 1)],
          ("x", "y")),
}


@pytest.mark.slow  # about 40 s: order 4 on 81 x 81 needs an explicit solver's small steps
def test_mixed_and_conservative_order_4_in_2d_with_a_periodic_side():
    # measured: q 3.85, 3.93; c 3.83, 3.92 (on 11, 21, 41 points: 3.69, 3.85)
    result = observed_orders(FIELDS_2D, ["x in [0, 1], points = {n}",
                                         "y in [0, 2], points = {n}, periodic"],
                             (21, 41, 81), 0.1)
    for k, (e, orders) in result.items():
        print(k, "errors", e, "observed orders", orders)
        assert np.all(np.abs(orders - 4) < 0.3), (k, e, orders)
