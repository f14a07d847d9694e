import sympy as sp

from symflow.lang import parse
from symflow.passes import fold_constants
from symflow.symbolic import build

MODEL = """
model Decay
  constants
    half = 0.5
    n = 3
  parameters
    k = 2*half        # a parameter may use constants
  variables
    x[n] = half
  equations
    der(x) = -k*x + half
  observed
    twice = 2*half*x
end
"""


def _system():
    return build(parse(MODEL))


def test_constants_disappear_from_every_expression():
    folded = fold_constants(_system())
    half = sp.Symbol("half", real=True)
    exprs = [e.rhs for e in folded.equations] + [o.expr for o in folded.observed]
    exprs += [v.initial for v in folded.variables] + [p.default for p in folded.parameters]
    assert all(half not in e.free_symbols for e in exprs)
    k = sp.Symbol("k", real=True)
    x = sp.Symbol("x", real=True)
    assert sp.simplify(folded.equations[0].rhs - (-k * x + sp.Rational(1, 2))) == 0
    assert folded.variables[0].initial == sp.Float(0.5)


def test_parameters_keep_their_symbols():
    folded = fold_constants(_system())
    (k,) = folded.free_parameters
    assert k.name == "k" and k.value == 1.0
    assert k.symbol in folded.equations[0].rhs.free_symbols


def test_integer_constants_fold_to_integers():
    # `n` folds to an exact integer, so shapes and powers stay exact.
    system = build(parse("""
model P
  constants
    n = 2
  variables
    x = 1
  equations
    der(x) = -x^n
end
"""))
    folded = fold_constants(system)
    x = sp.Symbol("x", real=True)
    assert folded.equations[0].rhs == -x**2
