"""Diffusion samplers on the two-component mixture of examples/vp_sampler.sf.

References, all independent of the samplers: a tight-tolerance diffrax solve of
the model's own right-hand side from the same initial noise (trajectories,
gradients), the hand-written JAX twins of benchmarks/handwritten_samplers.py
(every step computed separately, in NumPy and plain loops), the closed-form
linear schedule of the notes (λ(1) = -5.0250, ...), and the exact target
distribution (Wasserstein distance).
"""

from __future__ import annotations

import pathlib
import sys

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import symflow
from symflow.errors import SymflowError
from symflow.solve.diffusion.samplers import SAMPLERS, plan

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
import handwritten_samplers as hw  # noqa: E402

from models import model_text  # noqa: E402

N = 48  # samples per batch: the errors below are RMS over them


@pytest.fixture(scope="module")
def model():
    return symflow.load(ROOT / "examples" / "vp_sampler.sf")


@pytest.fixture(scope="module")
def noise():
    return np.asarray(jax.random.normal(jax.random.PRNGKey(7), (N,)))


def sample(model, solver, steps, x0, grid="logsnr", **options):
    sol = model.simulate(solver=solver, steps=steps, grid=grid, initial={"x": x0}, saveat=2,
                         **options)
    return np.asarray(sol["x"][:, -1])


def reference_solve(model, x0, params=None, rtol=1e-11):
    """The model's right-hand side, vectorized over the batch, by diffrax Dopri8."""
    p = model.complete_params(params)
    rhs = jax.vmap(model.generated.rhs, in_axes=(None, 0, None))
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, p: rhs(t, y, p)), diffrax.Dopri8(), 1.0, 1e-3, -1e-3,
        jnp.reshape(x0, (-1, 1)), p,
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol), max_steps=100_000)
    return sol.ys[-1, :, 0]


@pytest.fixture(scope="module")
def reference(model, noise):
    return np.asarray(reference_solve(model, jnp.asarray(noise)))


_trapezoid = getattr(np, "trapezoid", None) or np.trapz


