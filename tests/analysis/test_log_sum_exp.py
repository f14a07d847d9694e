"""The log-sum-exp gradient in softmax form (`analysis/log_sum_exp.py`): exact where
the naive ratio is finite, finite and right where it is 0/0.

References: the model's own right-hand side (the naive ratio SymPy's `diff`
gives; score = (rhs - f x)/f), the analytic score of an equal-weight two-Gaussian
mixture, `-x/v + (μ/v) tanh(μ x/v)`, and for three components a log-sum-exp
evaluated by NumPy/SciPy.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from scipy.special import logsumexp

import symflow
from symflow.analysis import softmax_form
from symflow.solve.diffusion.setup import diffusion_setup
from symflow.symbolic import Sigmoid, SoftmaxWeight

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_two_terms_become_one_sigmoid():
    x, a, b = sp.symbols("x a b", real=True)
    logp = sp.log(sp.exp(-(x - a) ** 2 / 2) + 3 * sp.exp(-(x + a) ** 2 / 2))
    naive = sp.diff(logp, x)
    rewritten = softmax_form(naive)
    assert rewritten.atoms(Sigmoid) and not rewritten.has(sp.exp(-(x - a) ** 2 / 2))
    (sig,) = rewritten.atoms(Sigmoid)
    # the quadratics cancel in the sigmoid's argument: ±(2 a x - log 3)
    assert sp.expand(sig.args[0]) in (2 * a * x - sp.log(3), sp.log(3) - 2 * a * x)
    f_new = sp.lambdify((x, a), rewritten.rewrite(sp.exp), "mpmath")
    f_old = sp.lambdify((x, a), naive, "mpmath")
    for xv, av in [(0.3, 1.0), (-1.7, 2.0), (2.5, 0.5)]:
        assert abs(float(f_new(xv, av) - f_old(xv, av))) < 1e-13


def test_three_terms_become_softmax_weights():
    x = sp.Symbol("x", real=True)
    logp = sp.log(sum(sp.exp(-(x - m) ** 2 / 2) for m in (-3, 0, 3)))
    rewritten = softmax_form(sp.diff(logp, x))
    assert len(rewritten.atoms(SoftmaxWeight)) == 3
    f = sp.lambdify(x, rewritten.rewrite(sp.exp), "mpmath")
    for xv in (-2.0, 0.4, 5.0):
        exact = float(sp.diff(logp, x).subs(x, sp.Float(xv, 40)).evalf(40))
        assert abs(float(f(xv)) - exact) < 1e-13


def test_other_expressions_are_left_alone():
    x, y = sp.symbols("x y", real=True)
    for expr in [x / (sp.exp(x) + y),                  # y is no exponential
                 (x + sp.exp(x)) / (sp.exp(x) + sp.exp(-x)),  # x carries no e^{a_k}
                 -sp.exp(x) / (y * sp.exp(x) + sp.exp(-x))]:  # y not known positive
        assert softmax_form(expr) == expr
    # inside a larger expression the ratio alone is rewritten, exactly
    expr = sp.exp(x) / (sp.exp(x) + sp.exp(2 * x)) + x * sp.sin(x)
    out = softmax_form(expr)
    assert out.has(Sigmoid) and out.has(sp.sin)
    f, g = (sp.lambdify(x, out.replace(Sigmoid, lambda z: 1 / (1 + sp.exp(-z))), "mpmath"),
            sp.lambdify(x, expr, "mpmath"))
    for xv in (-2.0, 0.1, 3.0):
        assert abs(float(f(xv) - g(xv))) < 1e-14


def test_derivatives_of_the_nodes():
    z, b0, b1, b2 = sp.symbols("z b0 b1 b2", real=True)
    s = Sigmoid(z)
    assert sp.simplify(sp.diff(s, z).rewrite(sp.exp) - sp.diff(s.rewrite(sp.exp), z)) == 0
    w = SoftmaxWeight(sp.Integer(1), b0, b1, b2)
    for v in (b0, b1, b2):
        d = sp.diff(w, v).rewrite(sp.exp) - sp.diff(w.rewrite(sp.exp), v)
        assert abs(float(d.subs({b0: 0.3, b1: -1.2, b2: 2.0}))) < 1e-14


MODEL = """
model Mix
  parameters
    beta_min = 0.1
    beta_max = 20
    m = 2.0
    s = {s}
  functions
    beta(t) = beta_min + t*(beta_max - beta_min)
    la(t) = -0.25*t^2*(beta_max - beta_min) - 0.5*t*beta_min
    v(t) = s^2*exp(2*la(t)) + 1 - exp(2*la(t))
    logp(x, t) = log({terms})
  variables
    x ~ normal(0, 1)
  equations
    der(x) = -0.5*beta(t)*x - 0.5*beta(t)*grad(logp(x, t), x)
  simulate
    tspan = [1, 1e-3]
    solver = ddim
    steps = 10
