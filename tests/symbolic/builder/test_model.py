"""The built `System` of well-formed models: shapes, array assembly, inlining,
and the passes that fold constants and eliminate explicit algebraic variables.

Models are parsed and built here (and the passes run on the result); nothing is
compiled to JAX or solved.
"""

from __future__ import annotations

import textwrap

import sympy as sp

from symflow.lang import parse
from symflow.passes import eliminate_explicit_algebraics, fold_constants
from symflow.symbolic import ArraySum, Concat, Element, Fill, Part, Stack, System, build


def _build(text: str) -> System:
    return build(parse(textwrap.dedent(text).lstrip("\n"), "m.sf"))


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


t, x, y, z, a, b, k = (_sym(n) for n in ("t", "x", "y", "z", "a", "b", "k"))


def _same(e1, e2) -> bool:
    return sp.simplify(e1 - e2) == 0


def test_a_scalar_ode_model():
    system = _build("""
        model LV
          parameters
            a = 1.5  in [0, 10]  "birth"
            b = 2*a
          variables
            x = 1.0  "prey"
            y = a
          equations
            der(x) = a*x - x*y
            der(y) = x*y - b*y
          simulate
            tspan = [0, 5]
            solver = kvaerno5
            saveat = [0, 1, 5]
            rtol = 1e-8
            dt = 0.01
        end
        """)
    assert system.name == "LV" and system.file == "m.sf"
    pa, pb = system.parameters
    assert (pa.name, pa.value, pa.bounds, pa.doc) == ("a", 1.5, (0.0, 10.0), "birth")
    assert pb.default == 2 * a and pb.value == 3.0  # a default may use earlier parameters
    assert [v.name for v in system.states] == ["x", "y"]
    assert system.variables[0].doc == "prey"
    assert system.variables[1].initial == a
    assert system.equation_for("x").kind == "ode"
    assert _same(system.equation_for("x").rhs, a * x - x * y)
    s = system.settings
    assert (s.tspan, s.solver, s.saveat, s.rtol, s.dt0) == ((0.0, 5.0), "kvaerno5",
                                                          (0.0, 1.0, 5.0), 1e-8, 0.01)
    assert s.atol == 1e-9  # not given: the default
    assert (s.span_of("solver").line, s.span_of("solver").column) == (13, 14)


def test_shapes_of_arrays():
    system = _build("""
        model Arrays
          constants
            n = 4
          variables
            u[n] = [1, 2, 3, 4]
            v[3] = 0.5
            s = 0
          equations
            der(u) = -u
            der(v) = u[1:] * v
            der(s) = sum(u) + dot(v, v) + u[0]
          observed
            mid = u[1:3]
            total = sum(u)
        end
        """)
    shapes = {v.name: v.shape for v in system.variables}
    assert shapes == {"u": (4,), "v": (3,), "s": ()}
    assert [v.size for v in system.variables] == [4, 3, 1]
    assert system.variables[0].initial == Stack(1, 2, 3, 4)
    assert system.variables[1].initial == sp.Float(0.5)  # broadcast later
    u, v = _sym("u"), _sym("v")
    assert system.equation_for("v").rhs == Part(u, 1, 4) * v
    assert system.shape_of(system.equation_for("v").rhs) == (3,)
    assert system.equation_for("s").rhs.has(ArraySum(u), Element(u, 0))
    assert system.shape_of(system.equation_for("s").rhs) == ()
    assert {o.name: o.shape for o in system.observed} == {"mid": (2,), "total": ()}


def test_piecewise_array_equations_are_assembled_with_concat():
    system = _build("""
        model Chain
          parameters
            k = 1.5
          variables
            x[5] = 0
          equations
            der(x[4])   = k*x[3]            # out of order: assembled by position
            der(x[0])   = -k*x[0]
            der(x[1:4]) = k*x[0:3] - k*x[1:4]
        end
        """)
    (eq,) = system.equations
    X = _sym("x")
    assert isinstance(eq.rhs, Concat)
    assert eq.rhs.pieces() == [
        (1, -k * Element(X, 0)),
        (3, k * Part(X, 0, 3) - k * Part(X, 1, 4)),
        (1, k * Element(X, 3)),
    ]
    assert system.shape_of(eq.rhs) == (5,)
    # Each source equation is remembered, in order of position.
    assert [s.line for s in eq.spans] == [8, 9, 7]


def test_a_scalar_right_side_fills_an_array_slice():
    system = _build("""
        model Fill
          variables
            x[4] = 1
          equations
            der(x[0:2]) = 0
            der(x[2:]) = -x[2:]
        end
        """)
    (eq,) = system.equations
    assert eq.rhs.pieces()[0] == (2, Fill(0, 2))


