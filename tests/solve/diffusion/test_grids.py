"""Step grids `power` and `edm`, DEIS ρAB and iPNDM (issue 7, sampler accuracy).

References, independent of the samplers: the closed-form linear VP schedule of
benchmarks/handwritten_samplers.py (the grids' defining property checked
directly), the hand-written twins, adaptive quadrature (SciPy) of the exact
exponential-integrator step for a noise prediction that is a polynomial in t
(tAB) or in ρ = σ/α (ρAB), and a tight diffrax solve (orders of convergence).
"""

from __future__ import annotations

import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import symflow
from symflow.errors import SymflowError
from symflow.solve.diffusion.samplers import DEIS, SAMPLERS, make_sampler
from symflow.solve.diffusion.schedule import (
    GRID_EXPONENTS,
    GRIDS,
    DiffusionSchedule,
    DiffusionTerm,
    step_grid,
)
from symflow.symbolic import SAMPLER_GRIDS

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "solve" / "diffusion"))
import handwritten_samplers as hw  # noqa: E402
from test_samplers import reference_solve, rms  # noqa: E402

N = 48


@pytest.fixture(scope="module")
def model():
    return symflow.load(ROOT / "examples" / "vp_sampler.sf")


@pytest.fixture(scope="module")
def noise():
    return np.asarray(jax.random.normal(jax.random.PRNGKey(7), (N,)))


def linear_vp() -> DiffusionSchedule:
    """The linear VP schedule in closed form (β from 0.1 to 20), in JAX."""
    def log_alpha(t, p):
        return -0.25 * t**2 * (hw.B1 - hw.B0) - 0.5 * t * hw.B0

    def log_sigma(t, p):
        return 0.5 * jnp.log(-jnp.expm1(2 * log_alpha(t, p)))

    def t_of_lambda(lam, p):
        ell = jnp.logaddexp(-2 * lam, 0.0)
        return 2 * ell / (jnp.sqrt(hw.B0**2 + 2 * (hw.B1 - hw.B0) * ell) + hw.B0)

    return DiffusionSchedule(log_alpha, log_sigma, t_of_lambda)


# ---------------------------------------------------------------- the grids


def test_grid_names_agree_between_checker_and_solver():
    assert tuple(SAMPLER_GRIDS) == tuple(GRIDS)
    assert set(GRID_EXPONENTS) == {"power", "edm"}


def test_power_grid_is_uniform_and_quadratic_at_exponents_1_and_2():
    sched = linear_vp()
    for kind, k in (("uniform", 1.0), ("quadratic", 2.0)):
        a = step_grid(kind, sched, None, 1.0, 1e-3, 9)
        b = step_grid("power", sched, None, 1.0, 1e-3, 9, exponent=k)
        assert np.max(np.abs(np.asarray(a) - np.asarray(b))) < 1e-15
    # the default exponent is 2 (quadratic)
    assert np.allclose(step_grid("power", sched, None, 1.0, 1e-3, 9),
                       step_grid("quadratic", sched, None, 1.0, 1e-3, 9), rtol=0, atol=1e-15)
    ts = np.asarray(step_grid("power", sched, None, 1.0, 1e-3, 9, exponent=1.5))
    assert np.allclose(np.diff(ts ** (1 / 1.5)), (1e-3 ** (1 / 1.5) - 1) / 9, atol=1e-14)


@pytest.mark.parametrize("rho", [None, 3.0])
def test_edm_grid_spaces_sigma_to_the_one_over_rho_evenly(rho):
    """Karras et al. (2022) eq. 5: σ_i^(1/ρ) evenly spaced from σ_max to σ_min,
    σ = σ_t/α_t, in the closed-form schedule of the twins (NumPy)."""
    ts = np.asarray(step_grid("edm", linear_vp(), None, 1.0, 1e-3, 10, exponent=rho))
    r = 7.0 if rho is None else rho
    sigma = np.exp(hw.log_sigma(ts) - hw.log_alpha(ts))
    steps = np.diff(sigma ** (1 / r))
    assert np.allclose(steps, steps[0], rtol=1e-9, atol=0)
    assert ts[0] == 1.0 and ts[-1] == 1e-3
    assert np.allclose(ts, hw.times("edm" if rho is None else ("edm", rho), 10), atol=1e-12)


