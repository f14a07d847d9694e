"""One test per user mistake: the message, the place (file, line, column), the
caret under the place, and the help that says what would be right.

Every model here is compiled with `symflow.loads` (parse, build, passes); none
is solved.
"""

from __future__ import annotations

import re
import textwrap

import pytest

import symflow
from symflow import SymflowError
from symflow.symbolic import ODE_SOLVERS, SETTINGS


def _error(text: str) -> SymflowError:
    with pytest.raises(SymflowError) as info:
        symflow.loads(textwrap.dedent(text).lstrip("\n"), file="m.sf")
    return info.value


def _excerpts(err: SymflowError) -> list[tuple[int, str, str]]:
    """(line number, source line, underlined text) of every excerpt in `err.pretty()`."""
    lines = err.pretty().splitlines()
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"^ (\d+) \| (.*)$", line)
        if m:
            carets = lines[i + 1]
            first = carets.index("^")
            assert set(carets[first:]) == {"^"}, carets
            start = first - (len(m.group(1)) + 4)
            out.append((int(m.group(1)), m.group(2),
                        m.group(2)[start:start + len(carets) - first]))
    return out


def _check(err: SymflowError, message: str, line: int, column: int, underlined: str):
    """`err` says `message` (a substring), at m.sf:line:column, underlining `underlined`."""
    assert type(err) is SymflowError
    assert message in err.message, err.message
    assert err.span is not None
    assert (err.span.file, err.span.line, err.span.column) == ("m.sf", line, column)
    pretty = str(err)
    assert pretty == err.pretty()
    assert pretty.startswith(f"error: {err.message}\n  --> m.sf:{line}:{column}\n")
    number, _, text = _excerpts(err)[0]
    assert number == line
    assert text == underlined
    assert "Traceback" not in pretty


# ---------------------------------------------------------------- syntax


def test_syntax_error():
    err = _error("""
        model M
          parameters
            alpha = 1.5 +* 2
          variables
            x = 1
        end
        """)
    _check(err, "syntax error: unexpected '*'", 3, 18, "*")
    assert err.help.startswith("expected ") and "a number" in err.help


# ---------------------------------------------------------------- names


LV = """
model LotkaVolterra
  parameters
    alpha = 1.5
    beta = 1.0
  variables
    x = 1.0
    y = 1.0
  equations
    der(x) = {rhs}
    der(y) = x*y - y
end
"""


def test_undeclared_name_suggests_the_closest_declared_name():
    err = _error(LV.format(rhs="alpah*x - beta*x*y"))
    _check(err, "undeclared name 'alpah'", 9, 14, "alpah")
    assert err.help == "did you mean 'alpha'?"


def test_undeclared_name_with_nothing_close():
    err = _error(LV.format(rhs="alpha*x - zzz"))
    _check(err, "undeclared name 'zzz'", 9, 24, "zzz")
    assert "declare it under parameters, constants or variables" in err.help


def test_name_declared_twice_points_at_the_first_declaration():
    err = _error("""
        model M
          parameters
            k = 1.0
          variables
            x = 1.0
            k = 2.0
          equations
            der(x) = -x
            der(k) = 0
        end
        """)
    _check(err, "'k' is declared twice", 6, 5, "k")
    ((span, note),) = err.notes
    assert (span.line, span.column) == (3, 5)
    assert "first declared here, as a parameter" in note
    assert "note: 'k' was first declared here" in str(err)
    assert _excerpts(err)[1] == (3, "    k = 1.0", "k")


def test_a_builtin_name_cannot_be_declared():
    err = _error("""
        model M
          parameters
            sin = 1.0
          variables
            x = 1.0
          equations
            der(x) = -x
        end
        """)
    _check(err, "'sin' cannot be declared: it is a built-in name", 3, 5, "sin")


def test_a_value_used_before_it_is_declared():
    err = _error("""
        model M
          parameters
            b = 2*a
            a = 1.0
          variables
            x = 1.0
          equations
            der(x) = -a*b*x
        end
        """)
    _check(err, "'a' is used before it is declared", 3, 11, "a")
    ((span, _),) = err.notes
    assert span.line == 4


# ---------------------------------------------------------------- equations


