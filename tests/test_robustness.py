"""Robustness: bad input of any kind gets a `SymflowError`, never a crash, and
model text is never executed.

(a) Property tests mutate the example models at random, and put random
    expressions in every place an expression may stand; `symflow.loads` must
    either compile the result or raise `SymflowError` (no Lark, SymPy or Python
    exception, no RecursionError).
(b) Injection: Python code written into a model is rejected or inert; nothing
    of the doc strings or the file name reaches the generated source as code.
(c) Every error names the file and shows the line with a caret.

The property tests are derandomized and use no example database, so a run is
the same everywhere. Set SYMFLOW_FUZZ_EXAMPLES to run more examples locally.
"""

from __future__ import annotations

import ast as python_ast
import os
import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from time_limit import time_limit

import symflow
from symflow import SymflowError

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.sf"))
FILE = "fuzz.sf"
N_EXAMPLES = int(os.environ.get("SYMFLOW_FUZZ_EXAMPLES", "0")) or None

# Errors that have no place in the file, and so no caret.
SPANLESS = (re.compile(r"^\S+ defines no model$"),)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Generated modules of the thousands of fuzzed models go to a temporary folder."""
    monkeypatch.setenv("SYMFLOW_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def _assert_clean(err: SymflowError, source: str, file: str = FILE) -> None:
    """`err` names the file and, when it has a place, shows its line with a caret."""
    assert type(err) in (SymflowError,), type(err)
    text = str(err)
    assert text == err.pretty()
    assert text.startswith("error: ")
    assert file in text
    assert "Traceback" not in text
    if err.span is None:
        assert any(p.match(err.message) for p in SPANLESS), err.message
        return
    span = err.span
    assert span.file == file
    assert f"--> {file}:{span.line}:{span.column}" in text
    lines = source.replace("\r\n", "\n").splitlines() or [""]
    assert 1 <= span.line <= len(lines) + 1, (span, len(lines))
    assert span.column >= 1
    assert re.search(r"^ +\d+ \| .*\n +\| +\^+$", text, re.M), text


def _compiles_or_clean_error(text: str, seconds: int = 30) -> None:
    try:
        with time_limit(seconds, "compiling"):
            symflow.loads(text, file=FILE)
    except SymflowError as err:
        _assert_clean(err, text)


# ---------------------------------------------------------------- (a) random mutations


TOKENS = [
    "(", ")", "=", "der(", "[", "]", ",", "^", "**", "in", "end", "\n", " ", "\t", "#",
    '"', ":", ".", "~", "+", "-", "*", "/", "<", ">=", "==", "!=", "and", "or", "not ",
    "if ", " then ", " else ", "t", "pi", "e", "sum(", "dot(", "grad(", "min(", "max(",
    "sqrt(-1)", "log(0)", "/0", "0^-1", "9^9^9", "1e309", "[0:2]", "[-1]", "[1:]",
    "pi^1e308", "/1e-320", "*10^200", "exp(710)",
    "model", "end\n", "parameters\n", "variables\n", "equations\n", "functions\n",
    "observed\n", "simulate\n", "constants\n", "domain\n", "brownian\n",
    "solver", "tspan", "saveat", "rtol", "dt", "max_steps", "\\\n", "\r\n", "\r",
    "x", "y", "alpha", "k", "n",
]
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
_numbers = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0", "1", "1e-3", "2.5", ".5", "1e308", "99999999999999999999"]),
)
_insertions = st.one_of(st.sampled_from(TOKENS), _names, _numbers,
                        st.characters())
_positions = st.integers(0, 10**6)
_mutation = st.one_of(
    st.tuples(st.just("delete"), _positions, st.integers(1, 8)),
    st.tuples(st.just("duplicate"), _positions, st.integers(1, 16)),
    st.tuples(st.just("swap"), _positions, _positions),
    st.tuples(st.just("insert"), _positions, _insertions),
)


def _mutate(text: str, mutations) -> str:
    for kind, where, what in mutations:
        i = where % (len(text) + 1)
        if kind == "delete":
            text = text[:i] + text[i + what:]
        elif kind == "duplicate":
            text = text[:i] + text[i:i + what] + text[i:]
        elif kind == "swap" and text:
            j, i = sorted((i % len(text), what % len(text)))
            if i < j:
                text = text[:i] + text[j] + text[i + 1:j] + text[i] + text[j + 1:]
        elif kind == "insert":
            text = text[:i] + what + text[i:]
    return text


def test_there_are_examples_to_mutate():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@settings(max_examples=N_EXAMPLES or 120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
@given(mutations=st.lists(_mutation, min_size=1, max_size=6))
def test_a_mutated_example_compiles_or_raises_a_symflow_error(path, mutations):
    _compiles_or_clean_error(_mutate(path.read_text(), mutations))


# ---------------------------------------------------------------- (a) random expressions


_ATOMS = ["x", "y", "v", "w", "a", "c", "t", "pi", "e", "0", "1", "-1", "0.5", "2", "3",
          "1e308", "1e-320", "10^200", "700", "f", "undeclared"]
_CALLS_1 = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp",
            "log", "sqrt", "abs", "sign", "sum", "der", "f", "g", "nosuch"]
_CALLS_2 = ["atan2", "min", "max", "dot", "grad", "g", "f"]
_INDICES = ["0", "1", "2", "-1", "3", "0:2", "1:", ":2", "c-1", "2:1", "a", "x", "0.5"]
_COMPARE = ["<", "<=", ">", ">=", "==", "!="]


def _extend(inner):
    return st.one_of(
        st.tuples(inner, st.sampled_from("+-*/^"), inner).map(" ".join),
        inner.map(lambda e: f"-{e}"),
        inner.map(lambda e: f"({e})"),
        st.tuples(st.sampled_from(_CALLS_1), inner).map(lambda c: f"{c[0]}({c[1]})"),
        st.tuples(st.sampled_from(_CALLS_2), inner, inner).map(
            lambda c: f"{c[0]}({c[1]}, {c[2]})"),
        st.tuples(inner, st.sampled_from(_COMPARE), inner).map(" ".join),
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(" ".join),
        inner.map(lambda e: f"not {e}"),
        st.tuples(inner, inner, inner).map(lambda c: f"if {c[0]} then {c[1]} else {c[2]}"),
        st.tuples(st.sampled_from(["v", "w", "[1, 2, 3]", "(v*2)", "x"]),
                  st.sampled_from(_INDICES)).map(lambda c: f"{c[0]}[{c[1]}]"),
        st.lists(inner, min_size=1, max_size=3).map(lambda es: "[" + ", ".join(es) + "]"),
    )


_expressions = st.recursive(st.sampled_from(_ATOMS), _extend, max_leaves=10)

_TEMPLATE = """\
model Random
  constants
    c = {constant}
  parameters
    a = {parameter}
  functions
    f(u) = u*a
    g(u, r) = {function}
  variables
    x = {initial}
    y = 1
    v[3] = [1, 2, 3]
    w[3] = 0
    q = 0
  equations
    der(x) = {ode}
    der(y) = -y
    der(v) = {array_ode}
    w = {algebraic}
    q = {scalar}
  observed
    o = {observed}