def rms(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


# ---------------------------------------------------------------- the diffusion form


def test_schedule_is_read_off_the_equations(model):
    """α, σ, λ and t(λ) from the model's equations, against the notes' closed-form values."""
    setup = model.runner.sampling.setup()
    form, sched = setup.form, setup.schedule
    assert form.t_of_lambda is not None  # the quadratic was inverted symbolically
    p = model.complete_params(None)
    ts = np.concatenate([[1.0, 1e-3], np.geomspace(1e-3, 1.0, 50)])
    term = setup.term()
    x = jnp.linspace(-3, 3, 7)[:, None]

    @jax.jit
    def evaluate(ts, p):
        lam = sched.lam(ts, p)
        rebuilt = jax.vmap(lambda t: term.vf(t, x, p))(ts[2::10])
        direct = jax.vmap(lambda t: jax.vmap(model.generated.rhs, in_axes=(None, 0, None))(
            t, x, p))(ts[2::10])
        return (lam, sched.t_of_lambda(lam, p), sched.log_alpha(ts, p), sched.log_sigma(ts, p),
                rebuilt, direct)

    lam, back, log_alpha, log_sigma, rebuilt, direct = (np.asarray(a) for a in evaluate(ts, p))
    assert lam[0] == pytest.approx(-5.0250, abs=1e-4)
    assert lam[1] == pytest.approx(4.5577, abs=1e-4)
    assert np.exp(log_alpha[0]) == pytest.approx(0.006572, abs=1e-6)
    assert np.exp(log_sigma[1]) == pytest.approx(0.010485, abs=1e-6)
    assert np.max(np.abs(back - ts) / ts) < 1e-13
    assert np.allclose(hw.lam(ts), lam, rtol=0, atol=1e-13)
    # the right-hand side rebuilt from the form (f x - σ λ' ε̂) is the model's
    assert np.allclose(rebuilt, direct, rtol=1e-12, atol=1e-12)


def test_numeric_inversion_matches_closed_form(model):
    from symflow.solve.diffusion.schedule import DiffusionSchedule

    sched = model.runner.sampling.setup().schedule
    numeric = DiffusionSchedule(sched.log_alpha_fn, sched.log_sigma_fn, None, span=(0.0, 1.0))
    p = model.complete_params(None)
    lams = jnp.linspace(-5.0, 4.5, 11)

    @jax.jit
    def evaluate(p):
        # values, and the derivative in a schedule parameter (the numeric one by the
        # implicit function theorem)
        def at(s, b):
            return s.t_of_lambda(0.3, {**p, "beta_max": b})

        return (numeric.t_of_lambda(lams, p), sched.t_of_lambda(lams, p),
                jax.grad(lambda b: at(numeric, b))(p["beta_max"]),
                jax.grad(lambda b: at(sched, b))(p["beta_max"]))

    t_num, t_exact, d_num, d_exact = evaluate(p)
    assert np.allclose(t_num, t_exact, rtol=1e-13, atol=0)
    assert float(d_num) == pytest.approx(float(d_exact), rel=1e-8)


NOT_DIFFUSION = """
model NotDiffusion
  variables
    x = 1
    y = 0
  equations
    der(x) = -t*x + y
    der(y) = -2*y + sin(x)
end
"""


def test_not_of_diffusion_form_says_what_is_missing():
    m = symflow.loads(NOT_DIFFUSION)
    with pytest.raises(SymflowError, match="alpha could not be identified.*not one coefficient"):
        m.simulate(solver="ddim", steps=5, trajectories=2)
    m = symflow.loads(model_text("no_linear_term"))
    with pytest.raises(SymflowError, match="alpha could not be identified.*no term is linear"):
        m.simulate(solver="dpm_solver_pp_2m", steps=5, trajectories=2)
    m = symflow.loads(model_text("growing"))
    with pytest.raises(SymflowError, match="sigma could not be identified"):
        m.simulate(solver="ddim", steps=5, trajectories=2)


def test_steps_too_small_for_the_order(model, noise):
    with pytest.raises(SymflowError, match="too small for deis_3"):
        model.simulate(solver="deis_3", steps=3, initial={"x": noise})
    with pytest.raises(SymflowError, match="too small for dpm_solver_3"):
        model.simulate(solver="dpm_solver_3", steps=2, initial={"x": noise})
    with pytest.raises(SymflowError, match="unknown grid"):
        model.simulate(solver="ddim", steps=5, grid="cosine", initial={"x": noise})
    with pytest.raises(SymflowError, match="steps is an option of the diffusion samplers"):
        model.simulate(solver="tsit5", steps=5)


def test_settings_in_the_file_are_checked():
    text = (ROOT / "examples" / "vp_sampler.sf").read_text()
    with pytest.raises(SymflowError, match="grid must be uniform, quadratic, logsnr, power or edm"):
        symflow.loads(text.replace("grid = logsnr", "grid = cosine"))
    with pytest.raises(SymflowError, match="steps .* at least 1"):
        symflow.loads(text.replace("steps = 10", "steps = 0"))


def test_plan_spends_exactly_steps_evaluations():
    for name in SAMPLERS:
        for steps in range(SAMPLERS[name].min_steps, 40):
            costs = plan(name, steps)
            assert sum(costs) == steps
            if name == "dpm_solver_3":  # at least one third-order step, at most one DDIM
                assert max(costs) == 3 and costs.count(1) <= 1


# ---------------------------------------------------------------- against hand-written JAX


# dpm_solver_3 and unipc_3 are compared with their twins by the counting test below
DEFAULT_TWINS = ("dpm_solver_pp_2m", "deis_3")


@pytest.mark.parametrize("name", [
    *DEFAULT_TWINS,
    *(pytest.param(n, marks=pytest.mark.slow) for n in SAMPLERS if n not in DEFAULT_TWINS)])
def test_matches_hand_written_twin(model, noise, name):
    steps = 7
    ours = sample(model, name, steps, noise)
    theirs = hw.sample(name, jnp.asarray(noise), {"m": 2.0, "s": 0.5}, steps)
    assert np.max(np.abs(ours - np.asarray(theirs))) < 1e-10


@pytest.mark.parametrize("name,steps", [
    *((n, 7) for n in DEFAULT_TWINS), ("unipc_3", 24), ("ipndm", 24), ("dpm_solver_3", 25),
    *(pytest.param(n, s, marks=pytest.mark.slow) for n in SAMPLERS for s in (7, 24)
      if n not in DEFAULT_TWINS)])
def test_unrolled_ends_equal_the_diffrax_loop(model, noise, name, steps):
    """Saving the two ends runs the solver's steps unrolled, or beyond
    `unroll_steps` as scans over the runs of one variant (`ends_fn`);
    saving more runs them in `diffrax.diffeqsolve`: the final samples agree."""
    ends = sample(model, name, steps, noise)
    sol = model.simulate(solver=name, steps=steps, initial={"x": noise}, saveat=3)
    looped = np.asarray(sol["x"][:, -1])
    assert np.max(np.abs(ends - looped)) < 1e-12
    assert np.max(np.abs(ends - noise)) > 0.1  # the samples did move


def test_long_grids_are_scanned_not_unrolled(model, noise):
    """UniPC's program is straight-line code up to `unroll_steps` steps; beyond,
    its steady steps are one `scan` (so compile time does not grow with the
    steps). DDIM scans from two steps on. No diffrax loop either way."""
    from symflow.solve.diffusion.samplers import UniPC
    from symflow.solve.diffusion.samplers.base import step_runs as _runs
    from symflow.solve.diffusion.side import SamplerConfig

    assert _runs([1, 2, 3, 3, 3, (3, True)]) == [(0, 1, 1), (1, 2, 2), (2, 5, 3),
                                                 (5, 6, (3, True))]
    sampling = model.runner.sampling
    p = model.complete_params(model.params)
    xb = sampling._initial_from({"x": noise[:4]})
    ts = jnp.asarray([1.0, 1e-3])
    for name, steps, scanned in (("unipc_3", UniPC.unroll_steps, False),
                                 ("unipc_3", UniPC.unroll_steps + 8, True),
                                 ("ddim", 3, True)):
        config = SamplerConfig(solver=name, grid="logsnr", steps=steps, t0=1.0, t1=1e-3,
                               n_save=2)
        c = sampling.coefficients(config, p)
        text = str(jax.make_jaxpr(sampling.ends_fn(config))(c, p, xb, ts))
        assert ("scan[" in text) == scanned, (name, steps)
        assert "while[" not in text


@pytest.mark.slow
@pytest.mark.parametrize("grid", ["uniform", "quadratic"])
@pytest.mark.parametrize("name", ["ddim", "dpm_solver_2", "dpm_solver_3", "unipc_3", "deis_2"])
def test_matches_hand_written_twin_on_time_grids(model, noise, name, grid):
    ours = sample(model, name, 8, noise, grid=grid)
    theirs = hw.sample(name, jnp.asarray(noise), {"m": 2.0, "s": 0.5}, 8, grid)
    assert np.max(np.abs(ours - np.asarray(theirs))) < 1e-10


# ---------------------------------------------------------------- NFE counted honestly


def counting_score(model, calls):
    """The model's own score, as a Python callable that counts its evaluations."""
    rhs_score = model.runner.sampling.setup().score

    def score(x, t, p):
        jax.debug.callback(lambda: calls.append(1))
        return jax.vmap(rhs_score, in_axes=(None, 0, None))(t, x, p)

    return score


@pytest.mark.parametrize("name,steps", [
    ("dpm_solver_3", 8), ("unipc_3", 7),
    *(pytest.param(n, 7, marks=pytest.mark.slow) for n in SAMPLERS
      if n not in ("dpm_solver_3", "unipc_3"))])
def test_steps_count_score_evaluations(model, noise, name, steps):
    calls: list = []
    x = sample(model, name, steps, noise[:4], score=counting_score(model, calls))
    jax.effects_barrier()
    assert len(calls) == steps
    # the Python score gives the samples of the model's own (the hand-written twin's)
    twin = hw.sample(name, jnp.asarray(noise[:4]), {"m": 2.0, "s": 0.5}, steps)
    assert np.max(np.abs(x - np.asarray(twin))) < 1e-10


# ---------------------------------------------------------------- convergence


def observed_order(model, noise, reference, name, n1, n2):
    e1 = rms(sample(model, name, n1, noise), reference)
    e2 = rms(sample(model, name, n2, noise), reference)
    return np.log(e1 / e2) / np.log(n2 / n1), e1, e2


# (sampler, NFE pair in its asymptotic range, lowest order accepted, highest)
ORDERS = [
    ("ddim", 20, 40, 0.9, 1.1),
    ("dpm_solver_pp_2m", 80, 160, 1.8, 2.2),
    ("unipc_3", 40, 80, 2.8, 5.5),  # UniPC-p with UniC is of order p + 1 (measured 4-5)
    pytest.param("deis_3", 80, 160, 2.8, 4.5, marks=pytest.mark.slow),  # test-time budget
]


@pytest.mark.parametrize("name,n1,n2,low,high", ORDERS)
def test_order_of_convergence(model, noise, reference, name, n1, n2, low, high):
    order, e1, e2 = observed_order(model, noise, reference, name, n1, n2)
    assert low < order < high, (order, e1, e2)


@pytest.mark.slow
def test_error_table_every_sampler(model, noise, reference):
    """Errors at NFE 5, 10, 20, 50 for every sampler (printed with -s): every sampler
    improves from 10 to 50, and the higher orders beat DDIM at 20 and 50."""
    table = {}
    for name in SAMPLERS:
        table[name] = [rms(sample(model, name, n, noise), reference)
                       if n >= SAMPLERS[name].min_steps else np.nan for n in (5, 10, 20, 50)]
        print(f"{name:18s}", " ".join(f"{e:9.2e}" for e in table[name]))
    for name, errs in table.items():
        assert errs[3] < errs[1]
        if name != "ddim":
            assert errs[2] < table["ddim"][2] and errs[3] < table["ddim"][3]


@pytest.mark.slow
@pytest.mark.parametrize("name,n1,n2,low", [
    ("dpm_solver_2", 80, 160, 1.8), ("dpm_solver_3", 81, 162, 2.6),
    ("unipc_2", 80, 160, 2.5), ("deis_1", 160, 320, 1.8), ("deis_2", 80, 160, 2.2)])
def test_order_of_convergence_others(model, noise, reference, name, n1, n2, low):
    order, e1, e2 = observed_order(model, noise, reference, name, n1, n2)
    assert order > low, (order, e1, e2)


def test_samples_follow_the_target_distribution(model):
    """1-D Wasserstein distance of 4000 samples to the exact mixture: small, and far
    smaller than that of the standard normal the sampler started from."""
    sol = model.simulate(solver="unipc_3", steps=20, trajectories=4000, saveat=2, seed=3)
    x = np.sort(np.asarray(sol["x"][:, -1]))
    grid = np.linspace(-6, 6, 4001)
    # exact target after the forward process to t = 1e-3: ½N(±α m, α² s² + σ²)
    a = np.exp(hw.log_alpha(1e-3))
    sd = np.sqrt(a**2 * 0.5**2 + 1 - a**2)
    cdf = 0.5 * stats.norm.cdf(grid, -a * 2.0, sd) + 0.5 * stats.norm.cdf(grid, a * 2.0, sd)
    empirical = np.searchsorted(x, grid, side="right") / x.size
    w1 = _trapezoid(np.abs(empirical - cdf), grid)
    w1_start = _trapezoid(np.abs(stats.norm.cdf(grid) - cdf), grid)
    assert w1 < 0.05 and w1 < w1_start / 20, (w1, w1_start)


# ---------------------------------------------------------------- gradients


@pytest.fixture(scope="module")
def gradient_problem(model, noise):
    x0 = jnp.asarray(noise[:8])
    p0 = {"m": jnp.asarray(2.0), "s": jnp.asarray(0.5)}

    def loss_ref(x0, p):
        return jnp.mean(jnp.sin(reference_solve(model, x0, p, rtol=1e-10)))

    g_ref = jax.jit(jax.grad(loss_ref, argnums=(0, 1)))(x0, p0)
    return x0, p0, g_ref


def gradient_error(model, gradient_problem, solver, steps):
    x0, p0, g_ref = gradient_problem

    def loss(x0, p):
        sol = model.simulate(p, solver=solver, steps=steps, initial={"x": x0}, saveat=2)
        return jnp.mean(jnp.sin(sol["x"][:, -1]))

    gx, gp = jax.grad(loss, argnums=(0, 1))(x0, p0)
    return max(float(jnp.max(jnp.abs(gx - g_ref[0]))), abs(float(gp["m"] - g_ref[1]["m"])),
               abs(float(gp["s"] - g_ref[1]["s"])))


def test_gradients_through_the_sampler(model, gradient_problem):
    """d(loss)/d(initial noise) and d(loss)/d(m, s) through UniPC-3 (checkpointed,
    discretize-then-optimize) against jax.grad through a tight diffrax solve."""
    assert gradient_error(model, gradient_problem, "unipc_3", 80) < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("solver,low", [("ddim", 0.8), ("dpm_solver_pp_2m", 1.6),
                                        ("unipc_3", 2.5), ("deis_3", 2.5)])
def test_gradient_error_converges_at_the_order(model, gradient_problem, solver, low):
    e1, e2 = (gradient_error(model, gradient_problem, solver, n) for n in (40, 80))
    order = np.log2(e1 / e2)
    print(solver, e1, e2, order)
    assert order > low, (e1, e2, order)


def test_continuous_adjoint_deis(model, gradient_problem):
    """adjoint = deis: the first-order exponential-integrator adjoint, from the final
    samples only (O(1) memory in the steps). Its error against the exact gradient
    is first order (measured 0.034, 0.019, 0.0097 at 40, 80, 160 steps); the
    schedule's parameters get NaN, not a silently partial gradient."""
    x0, p0, g_ref = gradient_problem

    def loss(x0, p):
        sol = model.simulate(p, solver="ddim", steps=80, initial={"x": x0}, saveat=2,
                             adjoint="deis")
        return jnp.mean(jnp.sin(sol["x"][:, -1]))

    gx, gp = jax.grad(loss, argnums=(0, 1))(x0, {**p0, "beta_max": jnp.asarray(20.0)})
    error = max(float(jnp.max(jnp.abs(gx - g_ref[0]))), abs(float(gp["m"] - g_ref[1]["m"])),
                abs(float(gp["s"] - g_ref[1]["s"])))
    assert error < 0.025, error
    assert np.isnan(float(gp["beta_max"]))


@pytest.mark.slow
def test_continuous_adjoint_deis_is_first_order(model, gradient_problem):
    x0, p0, g_ref = gradient_problem
    errors = []
    for steps in (40, 80, 160):
        def loss(x0, p):
            sol = model.simulate(p, solver="unipc_3", steps=steps, initial={"x": x0},
                                 saveat=2, adjoint="deis")
            return jnp.mean(jnp.sin(sol["x"][:, -1]))

        gx, gp = jax.grad(loss, argnums=(0, 1))(x0, p0)
        errors.append(max(float(jnp.max(jnp.abs(gx - g_ref[0]))),
                          abs(float(gp["m"] - g_ref[1]["m"])),
                          abs(float(gp["s"] - g_ref[1]["s"]))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 0.8) and np.all(orders < 1.3), (errors, orders)


@pytest.mark.slow  # three fresh processes, each compiling
def test_cli_show_and_run_a_sampler(tmp_path):
    """`symflow show --stage diffusion` prints the schedule; `symflow run` samples."""
    import subprocess

    path = ROOT / "examples" / "vp_sampler.sf"
    shown = subprocess.run([sys.executable, "-m", "symflow.cli", "show", str(path), "--stage",
                            "diffusion"], capture_output=True, text=True, cwd=ROOT)
    assert shown.returncode == 0, shown.stderr
    assert "log alpha(t) = " in shown.stdout and "logaddexp" in shown.stdout
    out = tmp_path / "samples.npz"
    ran = subprocess.run([sys.executable, "-m", "symflow.cli", "run", str(path), "--solver",
                          "ddim", "--steps", "4", "--trajectories", "200", "--saveat", "2",
                          "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert ran.returncode == 0, ran.stderr
    x = np.load(out)["x"][:, -1]
    assert x.shape == (200,) and 1.5 < np.std(x) < 2.6  # the mixture's sd is 2.06
    bad = subprocess.run([sys.executable, "-m", "symflow.cli", "run", str(path), "--solver",
                          "deis_3", "--steps", "2"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and "too small for deis_3" in bad.stderr


def test_continuous_adjoint_memory_does_not_grow_with_the_steps(model, noise):
    """XLA's temporaries of the compiled gradient: flat in the steps for
    `adjoint = deis`, one batch per step for `checkpoint`
    (benchmarks/sampler_memory.py)."""
    x0 = jnp.asarray(np.resize(noise, 4000))
    p = {"m": jnp.asarray(2.0), "s": jnp.asarray(0.5)}

    def temp(adjoint, steps):
        def loss(x0, p):
            sol = model.simulate(p, solver="ddim", steps=steps, initial={"x": x0},
                                 saveat=2, adjoint=adjoint)
            return jnp.mean(jnp.sin(sol["x"][:, -1]))

        compiled = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(x0, p).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    batch = x0.size * 8
    deis = [temp("deis", n) for n in (10, 60)]
    checkpoint = [temp("checkpoint", n) for n in (10, 60)]
    assert abs(deis[1] - deis[0]) < batch, deis
    assert checkpoint[1] - checkpoint[0] > 40 * batch, checkpoint