def test_variable_with_no_equation():
    err = _error("""
        model M
          variables
            x = 1.0
            y = 2.0
          equations
            der(x) = -x
        end
        """)
    _check(err, "variable 'y' has no equation", 4, 5, "y = 2.0")
    assert "der(y) = ..." in err.help


def test_state_with_no_equation_for_one_element():
    err = _error("""
        model M
          variables
            x[3] = 0
          equations
            der(x[0:2]) = -x[0:2]
        end
        """)
    _check(err, "element 2 of 'x' has no equation", 3, 5, "x[3] = 0")
    assert "x[0:3]" in err.help


def test_state_with_no_initial_value():
    err = _error("""
        model M
          variables
            x
          equations
            der(x) = -x
        end
        """)
    _check(err, "state 'x' needs an initial value", 3, 5, "x")
    assert "x = <value>" in err.help


def test_variable_defined_by_two_equations():
    err = _error("""
        model M
          variables
            x = 1.0
          equations
            der(x) = -x
            der(x) = x^2
        end
        """)
    _check(err, "'x' is defined by two equations", 6, 5, "der(x) = x^2")
    ((span, note),) = err.notes
    assert (span.line, note) == (5, "the other equation")
    assert _excerpts(err)[1][2] == "der(x) = -x"


def test_variable_defined_by_a_der_equation_and_an_algebraic_one():
    err = _error("""
        model M
          variables
            x = 1.0
          equations
            der(x) = -x
            x = 3
        end
        """)
    _check(err, "'x' is defined by two equations", 6, 5, "x = 3")
    assert "either a der(...) equation or an algebraic one" in err.help


def test_two_overlapping_array_slice_equations():
    err = _error("""
        model M
          variables
            x[4] = 0
          equations
            der(x[0:3]) = -x[0:3]
            der(x[2:4]) = 1
        end
        """)
    _check(err, "'x' is defined by two equations (element 2)", 6, 5, "der(x[2:4]) = 1")
    ((span, _),) = err.notes
    assert span.line == 5


def test_an_element_and_a_slice_that_overlap():
    err = _error("""
        model M
          variables
            x[3] = 0
          equations
            der(x) = -x
            der(x[1]) = 0
        end
        """)
    _check(err, "'x' is defined by two equations (element 1)", 6, 5, "der(x[1]) = 0")


def test_der_used_on_a_right_hand_side():
    err = _error("""
        model M
          variables
            x = 1.0
            y = 0.0
          equations
            der(x) = -x
            der(y) = der(x) + 1
        end
        """)
    _check(err, "der(...) may only stand on the left side of an equation", 7, 14, "der(x)")


def test_an_implicit_equation_is_solved_for_its_derivative():
    # Implicit equations are the DAE path now: this one is solved for der(x).
    import textwrap

    import jax.numpy as jnp

    m = symflow.loads(textwrap.dedent("""
        model M
          variables
            x = 1.0
          equations
            der(x) + x = 0
        end
        """), file="m.sf")
    assert m.state_names == ("x",)
    assert float(m.rhs(0.0, jnp.array([2.0]))[0]) == -2.0


def test_the_time_cannot_be_defined():
    err = _error("""
        model M
          variables
            x = 1.0
          equations
            der(x) = -x
            t = 1
        end
        """)
    _check(err, "'t' is the time and cannot be defined by an equation", 6, 5, "t")


def test_a_parameter_cannot_be_defined_by_an_equation():
    err = _error(LV.format(rhs="-x").replace("    der(y) = x*y - y\n",
                                             "    der(y) = -y\n    alpha = 2\n"))
    _check(err, "'alpha' is a parameter; only variables are defined by equations",
           11, 5, "alpha")


def test_algebraic_loop():
    err = _error("""
        model M
          variables
            x = 1.0
            a = 0.0
            b = 0.0
          equations
            der(x) = -x + a
            a = b + 1
            b = a*2
        end
        """)
    assert err.message.startswith("algebraic loop: ")
    assert set(err.message.removeprefix("algebraic loop: ").split(" -> ")) == {"a", "b"}
    lines = {err.span.line, *(span.line for span, _ in err.notes)}
    assert lines == {8, 9}
    underlined = {text for _, _, text in _excerpts(err)}
    assert underlined == {"a = b + 1", "b = a*2"}
    assert "--> m.sf:" in str(err)
    assert "tearing" in err.help


