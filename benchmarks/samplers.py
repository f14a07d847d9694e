"""Diffusion samplers: accuracy per model evaluation, and time per sample batch.

    python benchmarks/samplers.py [--repeats 15] [--batch 10000] [--samples 1000]
    python benchmarks/samplers.py --models 1d3 --grid quadratic --skip-timing
    python benchmarks/samplers.py --models 1d3 --grid power --grid-exponent 1.25 --skip-timing
    python benchmarks/samplers.py --grids --grid-models 1d2,1d3 \
        --grid-list logsnr,quadratic,uniform,edm,power:1.25,power:1.5

1. RMSE of the final samples against a tight diffrax solve (Dopri8, rtol 1e-11)
   from the same initial noise, at NFE 10 and 20, for every symflow sampler
   (logSNR grid) beside diffrax Euler and Heun (fixed steps, NFE = steps and
   2*steps) and adaptive Dopri5 (its NFE counted from its steps), on the 1-D
   two-component mixture (examples/vp_sampler.sf), a 2-D three-component
   mixture, and a 1-D three-component mixture (the setting of the published
   reference points: DEIS tAB3 0.047 / 0.013, DPM-Solver++(2M) 0.11 / 0.024,
   DDIM 0.44 / 0.25 at NFE 10 / 20; their exact mixture and schedule were not
   found in the DEIS paper or its code, qsh-zh/deis, so the comparison is
   indicative).
2. Wall time of one batch (`--batch` samples, NFE 10) through `Model.simulate`,
   through the compiled program it runs, and through that program with the
   twin's score (`score=hw.mixture_score`, so only the sampler machinery
   differs; its samples are checked equal to the twin's to 1e-10), against the
   hand-written JAX twin of the same method (benchmarks/handwritten_samplers.py),
   interleaved, median of `--repeats`, compile apart.
"""

from __future__ import annotations

import argparse
import functools
import pathlib
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import handwritten_samplers as hw  # noqa: E402

import symflow  # noqa: E402
from symflow.solve.diffusion.samplers import SAMPLERS  # noqa: E402

SCHEDULE = """
  functions
    beta(t) = beta_min + t*(beta_max - beta_min)
    la(t) = -0.25*t^2*(beta_max - beta_min) - 0.5*t*beta_min
    v(t) = s^2*exp(2*la(t)) + 1 - exp(2*la(t))
"""

MIXTURE_2D = """
model Mixture2D
  parameters
    beta_min = 0.1
    beta_max = 20
    r = 2.0          # three components on a circle of radius r, 120 degrees apart
    s = 0.5
""" + SCHEDULE + """
    c(z, mu, t) = (z - mu*exp(la(t)))^2
    logp(x1, x2, t) = log(exp(-(c(x1, 0, t) + c(x2, r, t))/(2*v(t)))
                        + exp(-(c(x1, 0.8660254037844386*r, t) + c(x2, -0.5*r, t))/(2*v(t)))
                        + exp(-(c(x1, -0.8660254037844386*r, t) + c(x2, -0.5*r, t))/(2*v(t))))
  variables
    x1 ~ normal(0, 1)
    x2 ~ normal(0, 1)
  equations
    der(x1) = -0.5*beta(t)*x1 - 0.5*beta(t)*grad(logp(x1, x2, t), x1)
    der(x2) = -0.5*beta(t)*x2 - 0.5*beta(t)*grad(logp(x1, x2, t), x2)
  simulate
    tspan = [1, 1e-3]
end
"""

MIXTURE_3 = """
model Mixture3
  parameters
    beta_min = 0.1
    beta_max = 20
    m = 3.0          # three components at -m, 0, m
    s = 0.5
""" + SCHEDULE + """
    logp(x, t) = log(exp(-(x - m*exp(la(t)))^2/(2*v(t))) + exp(-x^2/(2*v(t)))
                     + exp(-(x + m*exp(la(t)))^2/(2*v(t))))
  variables
    x ~ normal(0, 1)
  equations
    der(x) = -0.5*beta(t)*x - 0.5*beta(t)*grad(logp(x, t), x)
  simulate
    tspan = [1, 1e-3]
end
"""


def batch_rhs(model):
    rhs = jax.vmap(model.generated.rhs, in_axes=(None, 0, None))
    return diffrax.ODETerm(lambda t, y, p: rhs(t, y, p))


def diffrax_solve(model, x0, solver, *, steps=None, rtol=None):
    p = model.complete_params(None)
    if steps is not None:
        controller, dt0, max_steps = diffrax.ConstantStepSize(), (1e-3 - 1.0) / steps, steps
    else:
        controller, dt0, max_steps = diffrax.PIDController(rtol=rtol, atol=rtol), -1e-2, 100_000
    sol = diffrax.diffeqsolve(batch_rhs(model), solver, 1.0, 1e-3, dt0, x0, p,
                              stepsize_controller=controller, max_steps=max_steps)
    return np.asarray(sol.ys[-1]), sol.stats


