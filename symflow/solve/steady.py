"""Steady states: solve f(y, p) = 0, differentiated by the implicit function theorem.

The root is found by optimistix's Newton method from a guess (the model's
initial values by default). If Newton fails from there, the model is integrated
forward in time until it stops moving (diffrax's `SteadyStateEvent`), and Newton
is restarted from where it stopped. The returned state comes from a final
`optimistix.root_find` whose `ImplicitAdjoint` differentiates the *solution*
(dy*/dp = -(df/dy)^-1 df/dp), not the iterations, so the guess and the fallback
carry no gradient.

The implicit-function gradient is only right at a true root, so the residual
|f(y*, p)| is checked: outside a trace a failed solve raises `SymflowError`;
inside one, `SteadyState.converged` says whether it succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ..errors import SymflowError
from . import solvers as _solvers

if TYPE_CHECKING:
    from .runner import CompiledModel

__all__ = ["STABILITY_TOLERANCE", "SteadyState", "classify_stability", "steady_state"]

# A real part within this fraction of the spectral radius of zero is taken as zero:
# rounding in the eigenvalues of a centre (Lotka-Volterra's coexistence point) is
# about 1e-16 of the radius, a genuine decay far more.
STABILITY_TOLERANCE = 1e-8


def classify_stability(eigenvalues: np.ndarray) -> str:
    """`stable` (every real part below `-tol`), `unstable` (one above `tol`) or
    `marginal`, with `tol = STABILITY_TOLERANCE` times the spectral radius."""
    eigenvalues = np.asarray(eigenvalues)
    if eigenvalues.size == 0:
        return "stable"
    tol = STABILITY_TOLERANCE * float(np.max(np.abs(eigenvalues)))
    real = np.real(eigenvalues)
    if np.all(real < -tol):
        return "stable"
    return "unstable" if np.any(real > tol) else "marginal"


class SteadyState(eqx.Module):
    """A steady state: `values` by name (states and observed outputs), the flat
    state `y`, the residual norm max|f(y)|, whether the solve `converged`, whether
    the time-stepping `fallback` was used, the `eigenvalues` of df/dy there, and
    whether the state is `stable`: every eigenvalue's real part below
    `-STABILITY_TOLERANCE` times the spectral radius. `stability` says which of
    stable, unstable or marginal (a centre, a zero eigenvalue: linearisation does
    not decide) the state is."""

    values: dict[str, jax.Array]
    y: jax.Array
    residual: jax.Array
    converged: jax.Array
    fallback: jax.Array
    stable: jax.Array
    eigenvalues: jax.Array
    names: tuple[str, ...] = eqx.field(static=True, default=())

    @property
    def stability(self) -> str:
        """`stable`, `unstable` or `marginal` (on concrete values)."""
        return classify_stability(np.asarray(self.eigenvalues))

    def __getitem__(self, name: str) -> jax.Array:
        try:
            return self.values[name]
        except KeyError:
            raise SymflowError(f"the steady state has no variable or output named {name!r}",
                               help="it has: " + ", ".join(self.names)) from None


def steady_state(model: CompiledModel, params: Mapping[str, Any] | None = None, *,
                 guess: Mapping[str, Any] | None = None,
                 rtol: float = 1e-10, atol: float = 1e-10, max_steps: int = 256,
                 t: float = 0.0, fallback_steps: int = 10_000) -> SteadyState:
    """Solve `rhs(t, y, p) = 0` for `y`; see the module docstring.

    `rtol`, `atol` and `max_steps` are Newton's; `fallback_steps` bounds the time
    stepping; `t` is the time at which a time-dependent right-hand side is read.
    """
    p = model.complete_params(params)
    guess_values = model.initial_values(p, guess)
    fn = model.runner.steady_fn(rtol=rtol, atol=atol, max_steps=max_steps, t=t,
                         fallback_steps=fallback_steps)
    y0 = model.runner.simulator.pack(guess_values)
    out = fn(p, y0)
    if not isinstance(out.converged, jax.core.Tracer) and not bool(out.converged):
        best = ", ".join(f"{n} = {float(v):.6g}" for n, v in
                         zip(model.state_names, np.ravel(np.asarray(out.y))))
        raise SymflowError(
            f"no steady state found for {model.name}: max|f(y)| = {float(out.residual):.3g} "
            f"at the best point ({best})",
            help="Newton from the guess failed and time stepping did not settle: the model "
                 "may have no equilibrium, or it may be unstable; try guess=")
    return out


def make_steady_fn(model: CompiledModel, *, rtol: float, atol: float, max_steps: int, t: float,
                   fallback_steps: int) -> Callable:
    """The jitted `(params, y_guess) -> SteadyState` for one set of options."""
    g = model.generated
    simulator = model.runner.simulator
    settings = model.settings
    tol = atol + rtol  # residual accepted as a root, relative to the state's scale

    def f(y, params):
        return g.rhs(t, y, params)

    def newton(y_start, params):
        return optx.root_find(f, optx.Newton(rtol=rtol, atol=atol), y_start, args=params,
                              max_steps=max_steps, adjoint=optx.ImplicitAdjoint(),
                              throw=False)

    def is_root(sol, params):
        r = jnp.max(jnp.abs(f(sol.value, params)), initial=0.0)
        scale = 1.0 + jnp.max(jnp.abs(sol.value), initial=0.0)
        ok = (sol.result == optx.RESULTS.successful) & (r <= 1e3 * tol * scale)
        return ok & jnp.all(jnp.isfinite(sol.value)), r

    solver_name = settings.solver if settings.solver != "auto" else "kvaerno5"
    solver = _solvers.make_solver(solver_name)
    if _solvers.is_imex(solver_name):
        solver_name, solver = "kvaerno5", _solvers.make_solver("kvaerno5")

    def timestep(y_start, params):
        """Integrate until the state stops moving, from `y_start`."""
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda s, y, a: g.rhs(s, y, a)), solver, t0=t, t1=jnp.inf,
            dt0=None, y0=y_start, args=params,
            stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-10),
            event=diffrax.Event(diffrax.steady_state_event(rtol=1e-8, atol=1e-10)),
            max_steps=fallback_steps, throw=False,
            adjoint=diffrax.RecursiveCheckpointAdjoint())
        return sol.ys[-1]

    state_names = tuple(s.name for s in g.states)
    names = state_names + tuple(n for n, _ in g.observed)

    @jax.jit
    def start(params, y_guess):
        """Where to start the differentiated Newton solve: Newton from the guess, or,
        where that fails, the end of time stepping. Carries no gradient."""
        first = newton(y_guess, params)
        ok, _ = is_root(first, params)
        y = jax.lax.cond(ok, lambda: first.value, lambda: timestep(y_guess, params))
        return y, ~ok

    @jax.jit
    def final(params, y_start, fallback):
        sol = newton(y_start, params)  # differentiated implicitly
        frozen = jax.lax.stop_gradient(params)
        converged, r = is_root(sol, frozen)
        y = sol.value
        values = simulator.unpack(y)
        values.update(g.observed_fn(t, y, params))
        eig = jnp.linalg.eigvals(jax.jacfwd(f)(jax.lax.stop_gradient(y), frozen))
        margin = STABILITY_TOLERANCE * jnp.max(jnp.abs(eig), initial=0.0)
        return SteadyState(values=values, y=y, residual=r, converged=converged,
                           fallback=fallback, stable=jnp.all(jnp.real(eig) < -margin),
                           eigenvalues=eig, names=names)

    def solve(params, y_guess):
        # stop_gradient: under jax.grad, `start` runs undifferentiated (no JVP of the
        # time stepping is traced or compiled); only `final` is differentiated.
        y_start, fallback = start(jax.lax.stop_gradient(params),
                                  jax.lax.stop_gradient(y_guess))
        return final(params, y_start, fallback)

    return solve