def test_grid_exponent_is_checked(model, noise):
    with pytest.raises(SymflowError, match="grid = logsnr has no exponent"):
        model.simulate(solver="ddim", steps=5, grid="logsnr", grid_exponent=2.0,
                       initial={"x": noise})
    with pytest.raises(SymflowError, match="grid_exponent must be positive"):
        model.simulate(solver="ddim", steps=5, grid="power", grid_exponent=-1.0,
                       initial={"x": noise})
    with pytest.raises(SymflowError, match="grid_exponent must be a number"):
        model.simulate(solver="ddim", steps=5, grid="edm", grid_exponent="seven",
                       initial={"x": noise})
    text = (ROOT / "examples" / "vp_sampler.sf").read_text()
    with pytest.raises(SymflowError, match="grid must be uniform, quadratic, logsnr, power or edm"):
        symflow.loads(text.replace("grid = logsnr", "grid = karras"))
    with pytest.raises(SymflowError, match="grid_exponent must be positive"):
        symflow.loads(text.replace("grid = logsnr", "grid = power\n    grid_exponent = 0"))
    m = symflow.loads(text.replace("grid = logsnr", "grid = logsnr\n    grid_exponent = 2"))
    with pytest.raises(SymflowError, match="has no exponent") as info:
        m.simulate(trajectories=4)
    assert info.value.span is not None  # points at the line of the file


def test_grid_and_exponent_from_the_file(model, noise):
    text = (ROOT / "examples" / "vp_sampler.sf").read_text()
    m = symflow.loads(text.replace("grid = logsnr", "grid = power\n    grid_exponent = 1.5"))
    from_file = np.asarray(m.simulate(solver="ddim", steps=6, initial={"x": noise[:8]},
                                      saveat=2)["x"][:, -1])
    twin = hw.sample("ddim", jnp.asarray(noise[:8]), {"m": 2.0, "s": 0.5}, 6, ("power", 1.5))
    assert np.max(np.abs(from_file - np.asarray(twin))) < 1e-10
    # another grid from the caller does not inherit the file's exponent
    other = np.asarray(m.simulate(solver="ddim", steps=6, grid="logsnr", initial={"x": noise[:8]},
                                  saveat=2)["x"][:, -1])
    twin = hw.sample("ddim", jnp.asarray(noise[:8]), {"m": 2.0, "s": 0.5}, 6, "logsnr")
    assert np.max(np.abs(other - np.asarray(twin))) < 1e-10


# ---------------------------------------------------------------- against the twins


def sample(model, solver, steps, x0, grid="logsnr", exponent=None, **options):
    sol = model.simulate(solver=solver, steps=steps, grid=grid, grid_exponent=exponent,
                         initial={"x": x0}, saveat=2, **options)
    return np.asarray(sol["x"][:, -1])


NEW = ("ipndm", "deis_rho_1", "deis_rho_2", "deis_rho_3")


@pytest.mark.parametrize("name", [
    "ipndm", "deis_rho_3", *(pytest.param(n, marks=pytest.mark.slow)
                             for n in ("deis_rho_1", "deis_rho_2"))])
def test_new_samplers_match_hand_written_twin(model, noise, name):
    ours = sample(model, name, 7, noise)
    theirs = hw.sample(name, jnp.asarray(noise), {"m": 2.0, "s": 0.5}, 7)
    assert np.max(np.abs(ours - np.asarray(theirs))) < 1e-10
    assert np.max(np.abs(ours - noise)) > 0.1


@pytest.mark.parametrize("name,grid,exponent", [
    ("dpm_solver_3", "edm", None),  # intermediate points taken in the grid's coordinate
    ("deis_3", "power", 1.5),
    pytest.param("unipc_3", "edm", 5.0, marks=pytest.mark.slow),
    pytest.param("dpm_solver_2", "power", 3.0, marks=pytest.mark.slow),
    pytest.param("ipndm", "power", 1.25, marks=pytest.mark.slow),
    pytest.param("deis_rho_2", "edm", None, marks=pytest.mark.slow)])
def test_new_grids_match_hand_written_twin(model, noise, name, grid, exponent):
    ours = sample(model, name, 8, noise, grid, exponent)
    theirs = hw.sample(name, jnp.asarray(noise), {"m": 2.0, "s": 0.5}, 8,
                       grid if exponent is None else (grid, exponent))
    assert np.max(np.abs(ours - np.asarray(theirs))) < 1e-10


def test_new_samplers_count_their_evaluations(model, noise):
    """NFE counted honestly: a Python score that counts its calls, warm-up included."""
    rhs_score = model.runner.sampling.setup().score
    for name in ("ipndm", "deis_rho_3"):
        calls: list = []

        def score(x, t, p):
            jax.debug.callback(lambda: calls.append(1))
            return jax.vmap(rhs_score, in_axes=(None, 0, None))(t, x, p)

        sample(model, name, 6, noise[:4], "edm", score=score)
        jax.effects_barrier()
        assert len(calls) == 6, name


# ---------------------------------------------------------------- DEIS weights


def _one_step(solver: DEIS, eps_of_time, s: float, t: float, past: list[float]):
    """One DEIS step from `s` to `t` at full order, the history at the `past`
    times, for a noise prediction ε̂ = eps_of_time(t) that does not depend on x:
    returns the step's increment over the exact linear part, per unit ε̂."""
    sched = linear_vp()
    term = DiffusionTerm(sched, lambda tt, x, p: eps_of_time(tt) * jnp.ones_like(x))
    t_hist = jnp.asarray(past)
    eps_hist = jnp.stack([eps_of_time(jnp.asarray(u)) * jnp.ones((1,)) for u in past])
    state = (jnp.asarray(len(past)), t_hist, eps_hist)
    y0 = jnp.zeros((1,))
    y1, *_ = solver.step(term, jnp.asarray(s), jnp.asarray(t), y0, None, state, False)
    return float(y1[0])