def rmse(a, b):
    return float(np.sqrt(np.mean(np.sum((np.asarray(a) - np.asarray(b)) ** 2, axis=-1))))


def accuracy(model, n_samples: int, grid: str = "logsnr", grid_exponent=None) -> dict:
    names = model.state_names
    x0 = np.asarray(jax.random.normal(jax.random.PRNGKey(0), (n_samples, len(names))))
    ref, _ = diffrax_solve(model, jnp.asarray(x0), diffrax.Dopri8(), rtol=1e-11)
    rows = {}
    for name in SAMPLERS:
        errs = []
        for nfe in (10, 20):
            initial = {k: x0[:, i] for i, k in enumerate(names)}
            sol = model.simulate(solver=name, steps=nfe, saveat=2, grid=grid,
                                 grid_exponent=grid_exponent, initial=initial)
            y = np.stack([np.asarray(sol[k][:, -1]) for k in names], axis=-1)
            errs.append(rmse(y, ref))
        rows[name] = errs
    rows["diffrax euler"] = [rmse(diffrax_solve(model, jnp.asarray(x0), diffrax.Euler(),
                                                steps=n)[0], ref) for n in (10, 20)]
    rows["diffrax heun"] = [rmse(diffrax_solve(model, jnp.asarray(x0), diffrax.Heun(),
                                               steps=n // 2)[0], ref) for n in (10, 20)]
    dopri = []
    for rtol in (1e-2, 1e-3, 1e-4):
        y, stats = diffrax_solve(model, jnp.asarray(x0), diffrax.Dopri5(), rtol=rtol)
        # FSAL: 6 new evaluations per attempted step, plus the first
        nfe = 6 * int(stats["num_steps"]) + 1
        dopri.append((rtol, nfe, rmse(y, ref)))
    rows["diffrax dopri5 (adaptive)"] = dopri
    return rows


def parse_grid(text: str):
    """`name` or `name:exponent` (power, edm) as the twins' grid argument."""
    name, _, exponent = text.partition(":")
    return (name, float(exponent)) if exponent else name


def grid_table(n_samples: int, model: str = "1d2",
               grids: tuple[str, ...] = ("logsnr", "quadratic", "uniform")) -> None:
    """NFE 10 / 20 errors of the hand-written twins on the given grids, on the 1-D
    two-component (`1d2`) or three-component (`1d3`) mixture; the twins equal the
    symflow samplers to 1e-13 (tests/solve/test_samplers.py), and compile faster."""
    params, noise, label = {"1d2": ({"m": 2.0, "s": 0.5}, hw.mixture_noise, "two"),
                            "1d3": ({"m": 3.0, "s": 0.5}, hw.mixture3_noise, "three")}[model]
    x0 = jax.random.normal(jax.random.PRNGKey(0), (n_samples, 1))

    def vf(t, x, p):
        la = -0.25 * t**2 * (hw.B1 - hw.B0) - 0.5 * t * hw.B0
        beta = hw.B0 + t * (hw.B1 - hw.B0)
        return -0.5 * beta * x + 0.5 * beta * noise(x, t, p) / jnp.sqrt(-jnp.expm1(2 * la))

    ref = diffrax.diffeqsolve(
        diffrax.ODETerm(vf), diffrax.Dopri8(), 1.0, 1e-3, -1e-3, x0, params,
        stepsize_controller=diffrax.PIDController(rtol=1e-11, atol=1e-11),
        max_steps=100_000).ys[-1]
    print(f"\nstep grids, 1-D {label}-component mixture, NFE 10 / 20 ({n_samples} samples)")
    print("| sampler | " + " | ".join(grids) + " |")
    print("| --- |" + " --- |" * len(grids))
    for name in hw.SAMPLERS:
        cells = []
        for grid in grids:
            errs = [float(jnp.sqrt(jnp.mean(
                (hw.sample(name, x0, params, n, parse_grid(grid), noise=noise) - ref) ** 2)))
                for n in (10, 20)]
            cells.append(f"{errs[0]:.3g} / {errs[1]:.3g}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def timing(model, name: str, batch: int, repeats: int, nfe: int = 10):
    """Median (and, second, minimum) wall time of `Model.simulate`, of the compiled
    sampling program it runs (`ends_fn`, the coefficients kept for the parameters),
    of that program with the twin's score (`hw.mixture_score`, so that only the
    sampler machinery differs), and of the hand-written twin; the four are called
    in turn in every repeat."""
    from symflow.solve.diffusion.side import SamplerConfig

    x0 = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (batch,)))
    params = {"m": jnp.asarray(2.0), "s": jnp.asarray(0.5)}

    x0j = jnp.asarray(x0)  # the twin's input: the same device array for both

    def ours():
        sol = model.simulate(solver=name, steps=nfe, saveat=2, initial={"x": x0j})
        return jax.block_until_ready(sol["x"])

    sampling = model.runner.sampling
    p = model.complete_params(model.params)
    xb = sampling._initial_from({"x": x0j})
    ts = jnp.asarray([hw.T0, hw.T1])
    configs = [SamplerConfig(solver=name, grid="logsnr", steps=nfe, t0=hw.T0, t1=hw.T1,
                             n_save=2, score=score) for score in (None, hw.mixture_score)]
    # the program `simulate` runs, with the coefficients it keeps for these parameters
    programs = [functools.partial(sampling.ends_fn(c), sampling.coefficients(c, p))
                for c in configs]

    def bare():
        return jax.block_until_ready(programs[0](p, xb, ts))

    def same_score():
        return jax.block_until_ready(programs[1](p, xb, ts))

    fn = hw.SAMPLERS[name]
    twin = jax.jit(lambda x, p: fn(hw.mixture_noise, x, p, nfe, "logsnr"))

    def theirs():
        return jax.block_until_ready(twin(x0j, params))

    contenders = (ours, bare, same_score, theirs)
    for f in contenders:  # compile
        f()
    final = np.asarray(programs[1](p, xb, ts)["x"])[:, -1].ravel()
    assert np.max(np.abs(final - np.asarray(theirs()))) < 1e-10, name
    samples = tuple([] for _ in contenders)
    for _ in range(repeats):
        for f, out in zip(contenders, samples):
            start = time.perf_counter()
            for _ in range(5):
                f()
            out.append((time.perf_counter() - start) / 5)
    return (tuple(float(np.median(x)) for x in samples),
            tuple(float(np.min(x)) for x in samples))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--grids", action="store_true", help="only the step-grid table")
    ap.add_argument("--grid", default="logsnr",
                    choices=("logsnr", "quadratic", "uniform", "power", "edm"),
                    help="step grid of the symflow samplers in the accuracy tables")
    ap.add_argument("--grid-exponent", type=float, default=None,
                    help="kappa of --grid power, rho of --grid edm (default 2, 7)")
    ap.add_argument("--grid-models", default="1d2",
                    help="--grids: the mixtures of the twins' tables (1d2, 1d3)")
    ap.add_argument("--grid-list", default="logsnr,quadratic,uniform",
                    help="--grids: the grids (name or name:exponent, e.g. power:1.5)")
    ap.add_argument("--models", default="1d2,2d3,1d3",
                    help="accuracy problems: 1d2 (examples/vp_sampler.sf), 2d3, 1d3")
    args = ap.parse_args()
    if args.grids:
        for key in args.grid_models.split(","):
            grid_table(args.samples, key, tuple(args.grid_list.split(",")))
        return
    one_d = symflow.load(HERE.parent / "examples" / "vp_sampler.sf")
    if not args.skip_accuracy:
        problems = {"1d2": ("1-D two-component mixture", lambda: one_d),
                    "2d3": ("2-D three-component mixture", lambda: symflow.loads(MIXTURE_2D)),
                    "1d3": ("1-D three-component mixture", lambda: symflow.loads(MIXTURE_3))}
        for key in args.models.split(","):
            label, make = problems[key]
            model = make()
            rows = accuracy(model, args.samples, args.grid, args.grid_exponent)
            exponent = "" if args.grid_exponent is None else f" {args.grid_exponent:g}"
            print(f"\n{label}: RMSE vs Dopri8 rtol 1e-11 ({args.samples} samples, "
                  f"{args.grid}{exponent} grid)")
            print(f"| {'method':26s} | NFE 10 | NFE 20 |")
            for name, errs in rows.items():
                if name.startswith("diffrax dopri5"):
                    text = ", ".join(f"{e:.3g} at NFE {n} (rtol {r:g})" for r, n, e in errs)
                    print(f"| {name:26s} | {text} |")
                else:
                    print(f"| {name:26s} | {errs[0]:.3g} | {errs[1]:.3g} |")
    if not args.skip_timing:
        print(f"\nwall time per batch of {args.batch} samples, NFE 10 (median of "
              f"{args.repeats}): symflow Model.simulate, its compiled program, the program "
              "with the twin's score, hand-written JAX")
        print("| sampler | simulate | compiled | compiled, twin's score | hand-written "
              "| simulate ratio | compiled ratio | same-score ratio | compiled ratio of minima |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for name in SAMPLERS:
            (a, c, d, b), (_, c_min, _, b_min) = timing(one_d, name, args.batch, args.repeats)
            print(f"| {name:18s} | {a * 1e3:.2f} ms | {c * 1e3:.2f} ms | {d * 1e3:.2f} ms "
                  f"| {b * 1e3:.2f} ms | {a / b:.2f}x | {c / b:.2f}x | {d / b:.2f}x "
                  f"| {c_min / b_min:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
