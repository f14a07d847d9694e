"""Scalar special functions that SymPy lacks and the passes emit: the logistic
sigmoid and a softmax weight; and `floor`/`ceiling` with the derivative autodiff has.

They stand for numerically stable forms of ratios of exponentials:
`Sigmoid(z) = 1/(1 + e^{-z})` and `SoftmaxWeight(k, b_0, ..., b_{n-1}) =
e^{b_k}/Σ_j e^{b_j}`. Written out, those ratios overflow or become 0/0 where
every exponential underflows; codegen prints these nodes as `jax.nn.sigmoid`
and `jax.nn.softmax` (max-shifted), which never do, and whose derivatives are
stable too. Both differentiate symbolically (`σ' = σ(1 - σ)`,
`∂w_k/∂b_j = w_k(δ_kj - w_j)`) and rewrite to exponentials
(`expr.rewrite(sympy.exp)`), e.g. for evaluation at high precision.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["Ceiling", "Floor", "Sigmoid", "SoftmaxWeight"]


class Sigmoid(sp.Function):
    """The logistic function `1/(1 + e^{-z})`."""

    nargs = 1
    is_real = True

    @classmethod
    def eval(cls, z):
        if z.is_Number:
            return 1 / (1 + sp.exp(-z))
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sp.exp(-z))


class SoftmaxWeight(sp.Function):
    """`e^{b_k}/Σ_j e^{b_j}` for `SoftmaxWeight(k, b_0, ..., b_{n-1})`, k an integer."""

    is_real = True

    @classmethod
    def eval(cls, k, *b):
        if not (k.is_Integer and 0 <= int(k) < len(b)):
            raise ValueError("SoftmaxWeight(k, b_0, ..., b_{n-1}) needs 0 <= k < n")
        return None

    def fdiff(self, argindex=1):
        if argindex == 1:
            return sp.Integer(0)
        k, *b = self.args
        j = argindex - 2
        w_j = SoftmaxWeight(sp.Integer(j), *b)
        return self * ((1 if j == int(k) else 0) - w_j)

    def _eval_rewrite_as_exp(self, k, *b, **kwargs):
        return sp.exp(b[int(k)]) / sp.Add(*(sp.exp(x) for x in b))


class Floor(sp.floor):
    """`floor(x)`, the largest integer not above x, whose derivative is 0.

    A step function: its derivative is 0 almost everywhere (and undefined at the
    integers, where it jumps). SymPy leaves `d/dx floor(x)` unevaluated, which no
    printer can print; the passes that differentiate (index reduction, tearing,
    Rosenbrock Jacobians, `grad`) get 0 here, as `jax.grad` of `jnp.floor` does.
    """

    def fdiff(self, argindex=1):
        return sp.Integer(0)


class Ceiling(sp.ceiling):
    """`ceiling(x)`, the smallest integer not below x; derivative 0, as `Floor`."""

    def fdiff(self, argindex=1):
        return sp.Integer(0)