@pytest.mark.parametrize("r", [1, 2, 3])
def test_deis_tab_is_exact_for_noise_polynomial_in_t(r):
    """tAB-r extrapolates ε̂ by a polynomial of degree r in t, so it integrates the
    exact step −α_t ∫ e^{-λ} ε̂ dλ without error when ε̂ is such a polynomial. The
    integral here: adaptive quadrature in t (SciPy), not Gauss–Legendre in λ."""
    coeffs = [0.3, -1.1, 0.7, 0.45][:r + 1]

    def eps(tt):
        return sum(c * tt**k for k, c in enumerate(coeffs))

    s, t = 0.42, 0.31
    past = [0.55, 0.71, 0.9][:r]

    def integrand(tau):
        # λ'(t) = (d log α/dt)/(1 - α²), d log α/dt = -β(t)/2
        beta = hw.B0 + tau * (hw.B1 - hw.B0)
        dlam = -0.5 * beta / -np.expm1(2 * hw.log_alpha(tau))
        return np.exp(-hw.lam(tau)) * dlam * eps(tau)

    exact = -np.exp(hw.log_alpha(t)) * integrate.quad(integrand, s, t, epsabs=1e-14,
                                                      epsrel=1e-12)[0]
    ours = _one_step(DEIS(r=r), eps, s, t, past)
    assert abs(ours - exact) < 1e-8 * max(1.0, abs(exact))


@pytest.mark.parametrize("r", [1, 2, 3])
def test_deis_rho_ab_is_exact_for_noise_polynomial_in_rho(r):
    """ρAB-r: in v = x/α, dv/dρ = ε̂, so the step is α_t ∫_{ρ_s}^{ρ_t} ε̂ dρ exactly
    (a polynomial antiderivative) when ε̂ is a polynomial of degree r in ρ = e^{-λ};
    tAB-r is not exact for it (the bases differ)."""
    coeffs = [0.3, -1.1, 0.7, 0.45][:r + 1]
    def rho(tt):
        return jnp.exp(-linear_vp().lam(jnp.asarray(tt, dtype=float), None))

    def eps(tt):
        x = rho(tt)
        return sum(c * x**k for k, c in enumerate(coeffs))

    s, t = 0.42, 0.31
    past = [0.55, 0.71, 0.9][:r]
    poly = np.polynomial.Polynomial(coeffs).integ()
    rs, rt = float(rho(s)), float(rho(t))
    exact = np.exp(hw.log_alpha(t)) * (poly(rt) - poly(rs))
    ours = _one_step(DEIS(r=r, basis="rho"), eps, s, t, past)
    assert abs(ours - exact) < 1e-10 * max(1.0, abs(exact))
    tab = _one_step(DEIS(r=r), eps, s, t, past)
    assert abs(tab - exact) > 1e-6 * abs(exact)


# ---------------------------------------------------------------- convergence


@pytest.fixture(scope="module")
def reference(model, noise):
    return np.asarray(reference_solve(model, jnp.asarray(noise)))


def observed_order(model, noise, reference, name, n1, n2, grid="logsnr"):
    # saveat = 3: the diffrax loop (compiles much faster than the unrolled ends)
    def final(n):
        return np.asarray(model.simulate(solver=name, steps=n, grid=grid, initial={"x": noise},
                                         saveat=3)["x"][:, -1])
    e1, e2 = rms(final(n1), reference), rms(final(n2), reference)
    return np.log(e1 / e2) / np.log(n2 / n1), e1, e2


@pytest.mark.parametrize("name,n1,n2,low,high", [
    # iPNDM's weights assume steps equal in ρ; on the logSNR grid it is of order 2
    # (measured 1.82 from 40 to 80, 1.97 from 80 to 160)
    ("ipndm", 80, 160, 1.8, 2.3),
    # ρAB-r is of order r + 1 (measured 3.32, 3.70 for r = 3; 1.85, 1.92 for r = 1)
    pytest.param("deis_rho_3", 80, 160, 3.3, 4.5, marks=pytest.mark.slow),
    pytest.param("deis_rho_1", 80, 160, 1.8, 2.2, marks=pytest.mark.slow),
])
def test_order_of_convergence_new_samplers(model, noise, reference, name, n1, n2, low, high):
    order, e1, e2 = observed_order(model, noise, reference, name, n1, n2)
    assert low < order < high, (order, e1, e2)


def test_every_sampler_has_a_twin():
    assert set(SAMPLERS) <= set(hw.SAMPLERS)
    assert isinstance(make_sampler("deis_rho_2", steps=5, grid="logsnr"), DEIS)
