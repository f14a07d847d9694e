"""Projection of each step onto a DAE's invariants (Hairer & Wanner's projection method).

Index reduction turns the pendulum's `0 = x^2 + y^2 - L^2` into its second
derivative; the reduced ODE then holds only the acceleration-level constraint,
and the position- and velocity-level ones (the invariants `g(t, y) = 0` of the
ODE, `System.invariants`) drift with the integration error. The standard
projection method (Hairer, Lubich & Wanner, *Geometric Numerical Integration*,
§IV.4, Algorithm 4.2; Hairer & Wanner, *Solving ODEs II*, §VII.2) follows every
accepted step `y1` of any one-step method by the nearest point of the manifold
`g(t1, .) = 0`:

    minimize |W^-1 (y - y1)|  subject to  g(t1, y) = 0,

solved by simplified Newton iterations on the Lagrange multipliers with the
Jacobian `G = dg/dy` taken once at `y1`:

    y = y1 + W^2 G^T lam,   (G W^2 G^T) dlam = -g(t1, y),   lam += dlam.

The weights `W = atol + rtol |y1|` are the step-size controller's error scale,
so the distance is measured in the units the controller already uses. The
correction is of the size of the local error, so three iterations reach
rounding level; a rank-deficient `G W^2 G^T` (dependent invariants) is solved
by least squares. The projected point is also what the dense output between
steps ends at, and the next step starts from it (`made_jump=True`, so FSAL
methods re-evaluate the vector field there). Everything is plain JAX, so
gradients flow through the projection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._compat import AbstractAdaptiveSolver, use_stepsize_tol

__all__ = ["ProjectedSolver", "project_onto_invariants", "reinitialize"]


class ProjectedSolver(AbstractAdaptiveSolver):
    """Wraps a diffrax solver; projects the end of every step onto `invariants = 0`."""

    solver: diffrax.AbstractSolver
    invariants: Callable = eqx.field(static=True)  # (t, y, args) -> vector of g
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    iterations: int = eqx.field(static=True, default=3)

    @property
    def term_structure(self):
        return self.solver.term_structure

    @property
    def interpolation_cls(self):  # pyright: ignore
        return self.solver.interpolation_cls

    def order(self, terms):
        return self.solver.order(terms)

    def error_order(self, terms):
        return self.solver.error_order(terms)

    def init(self, terms, t0, t1, y0, args):
        return self.solver.init(terms, t0, t1, y0, args)

    def func(self, terms, t0, y0, args):
        return self.solver.func(terms, t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        # The previous step's end was moved by the projection: FSAL solvers must not
        # reuse the vector field they evaluated at the unprojected point.
        y1, y_error, dense_info, solver_state, result = self.solver.step(
            terms, t0, t1, y0, args, solver_state, True)
        y1 = self.project(t1, y1, args)
        if isinstance(dense_info, dict) and "y1" in dense_info:
            dense_info = {**dense_info, "y1": y1}
        return y1, y_error, dense_info, solver_state, result

    def project(self, t: ArrayLike, y: jax.Array, args: Any) -> jax.Array:
        """The point of `invariants(t, .) = 0` nearest to `y` in the weighted norm."""
        def g(z):
            return self.invariants(t, z, args)

        weight2 = (self.atol + self.rtol * jnp.abs(y)) ** 2
        jac = jax.jacfwd(g)(y)                     # G, (m, n)
        scaled = jac * weight2                     # G W^2
        gram_inverse = jnp.linalg.pinv(scaled @ jac.T)
        lam = jnp.zeros(jac.shape[0], dtype=y.dtype)
        for _ in range(self.iterations):
            lam = lam - gram_inverse @ g(y + scaled.T @ lam)
        return y + scaled.T @ lam


def reinitialize(invariants: Callable, t: ArrayLike, y_pre: jax.Array, y: jax.Array,
                 args: Any, *, iterations: int = 8) -> jax.Array:
    """A state consistent with `invariants(t, .) = 0` after an event set `y` from
    `y_pre`, by minimum-norm Newton corrections (the Jacobian taken afresh at each
    iteration: a reset is no small local error) on as few states as will do:

    1. the states the event changed are kept, and so are the states of every
       invariant the event left satisfied (a kick that changes a pendulum's velocity
       keeps its position, which satisfies the position constraint, and moves the
       other velocity);
    2. failing that, only the states the event changed are kept;
    3. failing that (the event set states that contradict each other), every state
       may move."""
    def g(z):
        return invariants(t, z, args)

    def newton(free: jax.Array) -> jax.Array:
        z = y
        for _ in range(iterations):
            jac = jax.jacfwd(g)(z) * free  # only the free states move
            z = z - jac.T @ (jnp.linalg.pinv(jac @ jac.T) @ g(z))
        return z

    scale = 1e-8 * (1.0 + jnp.max(jnp.abs(y)))
    changed = y != y_pre
    satisfied = jnp.abs(g(y)) <= scale
    in_satisfied = jnp.any((jax.jacfwd(g)(y) != 0) & satisfied[:, None], axis=0)
    fewest = newton(jnp.where(changed | in_satisfied, 0.0, 1.0))
    kept = newton(jnp.where(changed, 0.0, 1.0))
    moved = newton(jnp.ones_like(y))

    def holds(z):
        return jnp.max(jnp.abs(g(z)), initial=0.0) <= scale

    return jnp.where(holds(fewest), fewest, jnp.where(holds(kept), kept, moved))


def _root_finder_tols(solver: diffrax.AbstractSolver, rtol: float, atol: float):
    """What `diffeqsolve` does for an implicit solver whose root finder takes the
    step-size controller's tolerances: it cannot see through the wrapper."""
    finder = getattr(solver, "root_finder", None)
    if finder is None:
        return solver
    names = [a for a in ("rtol", "atol", "norm") if getattr(finder, a, None) is use_stepsize_tol]
    if not names:
        return solver
    values = {"rtol": rtol, "atol": atol, "norm": diffrax.PIDController(rtol=rtol, atol=atol).norm}
    return eqx.tree_at(lambda s: tuple(getattr(s.root_finder, a) for a in names), solver,
                       tuple(values[a] for a in names))


def project_onto_invariants(solver: diffrax.AbstractSolver, invariants: Callable, *,
                            rtol: float, atol: float) -> ProjectedSolver:
    """`solver` with every step projected onto `invariants(t, y, p) = 0`, where
    `invariants` is the generated module's function (a dict of values by index)."""
    def vector(t, y, args):
        values = invariants(t, y, args)
        return jnp.stack([jnp.asarray(values[k], dtype=y.dtype) for k in sorted(values, key=int)])

    return ProjectedSolver(_root_finder_tols(solver, rtol, atol), vector, rtol, atol)
