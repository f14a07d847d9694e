"""From a model's diffusion form to the schedule and noise prediction the samplers use.

`diffusion_setup` runs the diffusion-form analysis (`analysis/diffusion_form.py`)
and generates, with the ordinary code generator, `log α(t)`, `log σ(t)`,
`t(λ)` (when the analysis found it in closed form) and the score of each state;
`DiffusionSetup.term(params, score_fn=...)` builds the `DiffusionTerm` of a
batch of samples, with the noise prediction `ε̂ = -σ(t)·score` from the model,
or from a Python callable `score_fn(x, t, params)` given through the API.

The model's score is also generated in two parts (`_split_time_only`): its
state-free subexpressions (functions of t and the parameters: α(t), the noised
variance, ...) as one vector `g(t)` that the samplers compute for every step at
once, and the per-sample rest as a function of `g` and the state. Evaluated per
call instead, each of those scalars is a separate small kernel per model
evaluation (about ten per evaluation on the mixture model).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from ...analysis import LAMBDA, DiffusionForm, find_diffusion_form
from ...errors import Span
from ...symbolic import Parameter, System
from ..exponential import generate_functions
from .schedule import DiffusionSchedule, DiffusionTerm

__all__ = ["DiffusionSetup", "diffusion_setup"]


@dataclasses.dataclass(frozen=True, eq=False)
class DiffusionSetup:
    """The generated pieces of one model's diffusion form (hashed by identity)."""

    form: DiffusionForm
    schedule: DiffusionSchedule
    score: Callable  # (t, y, p) -> score of one sample (flat vector)
    schedule_params: frozenset[str] = frozenset()  # parameters α and σ depend on
    score_coefficients: Callable | None = None  # (t, p) -> g(t), the state-free parts
    score_from: Callable | None = None  # (g, y, p) -> score of one sample from g(t)

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

    def noise_parts(self, score_fn: Callable | None = None
                    ) -> tuple[Callable | None, Callable | None]:
        """`(coefficients(t, p), noise_from(g, x, p))`: ε̂ in two parts, `g` holding
        -σ(t) and the score's state-free subexpressions (times along the leading
        axes of `t`, the parts along the last axis of `g`); `(None, None)` for a
        Python `score_fn` or a model whose score was not split."""
        schedule, coefficients, one = self.schedule, self.score_coefficients, self.score_from
        if score_fn is not None or coefficients is None or one is None:  # set together
            return None, None
        score = jax.vmap(lambda g, y, p: one(g, y, p), in_axes=(None, 0, None))

        def parts(t, p):
            t = jnp.asarray(t, dtype=float)
            g = coefficients(t, p)
            return jnp.concatenate([-jnp.exp(schedule.log_sigma(t, p))[..., None], g], axis=-1)

        def noise_from(g, x, p):
            return g[..., 0] * score(g[..., 1:], x, p)

        return parts, noise_from

    def term(self, score_fn: Callable | None = None) -> DiffusionTerm:
        coefficients, noise_from = self.noise_parts(score_fn)
        return DiffusionTerm(self.schedule, self.noise_fn(score_fn), coefficients, noise_from)


def diffusion_setup(system: System, *, span: Span | None = None) -> DiffusionSetup:
    """Analyse `system` (final) and generate its schedule and score functions."""
    form = find_diffusion_form(system, span=span)
    names = [v.name for v in system.states]

    def scalar(expr: sp.Expr) -> Callable:
        vector = generate_functions(system, {n: expr for n in names})
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
    score = generate_functions(system, dict(form.score))
    names_of = {p.symbol: p.name for p in system.parameters}
    schedule_params = frozenset(names_of[x] for x in form.f.free_symbols if x in names_of)
    coefficients = score_from = None
    split = _split_time_only(system, dict(form.score))
    if split is not None:
        rest, hoisted = split
        parts = [scalar(expr) for _, expr in hoisted]

        def one(t, p):
            return jnp.stack([jnp.asarray(f(t, p), dtype=float) for f in parts])

        def coefficients(t, p):
            if t.ndim == 0:
                return one(t, p)
            return jax.vmap(lambda s: one(s, p))(t.ravel()).reshape(*t.shape, len(parts))

        extra = tuple(Parameter(name=symbol.name, symbol=symbol, default=sp.Integer(0),
                                value=0.0, bounds=None, doc=None, span=system.states[0].span)
                      for symbol, _ in hoisted)
        rest_fn = generate_functions(
            dataclasses.replace(system, parameters=system.parameters + extra), rest)
        names = [symbol.name for symbol, _ in hoisted]

        def score_from(g, y, p):
            return rest_fn(jnp.zeros(()), y, {**p, **{n: g[i] for i, n in enumerate(names)}})

    return DiffusionSetup(form=form, schedule=schedule, score=score,
                          schedule_params=schedule_params, score_coefficients=coefficients,
                          score_from=score_from)


def _split_time_only(system: System, exprs: dict[str, sp.Expr]
                     ) -> tuple[dict[str, sp.Expr], list[tuple[sp.Symbol, sp.Expr]]] | None:
    """The score with its maximal state-free subexpressions (and the state-free
    factors of each product and terms of each sum, grouped) replaced by new
    symbols: `(rest, [(symbol, subexpression)])`, or `None` where it does not
    apply (array states: a subexpression might be an array) or gains nothing."""
    if any(v.shape for v in system.states):
        return None
    states = frozenset(v.symbol for v in system.states)
    t = system.time
    taken = {p.name for p in system.parameters} | {v.name for v in system.states}
    table: dict[sp.Expr, sp.Symbol] = {}

    def hoist(e):
        if e not in table:
            name = f"score_part_{len(table)}"
            while name in taken:
                name = "_" + name
            table[e] = sp.Symbol(name, real=True)
        return table[e]

    def walk(e):
        if not (e.free_symbols & states):
            return hoist(e) if (e == t or not e.is_Atom) and e.has(t) else e
        if e.is_Atom:
            return e
        if isinstance(e, (sp.Mul, sp.Add)):
            free = [a for a in e.args if not (a.free_symbols & states)]
            parts = [walk(a) for a in e.args if a.free_symbols & states]
            if free:
                parts.append(walk(e.func(*free)))
            return e.func(*parts)
        return e.func(*(walk(a) for a in e.args))

    try:
        rest = {k: walk(v) for k, v in exprs.items()}
    except (TypeError, ValueError):  # a node that cannot be rebuilt from its arguments
        return None
    if not table or any(r.has(t) for r in rest.values()):
        return None
    return rest, [(symbol, expr) for expr, symbol in table.items()]


def _elementwise(fn: Callable) -> Callable:
    """A scalar function of `(t, p)` applied to a scalar or an array of times."""
    def apply(t, p):
        t = jnp.asarray(t, dtype=float)
        if t.ndim == 0:
            return fn(t, p)
        return jax.vmap(lambda s: fn(s, p))(t.ravel()).reshape(t.shape)
    return apply