end
"""
_PLACES = ("constant", "parameter", "function", "initial", "ode", "array_ode",
           "algebraic", "scalar", "observed")
_DEFAULTS = dict(constant="3", parameter="2", function="u - r", initial="1", ode="-x",
                 array_ode="-v", algebraic="v*y", scalar="x*2", observed="x + y")

@settings(max_examples=N_EXAMPLES or 500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
          print_blob=True)
@given(place=st.sampled_from(_PLACES), expr=_expressions)
def test_a_random_expression_anywhere_compiles_or_raises_a_symflow_error(place, expr):
    _compiles_or_clean_error(_TEMPLATE.format(**{**_DEFAULTS, place: expr}))


def test_min_max_of_an_array_literal():
    m = symflow.loads("model M\n  constants\n    c = 3\n  variables\n    v[3] = 0\n"
                      "  equations\n    der(v) = max(v, [1, 2, c])\nend\n", file=FILE)
    assert m.state_names == ("v",)


def test_a_condition_on_an_array_literal():
    _compiles_or_clean_error("model M\n  variables\n    v[3] = 0\n  equations\n"
                             "    der(v) = if -3 >= [1, 2, 3] then v else -v\nend\n", seconds=3)


@pytest.mark.parametrize("text", [
    "model M\n  variables\n    x = 1\n  equations\n    der(x) = " + "+".join(["x"] * 3000)
    + "\nend\n",
    "model M\n  variables\n    x = 1\n  equations\n    der(x) = " + "-" * 3000 + "x\nend\n",
    "model M\n  variables\n    x = 1\n  equations\n    der(x) = " + "(" * 3000 + "x"
    + ")" * 3000 + "\nend\n",
    "model M\n  variables\n    x = 1\n  equations\n    der(x) = " + "sin(" * 500 + "x"
    + ")" * 500 + "\nend\n",
    "model M\n  variables\n    x = 1\n  equations\n    der(x) = " + "^".join(["x"] * 1000)
    + "\nend\n",
    "model M\n  functions\n" + "".join(f"    f{i}(u) = f{i + 1}(u) + 1\n" for i in range(1500))
    + "    f1500(u) = u\n  variables\n    x = 1\n  equations\n    der(x) = f0(x)\nend\n",
    "model M\n  variables\n    x = 1\n  equations\n    der(x) = x*" + "9" * 5000 + "\nend\n",
], ids=["long-sum", "many-minus", "many-parens", "deep-calls", "power-tower",
        "deep-functions", "5000-digits"])
def test_huge_or_deeply_nested_input(text):
    _compiles_or_clean_error(text)


# ---------------------------------------------------------------- (b) injection


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "PWNED_symflow"
    yield path
    assert not path.exists(), "model text was executed"
    assert not pathlib.Path("/tmp/PWNED_symflow").exists()


def _assert_harmless(source: str) -> None:
    """`source` is valid Python that imports jax.numpy only and calls nothing but
    `jnp`, `dict` and methods of jnp arrays."""
    tree = python_ast.parse(source)
    imports = [n for n in python_ast.walk(tree) if isinstance(n, (python_ast.Import,
                                                                  python_ast.ImportFrom))]
    assert [python_ast.unparse(n) for n in imports] == ["import jax.numpy as jnp"]
    for node in python_ast.walk(tree):
        if isinstance(node, python_ast.Call):
            func = python_ast.unparse(node.func)
            assert func.startswith("jnp.") or func == "dict", func
        assert not (isinstance(node, python_ast.Name)
                    and node.id in ("__import__", "exec", "eval", "open", "os"))


def _payload(marker: pathlib.Path) -> str:
    return f'__import__("os").system("touch {marker}")'


INJECTION_PLACES = {
    "parameter value": "model M\n  parameters\n    a = {p}\n  variables\n    x = 1\n"
                       "  equations\n    der(x) = -a*x\nend\n",
    "variable initial value": "model M\n  variables\n    x = {p}\n  equations\n"
                              "    der(x) = -x\nend\n",
    "equation": "model M\n  variables\n    x = 1\n  equations\n    der(x) = {p}\nend\n",
    "observed": "model M\n  variables\n    x = 1\n  equations\n    der(x) = -x\n"
                "  observed\n    o = {p}\nend\n",
    "function body": "model M\n  functions\n    f(u) = {p}\n  variables\n    x = 1\n"
                     "  equations\n    der(x) = f(x)\nend\n",
    "model name": "model {p}\n  variables\n    x = 1\n  equations\n    der(x) = -x\nend\n",
    "solver name": "model M\n  variables\n    x = 1\n  equations\n    der(x) = -x\n"
                   "  simulate\n    solver = {p}\nend\n",
    "setting name": "model M\n  variables\n    x = 1\n  equations\n    der(x) = -x\n"
                    "  simulate\n    {p} = 1\nend\n",
    "array length": "model M\n  variables\n    x[{p}] = 1\n  equations\n    der(x) = -x\n"
                    "end\n",
    "import": "import {p}\nmodel M\n  variables\n    x = 1\n  equations\n    der(x) = -x\n"
              "end\n",
}


@pytest.mark.parametrize("place", INJECTION_PLACES)
def test_python_code_in_a_model_is_rejected(place, marker):
    text = INJECTION_PLACES[place].format(p=_payload(marker))
    with pytest.raises(SymflowError) as info:
        symflow.loads(text, file="evil.sf")
    _assert_clean(info.value, text, "evil.sf")


@pytest.mark.parametrize("place", ["solver name", "equation", "parameter value"])
@pytest.mark.parametrize("word", ["exec", "eval", "__import__", "open"])
def test_python_builtins_are_just_unknown_names(place, word, marker):
    text = INJECTION_PLACES[place].format(p=word)
    with pytest.raises(SymflowError) as info:
        symflow.loads(text, file="evil.sf")
    assert word in info.value.message
    _assert_clean(info.value, text, "evil.sf")


def test_model_text_never_reaches_sympify(monkeypatch, marker):
    import sympy.parsing.sympy_parser as sympy_parser

    def refuse(*args, **kwargs):
        raise AssertionError(f"model text was handed to SymPy's parser: {args[:1]}")

    monkeypatch.setattr(sympy_parser, "parse_expr", refuse)
    for path in EXAMPLES:
        symflow.loads(path.read_text(), file=str(path))
    for place in ("parameter value", "equation", "solver name"):
        with pytest.raises(SymflowError):
            symflow.loads(INJECTION_PLACES[place].format(p=_payload(marker)), file="e.sf")


DOCS = [
    "it''s ''' a ''' test",
    "ends with a backslash \\",
    "newline \\n and tab \\t escapes \\x00 \\u2028",
    "{braces} %s %(name)s $HOME `ticks`",
    "__import__('os').system('touch {marker}')",
    "'''; import os; os.system('touch {marker}'); '''",
    "# not a comment",
]


def test_doc_strings_are_inert_and_stay_out_of_the_generated_source(marker):
    docs = [d.replace("{marker}", str(marker)) for d in DOCS]
    lines = ["model Docs", "  parameters"]
    lines += [f'    p{i} = {i}   in [0, 10]   "{d}"' for i, d in enumerate(docs)]
    lines += ["  variables"]
    lines += [f'    x{i} = 1 "{d}"' for i, d in enumerate(docs)]
    lines += ["  equations"]
    lines += [f"    der(x{i}) = -p{i}*x{i}" for i in range(len(docs))]
    lines += ["  observed", f'    o = x0 + x1 "{docs[-2]}"', "end", ""]
    m = symflow.loads("\n".join(lines), file="docs.sf")
    assert [p.doc for p in m.system.parameters] == docs
    assert [v.doc for v in m.system.variables] == docs
    _assert_harmless(m.source)
    for doc in docs:
        assert doc not in m.source
    for fragment in ("import os", "os.system", "__import__", "touch", "braces", "backslash"):
        assert fragment not in m.source


def test_a_doc_string_cannot_hold_a_triple_quote(marker):
    text = ('model M\n  variables\n    x = 1 """ + __import__("os").system("touch '
            f'{marker}") + """\n  equations\n    der(x) = -x\nend\n')
    with pytest.raises(SymflowError) as info:
        symflow.loads(text, file="q.sf")
    _assert_clean(info.value, text, "q.sf")