# ---------------------------------------------------------------- values


def test_parameter_that_depends_on_a_variable():
    err = _error("""
        model M
          variables
            x = 1.0
          parameters
            k = 2*x
          equations
            der(x) = -k*x
        end
        """)
    _check(err, "the value of parameter 'k' cannot use the variable 'x'", 5, 11, "x")
    assert err.help == "it may use numbers, constants and parameters"


def test_parameter_that_depends_on_the_time():
    err = _error("""
        model M
          parameters
            k = 1 + t
          variables
            x = 1.0
          equations
            der(x) = -k*x
        end
        """)
    _check(err, "the value of parameter 'k' cannot depend on the time t", 3, 13, "t")


def test_constant_that_depends_on_a_parameter():
    err = _error("""
        model M
          parameters
            k = 2.0
          constants
            c = 3*k
          variables
            x = 1.0
          equations
            der(x) = -c*x
        end
        """)
    _check(err, "the value of constant 'c' cannot use the parameter 'k'", 5, 11, "k")
    assert err.help == "it may use numbers and constants"


def test_initial_value_that_depends_on_a_variable():
    err = _error("""
        model M
          variables
            x = 1.0
            y = 2*x
          equations
            der(x) = -x
            der(y) = -y
        end
        """)
    _check(err, "the initial value of 'y' cannot use the variable 'x'", 4, 11, "x")


def test_value_outside_its_bounds():
    err = _error("""
        model M
          parameters
            k = 20   in [0, 10]
          variables
            x = 1.0
          equations
            der(x) = -k*x
        end
        """)
    _check(err, "the value 20 of 'k' is outside its bounds [0, 10]", 3, 9, "20")


def test_division_by_zero():
    err = _error(LV.format(rhs="x/(beta - beta)"))
    _check(err, "division by zero", 9, 17, "beta - beta")


@pytest.mark.parametrize("rhs, underlined, message", [
    ("log(0)*x", "log(0)", "this expression is undefined or infinite"),
    ("x*0^(-1)", "0^(-1)", "this expression is undefined or infinite"),
    ("atan2(0, 0)", "atan2(0, 0)", "this expression is undefined or infinite"),
    ("x*asin(2)", "asin(2)", "this value is not a real number"),
    ("sqrt(-1)*x", "sqrt(-1)", "this value is not a real number"),
    ("1e400*x", "1e400", "this number is too large"),
    ("2^5000*x", "2^5000", "this number is too large"),
    ("9^9^9*x", "9^9^9", "this number is too large"),  # refused at once, not computed
    ("x*pi^1e308", "pi^1e308", "this number is too large"),  # symbolic, but overflows
    ("exp(1000)*x", "exp(1000)", "this number is too large"),
    ("e/1e-320*x", "e/1e-320", "this number is too large"),
])
def test_numbers_that_are_undefined_infinite_or_not_real(rhs, underlined, message):
    err = _error(LV.format(rhs=rhs))
    _check(err, message, 9, 14 + rhs.index(underlined), underlined)


def test_a_product_that_overflows():
    err = _error(LV.format(rhs="x*10^200*10^200"))
    _check(err, "this expression holds a number too large for a float", 9, 14,
           "x*10^200*10^200")


@pytest.mark.parametrize("rhs, message", [
    ("x/(c - 3)", "this expression is undefined or infinite"),
    ("log(c - 3)*x", "this expression is undefined or infinite"),
    ("sqrt(c - 4)*x", "this value is not a real number"),
    ("(10^200)^c*x", "this expression holds a number too large for a float"),
    ("9^9^(c*3)*x", "this expression holds a number too large for a float"),  # not computed
])
def test_values_that_break_once_the_constants_are_folded_in(rhs, message):
    err = _error(f"""
        model M
          constants
            c = 3
          variables
            x = 1.0
          equations
            der(x) = {rhs}
        end
        """)
    _check(err, message + " once the constants are put in", 7, 14, rhs)


def test_an_initial_value_that_overflows():
    err = _error(LV.format(rhs="-x").replace("    x = 1.0\n", "    x = -pi^1e308\n"))
    _check(err, "this number is too large", 6, 10, "pi^1e308")