end
"""
TWO = "exp(-(x - m*exp(la(t)))^2/(2*v(t))) + exp(-(x + m*exp(la(t)))^2/(2*v(t)))"
THREE = TWO + " + exp(-x^2/(2*v(t)))"


def scores(model):
    """(softmax-form score, naive score from the right-hand side) of one sample."""
    setup = diffusion_setup(model.system)
    p = model.complete_params(None)
    f = setup.form.f

    def naive(t, x):
        rhs = model.generated.rhs(t, jnp.asarray([x]), p)[0]
        ft = float(sp.lambdify(model.system.time, f.subs(
            {q.symbol: float(q.value) for q in model.system.parameters}))(t))
        return (rhs - ft * x) / ft

    return (lambda t, x: float(setup.score(t, jnp.asarray([x]), p)[0])), naive, p


@pytest.mark.parametrize("terms", [TWO, THREE])
def test_score_equals_the_naive_ratio_where_it_is_finite(terms):
    model = symflow.loads(MODEL.format(s=0.5, terms=terms))
    new, naive, _ = scores(model)
    for t in (1.0, 0.5, 0.05, 1e-3):
        for x in (-3.0, -0.7, 0.0, 0.2, 1.9, 4.0):
            assert abs(new(t, x) - naive(t, x)) <= 1e-12 * max(1.0, abs(naive(t, x)))


def test_score_far_from_the_modes_is_finite_and_exact():
    """Unit-variance components (s = 1, so v = 1 at every t): at x = ±40 the naive
    ratio is 0/0 (each exponential underflows); the score is -x + μ tanh(μ x)."""
    model = symflow.loads(MODEL.format(s=1.0, terms=TWO))
    new, naive, p = scores(model)
    for t in (1.0, 0.3, 1e-3):
        la = -0.25 * t**2 * (20 - 0.1) - 0.5 * t * 0.1
        mu = 2.0 * np.exp(la)
        for x in (40.0, -40.0, 60.0):
            exact = -x + mu * np.tanh(mu * x)
            assert np.isfinite(new(t, x))
            assert abs(new(t, x) - exact) < 1e-12 * abs(exact)
        assert np.isnan(naive(t, 60.0))  # what the rewrite fixes
    # and its derivatives (jax.grad with respect to x and m) stay finite far out
    setup = diffusion_setup(model.system)
    g = jax.grad(lambda x, m: setup.score(0.3, jnp.reshape(x, (1,)), {**p, "m": m})[0],
                 argnums=(0, 1))(60.0, p["m"])
    assert all(np.isfinite(float(v)) for v in g)


def test_three_components_far_out_match_log_sum_exp():
    model = symflow.loads(MODEL.format(s=1.0, terms=THREE))
    new, _, _ = scores(model)
    t = 0.2
    la = -0.25 * t**2 * (20 - 0.1) - 0.5 * t * 0.1
    mu = 2.0 * np.exp(la)
    means = np.array([mu, -mu, 0.0])
    for x in (-45.0, 0.8, 50.0):
        a = -(x - means) ** 2 / 2
        w = np.exp(a - logsumexp(a))
        exact = float(np.sum(w * (means - x)))
        assert abs(new(t, x) - exact) < 1e-12 * max(1.0, abs(exact))