@pytest.mark.parametrize("name", ["class", "lambda", "None", "def", "__import__", "exec",
                                  "jnp", "p", "y", "t0", "_c0", "MODEL"])
def test_python_keywords_and_generated_names_are_plain_model_names(name, marker):
    text = (f"model {name}\n  parameters\n    {name} = 2\n  variables\n    x = 1\n"
            f"    {name}_v = 1\n  equations\n    der(x) = -{name}*x\n"
            f"    der({name}_v) = {name}\n  observed\n    {name}_o = x\nend\n")
    m = symflow.loads(text, file="k.sf")
    _assert_harmless(m.source)
    assert m.name == name
    assert name in m.params
    assert m.state_names == ("x", f"{name}_v")


def test_a_hostile_file_name_stays_out_of_the_generated_source(marker):
    file = f'evil"""\nimport os; os.system("touch {marker}")\n""".sf'
    m = symflow.loads("model M\n  variables\n    x = 1\n  equations\n    der(x) = -x\nend\n",
                      file=file)
    _assert_harmless(m.source)
    assert "os.system" not in m.source.split('"""', 2)[2]  # only in the docstring, inert
    # ... and an error in such a file still prints.
    with pytest.raises(SymflowError) as info:
        symflow.loads("model M\n  variables\n    x = 1\n  equations\n    der(x) = -z\nend\n",
                      file=file)
    assert file in str(info.value)