@pytest.mark.parametrize("rhs, underlined", [
    ("(x > 1) + 1", "x > 1"),
    ("x > 1", "x > 1"),
    ("sin(x < alpha)", "x < alpha"),
])
def test_a_condition_where_a_value_belongs(rhs, underlined):
    err = _error(LV.format(rhs=rhs))
    _check(err, "expected a value, not a condition", 9, 14 + rhs.index(underlined),
           underlined)


def test_a_value_where_a_condition_belongs():
    err = _error(LV.format(rhs="if x then 1 else 2"))
    _check(err, "expected a condition", 9, 17, "x")


def test_an_expression_nested_too_deeply():
    err = _error(LV.format(rhs="sin(" * 150 + "x" + ")" * 150))
    assert err.message == "this expression is nested too deeply"
    assert err.span.line == 9
    assert "at most 100 levels" in err.help


# ---------------------------------------------------------------- calls


def test_call_of_an_unknown_function():
    err = _error(LV.format(rhs="sine(x)"))
    _check(err, "unknown function 'sine'", 9, 14, "sine")
    assert err.help.startswith("did you mean 'sin'? declare it under functions")
    assert "exp" in err.help and "sqrt" in err.help


def test_builtin_called_with_the_wrong_number_of_arguments():
    err = _error(LV.format(rhs="sin(x, alpha)"))
    _check(err, "sin takes 1 argument, got 2", 9, 14, "sin(x, alpha)")


@pytest.mark.parametrize("rhs, message", [
    ("atan2(x)", "atan2 takes 2 arguments, got 1"),
    ("min(x)", "min of one argument takes an array"),
    ("max()", "max takes at least 2 arguments, got 0"),
    ("sum(x, y)", "sum takes 1 argument, got 2"),
])
def test_other_builtins_with_the_wrong_number_of_arguments(rhs, message):
    err = _error(LV.format(rhs=rhs))
    _check(err, message, 9, 14, rhs)


def test_user_function_called_with_the_wrong_number_of_arguments():
    err = _error("""
        model M
          functions
            f(a, b) = a*b
          variables
            x = 1.0
          equations
            der(x) = -f(x)
        end
        """)
    _check(err, "f takes 2 arguments, got 1", 7, 15, "f(x)")
    ((span, note),) = err.notes
    assert (span.line, note) == (3, "f is defined here")
    assert _excerpts(err)[1][2] == "f(a, b) = a*b"


def test_a_recursive_function():
    err = _error("""
        model M
          functions
            f(a) = f(a - 1) + 1
          variables
            x = 1.0
          equations
            der(x) = f(x)
        end
        """)
    _check(err, "function 'f' calls itself", 3, 12, "f(a - 1)")
    assert "inlined" in err.help


def test_mutually_recursive_functions():
    err = _error("""
        model M
          functions
            f(a) = g(a) + 1
            g(a) = 2*f(a)
          variables
            x = 1.0
          equations
            der(x) = f(x)
        end
        """)
    _check(err, "function 'f' calls itself", 4, 14, "f(a)")


def test_a_function_used_without_arguments():
    err = _error("""
        model M
          functions
            f(a) = 2*a
          variables
            x = 1.0
          equations
            der(x) = -f*x
        end
        """)
    _check(err, "'f' is a function: call it with arguments", 7, 15, "f")


# ---------------------------------------------------------------- arrays


ARRAYS = """
model A
  variables
    x[3] = [1, 2, 3]
    y[2] = 0
  equations
    der(x) = {x}
    der(y) = {y}
end
"""


def test_index_out_of_range():
    err = _error(ARRAYS.format(x="-x + x[3]", y="-y"))
    _check(err, "index out of range: x has 3 elements (0 to 2)", 6, 21, "3")


def test_slice_out_of_range():
    err = _error(ARRAYS.format(x="-x", y="x[2:4]"))
    _check(err, "the slice is empty or outside x[0:3]", 7, 16, "2:4")


def test_array_length_mismatch_in_an_element_wise_operation():
    err = _error(ARRAYS.format(x="-x", y="x + y"))
    _check(err, "element-wise operation on arrays of different lengths: 3 and 2",
           7, 14, "x + y")