def test_functions_are_inlined():
    system = _build("""
        model F
          parameters
            k = 2
          functions
            rate(u, v) = k*u*v
            sq(u) = u^2
            both(u) = rate(sq(u), u) + sq(t)
          variables
            x = 1
          equations
            der(x) = both(x) - rate(x, 3)
        end
        """)
    rhs = system.equation_for("x").rhs
    assert _same(rhs, k * x**2 * x + t**2 - 3 * k * x)
    assert not any(isinstance(f, sp.core.function.AppliedUndef) for f in rhs.atoms(sp.Function))
    # A function's argument names are its own: `x` inside is the argument, not the variable.
    system = _build("""
        model Shadow
          functions
            f(x) = 2*x
          variables
            x = 1
            y = 1
          equations
            der(x) = -x
            der(y) = f(y)
        end
        """)
    assert system.equation_for("y").rhs == 2 * y


def test_if_then_else_builds_a_piecewise():
    system = _build("""
        model Switch
          variables
            x = 1
            y = 1
          equations
            der(x) = if x > 0 and t < 2 then x else -x
            der(y) = if 1 > 0 then y else 0     # a constant condition collapses
        end
        """)
    rhs = system.equation_for("x").rhs
    assert isinstance(rhs, sp.Piecewise)
    assert rhs.args[0][0] == x and rhs.args[1] == (-x, True)
    assert system.equation_for("y").rhs == y


def test_double_star_builds_the_same_power_as_caret():
    system = _build("""
        model P
          variables
            x = 1
            y = 1
          equations
            der(x) = -x**2**0.5
            der(y) = -y^2^0.5
        end
        """)
    assert system.equation_for("x").rhs == system.equation_for("y").rhs.xreplace({y: x})


def test_a_long_sum_builds_without_exhausting_the_stack():
    terms = " + ".join(f"{i}*x" for i in range(1, 1201))
    system = _build(f"model S\n  variables\n    x = 1\n  equations\n    der(x) = {terms}\nend\n")
    assert system.equation_for("x").rhs == 720600 * x


def test_constants_are_folded_by_the_pass():
    system = _build("""
        model C
          constants
            g = 9.81
            two_g = 2*g
          parameters
            k = g / 2
          variables
            x = two_g
          equations
            der(x) = -k*x + two_g
          observed
            scaled = g*x
        end
        """)
    g, two_g = _sym("g"), _sym("two_g")
    assert [p.constant for p in system.parameters] == [True, True, False]
    assert [p.value for p in system.parameters] == [9.81, 19.62, 4.905]
    assert system.equation_for("x").rhs.has(two_g)  # before the pass, still a symbol
    folded = fold_constants(system)
    exprs = [e.rhs for e in folded.equations] + [o.expr for o in folded.observed]
    exprs += [v.initial for v in folded.variables]
    exprs += [p.default for p in folded.parameters if not p.constant]
    assert all(not e.has(g, two_g) for e in exprs)
    assert _same(folded.equation_for("x").rhs, -k * x + sp.Float(19.62))
    assert _same(folded.free_parameters[0].default, sp.Float(9.81) / 2)
    assert [p.name for p in folded.parameters] == ["g", "two_g", "k"]  # kept, for display
    assert fold_constants(folded) == folded


def test_explicit_algebraic_variables_become_observed_outputs():
    system = _build("""
        model Alg
          parameters
            k = 2
          variables
            x = 1
            flux = 0
            z = 0
            w[2] = 0
          equations
            der(x) = -flux
            z = flux + 1          # uses an algebraic variable defined below
            flux = k*x
            w = [x, z]
          observed
            both = z + x
        end
        """)
    assert [v.name for v in system.algebraics] == ["flux", "z", "w"]
    out = eliminate_explicit_algebraics(system)
    assert [v.name for v in out.variables] == ["x"]
    assert [e.kind for e in out.equations] == ["ode"]
    assert out.equation_for("x").rhs == -k * x
    observed = {o.name: o for o in out.observed}
    # The eliminated variables come first, flux before z, which uses it.
    names = [o.name for o in out.observed]
    assert names.index("flux") < names.index("z") < names.index("w")
    assert observed["z"].expr == k * x + 1
    assert observed["w"].expr == Stack(x, k * x + 1)
    assert observed["w"].shape == (2,)
    assert observed["both"].expr == k * x + 1 + x
    assert eliminate_explicit_algebraics(out) == out


def test_the_default_model_is_the_last_one_and_one_can_be_chosen():
    program = parse(
        "model A\n  variables\n    x = 1\n  equations\n    der(x) = -x\nend\n"
        "model B\n  variables\n    y = 1\n  equations\n    der(y) = -y\nend\n", "m.sf")
    assert build(program).name == "B"
    assert build(program, "A").name == "A"
