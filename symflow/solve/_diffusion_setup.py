"""From a model's diffusion form to the schedule and noise prediction the samplers use.

`diffusion_setup` runs the diffusion-form analysis (`passes/diffusion_form.py`)
and generates, with the ordinary code generator, `log α(t)`, `log σ(t)`,
`t(λ)` (when the analysis found it in closed form) and the score of each state;
`DiffusionSetup.term(params, score_fn=...)` builds the `DiffusionTerm` of a
batch of samples, with the noise prediction `ε̂ = -σ(t)·score` from the model,
or from a Python callable `score_fn(x, t, params)` given through the API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from ..errors import Span
from ..passes.diffusion_form import LAMBDA, DiffusionForm, find_diffusion_form
from ..symbolic import System
from ._diffusion import DiffusionSchedule, DiffusionTerm
from ._semilinear_setup import _generate


__all__ = ["DiffusionSetup", "diffusion_setup"]


@dataclasses.dataclass(frozen=True, eq=False)
class DiffusionSetup:
    """The generated pieces of one model's diffusion form (hashed by identity)."""

    form: DiffusionForm
    schedule: DiffusionSchedule
    score: Callable  # (t, y, p) -> score of one sample (flat vector)
    schedule_params: frozenset[str] = frozenset()  # parameters α and σ depend on

    def noise_fn(self, score_fn: Callable | None = None) -> Callable:
        """`(t, x, p) -> ε̂` for a batch `x` (samples along the first axis)."""
        schedule = self.schedule
        if score_fn is None:
            one = self.score
            score = jax.vmap(lambda t, y, p: one(t, y, p), in_axes=(None, 0, None))
        else:
            def score(t, x, p):
                return score_fn(x, t, p)

        def noise(t, x, p):
            return -jnp.exp(schedule.log_sigma(t, p)) * score(t, x, p)

        return noise

    def term(self, score_fn: Callable | None = None) -> DiffusionTerm:
        return DiffusionTerm(self.schedule, self.noise_fn(score_fn))


def diffusion_setup(system: System, *, span: Span | None = None) -> DiffusionSetup:
    """Analyse `system` (final) and generate its schedule and score functions."""
    form = find_diffusion_form(system, span=span)
    names = [v.name for v in system.states]

    def scalar(expr: sp.Expr) -> Callable:
        vector = _generate(system, {n: expr for n in names})
        zeros = jnp.zeros(sum(v.size for v in system.states))
        return lambda t, p: vector(t, zeros, p)[0]

    if form.log_alpha is not None:
        log_alpha = scalar(form.log_alpha)
        log_sigma = scalar(form.log_sigma)
    else:  # ∫₀ᵗ f by 64-point Gauss–Legendre: f is smooth in t
        f = scalar(form.f)
        nodes, weights = (jnp.asarray(a) for a in np.polynomial.legendre.leggauss(64))

        def log_alpha(t, p):
            tau = 0.5 * t * (nodes + 1.0)
            return 0.5 * t * jnp.sum(weights * jax.vmap(lambda s: f(s, p))(tau))

        def log_sigma(t, p):
            return 0.5 * jnp.log(-jnp.expm1(2 * log_alpha(t, p)))

    t_of_lambda = None
    if form.t_of_lambda is not None:
        inverse = scalar(form.t_of_lambda.xreplace({LAMBDA: system.time}))
        t_of_lambda = _elementwise(inverse)
    lo, hi = sorted(float(x) for x in system.settings.tspan)
    schedule = DiffusionSchedule(_elementwise(log_alpha), _elementwise(log_sigma),
                                 t_of_lambda, span=(lo, hi))
    score = _generate(system, dict(form.score))
    names_of = {p.symbol: p.name for p in system.parameters}
    schedule_params = frozenset(names_of[x] for x in form.f.free_symbols if x in names_of)
    return DiffusionSetup(form=form, schedule=schedule, score=score,
                          schedule_params=schedule_params)


def _elementwise(fn: Callable) -> Callable:
    """A scalar function of `(t, p)` applied to a scalar or an array of times."""
    def apply(t, p):
        t = jnp.asarray(t, dtype=float)
        if t.ndim == 0:
            return fn(t, p)
        return jax.vmap(lambda s: fn(s, p))(t.ravel()).reshape(t.shape)
    return apply
