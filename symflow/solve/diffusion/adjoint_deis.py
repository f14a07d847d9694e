"""An O(1)-memory continuous adjoint of the probability-flow ODE in exponential-
integrator form (first order, in the spirit of AdjointDEIS, Blasingame & Liu 2024).

For `dx/dt = v = f x - σ λ' ε̂(x, t, θ)` (VP: α² + σ² = 1) and a loss of the
final sample, the adjoint `a = ∂L/∂x(t)` obeys `da/dt = -f a + σ λ' Jᵀ a`
(`J = ∂ε̂/∂x`). Its linear part is exact in `ã = α a`:

    dã/dλ = σ Jᵀ ã,            σ(λ) = (1 + e^{2λ})^{-1/2},  ∫ σ dλ = -asinh(e^{-λ}),

and the parameter gradient `∂L/∂θ = ∫_{T}^{ε} aᵀ ∂v/∂θ dt = -∫ e^{-λ} (∂ε̂/∂θ)ᵀ ã dλ`.
The backward pass starts from the final sample alone and walks the sampler's
grid back from ε to T, one score evaluation and one vector–Jacobian product per
step: `x` by DDIM run backwards (the PF-ODE is invertible), and

    ã_t = ã_s + (F(λ_t) - F(λ_s)) J(x_s)ᵀ ã_s,       F(λ) = -asinh(e^{-λ}),
    g_t = g_s - (e^{-λ_t} - e^{-λ_s}) (∂ε̂/∂θ)(x_s)ᵀ ã_s,

the exponential-Euler rules with the exact weights. Nothing is stored per
step: memory is that of one step, whatever `steps` is; the gradient is first
order in the step (it is the continuous adjoint discretized, not the exact
gradient of the discrete sampler that `checkpoint` gives).

Only the score's parameters are covered: parameters that the schedule (α, σ)
depends on get NaN gradients through this adjoint (use `adjoint="checkpoint"`).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from .schedule import DiffusionTerm

__all__ = ["adjoint_deis_sample"]


def adjoint_deis_sample(sample: Callable, term: DiffusionTerm, grid: Callable,
                        schedule_params: frozenset[str]) -> Callable:
    """Wrap `sample(params, x0) -> x_final` (any sampler) with the continuous adjoint.

    `grid(params)` gives the times of the backward pass (from T down to ε, the
    sampler's own evaluation grid); `schedule_params` are the parameter names the
    schedule depends on (their gradients are NaN).
    """
    sched = term.schedule

    @jax.custom_vjp
    def run(params, x0):
        return sample(params, x0)

    def forward(params, x0):
        x1 = sample(params, x0)
        return x1, (params, x1)

    def backward(residual, cotangent):
        params, x1 = residual
        ts = grid(params)[::-1]  # from ε back to T
        lams = sched.lam(ts, params)
        log_alpha = sched.log_alpha(ts, params)
        log_sigma = sched.log_sigma(ts, params)
        a_tilde = jnp.exp(log_alpha[0]) * cotangent
        g = jax.tree.map(jnp.zeros_like, params)

        def step(carry, i):
            x, a, g = carry
            s = ts[i]  # t = ts[i + 1] enters through lams, log_alpha, log_sigma
            eps, pull = jax.vjp(lambda x, p: term.noise(s, x, p), x, params)
            jt_a, dp = pull(a)
            h = lams[i + 1] - lams[i]
            x = jnp.exp(log_alpha[i + 1] - log_alpha[i]) * x \
                - jnp.exp(log_sigma[i + 1]) * jnp.expm1(h) * eps
            weight = jnp.arcsinh(jnp.exp(-lams[i])) - jnp.arcsinh(jnp.exp(-lams[i + 1]))
            a = a + weight * jt_a
            w_theta = jnp.exp(-lams[i + 1]) - jnp.exp(-lams[i])
            g = jax.tree.map(lambda g_, d: g_ - w_theta * d, g, dp)
            return (x, a, g), None

        (_, a_tilde, g), _ = jax.lax.scan(step, (x1, a_tilde, g), jnp.arange(len(ts) - 1))
        g = {k: (jnp.full_like(v, jnp.nan) if k in schedule_params else v)
             for k, v in g.items()}
        return g, jnp.exp(-log_alpha[-1]) * a_tilde

    run.defvjp(forward, backward)
    return run