def test_right_side_longer_than_the_left():
    err = _error(ARRAYS.format(x="-x", y="x"))
    _check(err, "the right side has 3 elements but the left side has 2", 7, 14, "x")


def test_initial_value_of_the_wrong_length():
    err = _error("""
        model A
          variables
            x[3] = [1, 2]
          equations
            der(x) = -x
        end
        """)
    _check(err, "the initial value of 'x' has 2 elements, but 'x' has 3", 3, 12, "[1, 2]")


def test_a_scalar_cannot_be_indexed():
    err = _error(LV.format(rhs="x[0]"))
    _check(err, "a scalar cannot be indexed", 9, 14, "x")


def test_an_index_must_be_a_constant_whole_number():
    err = _error(ARRAYS.format(x="-x", y="-y + x[0.5]"))
    _check(err, "an index must be a whole number, not 0.5", 7, 21, "0.5")
    err = _error(ARRAYS.format(x="-x", y="-y + x[y[0]]"))
    _check(err, "an index cannot use the variable 'y'", 7, 21, "y")


def test_an_array_too_long():
    err = _error("""
        model A
          variables
            x[1e12] = 0
          equations
            der(x) = -x
        end
        """)
    _check(err, "the length of 'x' is too large", 3, 7, "1e12")


# ---------------------------------------------------------------- simulate


def test_unknown_solver_lists_the_known_ones():
    err = _error(LV.format(rhs="-x").replace("end\n", "  simulate\n    solver = tsit6\nend\n"))
    _check(err, "unknown solver 'tsit6'", 12, 14, "tsit6")
    assert err.help.startswith("did you mean 'tsit5'? known solvers: ")
    for name in ODE_SOLVERS:
        assert name in err.help


def test_unknown_solver_with_nothing_close():
    # (not `rk4`: since the exponential integrators, 'etdrk4' is close to it)
    err = _error(LV.format(rhs="-x").replace("end\n", "  simulate\n    solver = qwerty\nend\n"))
    _check(err, "unknown solver 'qwerty'", 12, 14, "qwerty")
    assert err.help.startswith("known solvers: auto, tsit5")


def test_unknown_simulate_setting():
    err = _error(LV.format(rhs="-x").replace("end\n", "  simulate\n    rtoll = 1e-6\nend\n"))
    _check(err, "unknown simulate setting 'rtoll'", 12, 5, "rtoll")
    assert err.help.startswith("did you mean 'rtol'? known settings: ")
    for name in SETTINGS:
        assert name in err.help


@pytest.mark.parametrize("setting, message, underlined", [
    ("tspan = [0, 1, 2]", "tspan must be [start, end]", "[0, 1, 2]"),
    ("tspan = [1, 1]", "tspan is empty", "[1, 1]"),
    ("rtol = -1e-6", "rtol must be positive", "-1e-6"),
    ("saveat = 1", "saveat needs at least 2 points", "1"),
    ("solver = 5", "solver must be a name", "5"),
    ("tspan = [0, x]", "tspan cannot use the variable 'x'", "x"),
])
def test_bad_simulate_values(setting, message, underlined):
    err = _error(LV.format(rhs="-x").replace("end\n", f"  simulate\n    {setting}\nend\n"))
    _check(err, message, 12, 5 + setting.index(underlined), underlined)


def test_a_setting_given_twice():
    err = _error(LV.format(rhs="-x").replace(
        "end\n", "  simulate\n    rtol = 1e-6\n    rtol = 1e-8\nend\n"))
    _check(err, "'rtol' is set twice", 13, 5, "rtol")


# ---------------------------------------------------------------- not yet supported


def test_closures_in_a_model_with_implicit_equations_are_not_supported_yet():
    err = _error("model M\n  closures\n    (U1, U2) = mlp(x, width = 4)\n"
                 "  variables\n    x = 1\n  equations\n    0 = x - 1\nend\n")
    assert err.message == ("closures in models with implicit equations or components are "
                           "not supported yet")
    assert (err.span.line, err.span.column) == (2, 3)
    assert "--> m.sf:2:3" in str(err)


def test_a_file_with_no_model():
    err = _error("# nothing here\n")
    assert err.message == "m.sf defines no model"
    assert "model Name" in err.help