# ---------------------------------------------------------------- (c) every error is placed


BAD = {
    "syntax": "model M\n  parameters\n    a = 1 +* 2\nend\n",
    "end of file": "model M\n  variables\n    x = 1\n",
    "bad character": "model M\n  variables\n    x = 1 @ 2\nend\n",
    "undeclared": "model M\n  variables\n    x = 1\n  equations\n    der(x) = -alpah*x\nend\n",
    "declared twice": "model M\n  parameters\n    a = 1\n    a = 2\nend\n",
    "no equation": "model M\n  variables\n    x = 1\nend\n",
    "two equations": "model M\n  variables\n    x = 1\n  equations\n    der(x) = 1\n"
                     "    der(x) = 2\nend\n",
    "unknown function": "model M\n  variables\n    x = 1\n  equations\n    der(x) = foo(x)\n"
                        "end\n",
    "arity": "model M\n  variables\n    x = 1\n  equations\n    der(x) = exp(x, x)\nend\n",
    "unknown solver": "model M\n  variables\n    x = 1\n  equations\n    der(x) = -x\n"
                      "  simulate\n    solver = rk45\nend\n",
    "unknown setting": "model M\n  variables\n    x = 1\n  equations\n    der(x) = -x\n"
                       "  simulate\n    tolerance = 1\nend\n",
    "index": "model M\n  variables\n    x[2] = 0\n  equations\n    der(x) = x[5]\nend\n",
    "lengths": "model M\n  variables\n    x[2] = 0\n  equations\n    der(x) = x + [1, 2, 3]\n"
               "end\n",
    "recursion": "model M\n  functions\n    f(u) = f(u)\n  variables\n    x = 1\n"
                 "  equations\n    der(x) = f(x)\nend\n",
    "algebraic loop": "model M\n  variables\n    x = 1\n    a = 0\n    b = 0\n  equations\n"
                      "    der(x) = a\n    a = b + 1\n    b = a*2\nend\n",
    "der on the right": "model M\n  variables\n    x = 1\n  equations\n    der(x) = der(x)\n"
                        "end\n",
    "condition as value": "model M\n  variables\n    x = 1\n  equations\n    der(x) = x > 1\n"
                          "end\n",
    "not real": "model M\n  variables\n    x = 1\n  equations\n    der(x) = log(-2)\nend\n",
    "bad closure": "model M\n  closures\n    (U1) = mlp(1, width = 4, activation = sigmoid)\n"
                   "end\n",
    "last line without newline": "model M\n  variables\n    x = 1\n  equations\n"
                                 "    der(x) = -x +",
}


@pytest.mark.parametrize("name", BAD)
def test_every_error_names_the_file_and_shows_a_caret(name):
    text = BAD[name]
    with pytest.raises(SymflowError) as info:
        symflow.loads(text, file="models/bad model.sf")
    _assert_clean(info.value, text, "models/bad model.sf")
    assert info.value.span is not None


def test_an_error_excerpt_shows_the_line_as_written():
    text = "model M\n\tvariables\n\t\tx = 1\n\tequations\n\t\tder(x) = -y\nend\n"
    with pytest.raises(SymflowError) as info:
        symflow.loads(text, file="tabs.sf")
    lines = str(info.value).splitlines()
    assert lines[1] == "  --> tabs.sf:5:13"
    # Tabs count as one column each, and the excerpt keeps them aligned.
    source, carets = lines[3], lines[4]
    assert source.endswith("der(x) = -y")
    assert carets.index("^") == source.index("y")
