"""`symflow run`: simulate a model (one solve, an ensemble, a sample batch, or its
steady state) and print, save or plot the result."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from .. import catalog
from ._common import EXIT_OK, UsageError, check_outputs, load_model, parse_saveat, parse_sets, wrote
from ._train import add_weights_argument, apply_weights

__all__ = ["add_parser", "run"]


def add_parser(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The `run` subcommand and its options."""
    run = add("run", "simulate the model")
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter or an initial value (repeatable); an array "
                          "is written [1,2,3] (an array parameter such as r.R also takes one "
                          "number for all its elements)")
    run.add_argument("--tspan", nargs=2, type=float, metavar=("T0", "T1"),
                     help="the time span (default: the model's `tspan`)")
    run.add_argument("--solver", help="solver name (tsit5, kvaerno5, ..., auto)")
    run.add_argument("--rtol", type=float, help="relative tolerance of adaptive steps")
    run.add_argument("--atol", type=float, help="absolute tolerance of adaptive steps")
    run.add_argument("--dt", type=float,
                     help="the initial step (the fixed step of euler; of heun, midpoint "
                          "and ralston; of the exponential integrators)")
    run.add_argument("--max-steps", type=int,
                     help="give up after this many steps (default: the model's, else 100000)")
    run.add_argument("--saveat", metavar="N|T1,T2,...",
                     help="a number of evenly spaced points, or a comma-separated list")
    run.add_argument("-o", "--output", help="write the solution to .csv, .npz or .nc (NetCDF, "
                                               "needs xarray: pip install symflow[data])")
    run.add_argument("--plot", metavar="PNG", help="plot the trajectories to an image file")
    run.add_argument("--interpretation", choices=catalog.INTERPRETATIONS,
                     help="how a reaction network is solved: its rate ODEs, the chemical "
                          "Langevin SDE, or exact stochastic simulation (docs/reactions.md)")
    run.add_argument("--timings", action="store_true",
                     help="print the time of each stage (parse, passes, codegen, XLA, solve)")
    ensemble = run.add_argument_group("SDEs and ensembles (docs/sde.md)")
    ensemble.add_argument("--trajectories", type=int, metavar="N",
                          help="run an ensemble of N trajectories")
    ensemble.add_argument("--seed", type=int, help="the seed of the ensemble's random keys")
    ensemble.add_argument("--noise", choices=catalog.CALCULI,
                          help="the calculus of the SDE (default: the model's, else ito)")
    ensemble.add_argument("--stats-only", action="store_true",
                          help="keep mean, std and quantiles only, not the paths")
    ensemble.add_argument("--save-noise", action="store_true",
                          help="also keep each trajectory's Brownian path W(t) at the saved "
                               "times, as outputs named after the model's Brownian motions")
    ensemble.add_argument("--sweep", action="append", default=[], metavar="NAME=A:B:N",
                          help="sweep a parameter over N values from A to B (repeatable: "
                               "the sweeps form a grid)")
    ensemble.add_argument("--chunk-size", type=int, metavar="N",
                          help="run the ensemble N trajectories at a time")
    progress = run.add_mutually_exclusive_group()
    samplers = run.add_argument_group("diffusion samplers (docs/samplers.md)")
    samplers.add_argument("--steps", type=int, metavar="N",
                          help="model (score) evaluations of a sampler (NFE)")
    samplers.add_argument("--grid", choices=catalog.SAMPLER_GRIDS,
                          help="the sampler's step grid")
    samplers.add_argument("--grid-exponent", type=float, metavar="X",
                          help="kappa of --grid power (t^(1/kappa) evenly spaced, default 2) "
                               "or rho of --grid edm (sigma^(1/rho), default 7)")
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="show a progress bar (default: when stderr is a terminal)")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="no progress bar")
    add_weights_argument(run)
    run.add_argument("--steady", action="store_true",
                     help="print the steady state (f(y) = 0) instead of simulating")


def run(args: argparse.Namespace) -> int:
    """Simulate: from a kept program if this run's was kept by an earlier process
    (`_kept.py`), else load the model, solve it (keeping its program where it can),
    and print, save or plot the result."""
    import numpy as np

    from ..progress import stage
    from . import _kept

    if args.solver is not None:
        args.solver = args.solver.lower()  # solver names are not case-sensitive
    check_outputs(args, ("-o", args.output), ("--plot", args.plot),
                  inputs=(args.weights,) if args.weights else ())
    kept = _kept.kept_run(args)
    if kept is not None and not args.output:  # printing needs no model: only its program
        hit = _kept.run_kept(kept)
        if hit is not None:
            meta, values = hit
            _kept.print_final(meta["model"], meta["solver"], np.asarray(meta["ts"]), values,
                              meta["names"])
            return EXIT_OK
    with stage("importing JAX and diffrax"):
        from .. import api  # noqa: F401  (timed as its own stage)
    m = load_model(args)
    if args.interpretation is not None:
        m = m.interpreted(args.interpretation)
    params, initial = parse_sets(args.set, m)
    if args.weights:
        params = apply_weights(m, args.weights, params)
    options: dict[str, Any] = {}
    if args.tspan is not None:
        options["tspan"] = tuple(args.tspan)
    if args.saveat is not None:
        options["saveat"] = parse_saveat(args.saveat)
    stochastic = _ensemble_options(args, m)
    for name in ("solver", "rtol", "atol", "dt", "max_steps"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if stochastic is not None:
        return _run_ensemble(args, m, params, initial, options, stochastic)
    if args.plot and args.saveat is None and _dense_plot(m):
        options["dense"] = True  # smooth curves from the solver's interpolant
    _check_solver(args.solver)
    if args.output and os.path.splitext(args.output)[1].lower() not in (".csv", ".npz", ".nc"):
        raise UsageError(f"-o {args.output}: write a .csv, .npz or .nc file")
    if args.output and args.output.lower().endswith(".nc"):
        import importlib.util

        if importlib.util.find_spec("xarray") is None:  # before the solve, not after
            raise UsageError(f"-o {args.output}: NetCDF is written through xarray, which is "
                             "not installed (pip install symflow[data])")
    if args.steady:
        return print_steady(m, params, initial)
    done = (_kept.solve_and_keep(kept, m, params, initial, options)
            if kept is not None else None)
    if done is not None:
        sol, solver = done
    else:
        progress = args.progress if args.progress is not None else sys.stderr.isatty()
        timings: dict = {}  # (the solve announces its stages: tracing, compiling, solving)
        sol = m.simulate(params=params, initial=initial, progress=progress,
                         timings=timings, **options)
        solver = timings["solver"]
    _report(args, m, sol, solver)
    return EXIT_OK


# a plot from dense output for models with at most this many states (diffrax keeps
# every step's interpolation coefficients: several times the states per step)
DENSE_PLOT_STATES = 1000


def _dense_plot(m) -> bool:
    """Whether `--plot` without `--saveat` draws from dense output: an ODE without
    events or fields (a PDE is drawn as a heat map of its saved times), of at most
    `DENSE_PLOT_STATES` states, and not a steady state."""
    return (not m.system.events and not m.system.fields and not m.system.is_sde
            and m.generated.n_states <= DENSE_PLOT_STATES)


def _check_solver(solver: str | None) -> None:
    from ..symbolic import ODE_SOLVERS, suggest_solvers

    if solver is not None and solver.lower() not in ODE_SOLVERS:
        close = suggest_solvers(solver, ODE_SOLVERS)
        raise UsageError(f"--solver {solver}: unknown solver"
                         + (" (did you mean " + " or ".join(close) + "?)" if close else "")
                         + "; known solvers: " + ", ".join(ODE_SOLVERS))


def _report(args: argparse.Namespace, m, sol, solver: str) -> None:
    """Save, plot and print one solve."""
    import numpy as np

    from . import _kept

    if args.output:
        sol.save(args.output)
        wrote(args.output)
    if args.plot:
        sol.plot(args.plot, title=f"{m.name} ({solver})")
        wrote(args.plot)
    t = np.asarray(sol.t)
    names = _kept.shown_names(m)
    if sol.events is None:
        _kept.print_final(m.name, solver, t, sol.values, names)
        return
    end = float(sol.t_reached)
    values = sol.values
    if end < t[-1]:  # the state where it stopped
        values = {name: np.asarray(sol.events.after(name)) for name in names}
    _kept.print_final(m.name, solver, t, values, names, end=end,
                      between=_event_lines(sol.events, end, float(t[-1])))


def _event_lines(log, end: float, t1: float) -> list[str]:
    lines = [f"  {len(log)} event{'s' if len(log) != 1 else ''} fired"
             + (f", the last at t = {log.times[-1]:.10g}" if len(log) else "")]
    if end < t1:
        lines.append(f"  the solve stopped at t = {end:.10g} (terminate)")
    return lines


def _ensemble_options(args, m) -> dict | None:
    """The ensemble options of the command line, or None for a single solve."""
    import numpy as np

    options: dict = {}
    for name in ("trajectories", "seed", "noise", "chunk_size"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.trajectories is not None and args.trajectories < 1:
        raise UsageError(f"--trajectories {args.trajectories}: at least 1")
    if args.stats_only:
        options["stats_only"] = True
    if args.save_noise:
        if not m.system.is_sde:
            raise UsageError("--save-noise is for SDE models (those with a `noise` section)")
        options["save_noise"] = True
    from ..catalog import SAMPLERS

    sampler = (args.solver or m.settings.solver) in SAMPLERS
    for name in ("steps", "grid", "grid_exponent"):
        if getattr(args, name) is not None:
            if not sampler:
                raise UsageError(f"--{name.replace('_', '-')} is for the diffusion samplers "
                                  "(--solver ddim, dpm_solver_pp_2m, unipc_3, ...)")
            options[name] = getattr(args, name)
    if sampler:
        for name in ("noise", "chunk_size"):
            if getattr(args, name) is not None:
                raise UsageError(f"--{name.replace('_', '-')} is not an option of the "
                                  "diffusion samplers")
        if args.sweep:
            raise UsageError("--sweep is not an option of the diffusion samplers")
        return options
    specs = []
    for item in args.sweep:
        name, sep, spec = item.partition("=")
        parts = spec.split(":")
        try:
            a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
            if len(parts) != 3 or n < 1:
                raise ValueError
        except (ValueError, IndexError):
            raise UsageError(f"--sweep {item!r}: write NAME=A:B:N, for example "
                              "--sweep k=0.1:2:20") from None
        if name.strip() not in m.params:
            raise UsageError(f"--sweep {item!r}: {m.name} has no parameter named "
                              f"{name.strip()!r}; its parameters: {', '.join(m.params)}")
        specs.append((name.strip(), a, b, n))
    if specs:  # a trajectory saves its two ends at least: refused before the grid is made
        from ..solve import check_result_size

        check_result_size(times=2, values=max(1, m.generated.n_states),
                          trajectories=math.prod(n for *_, n in specs),
                          help="sweep fewer values (--sweep NAME=A:B:N takes N values)")
    grids = [(name, np.linspace(a, b, n)) for name, a, b, n in specs]
    if grids:
        mesh = np.meshgrid(*(g for _, g in grids), indexing="ij")
        options["sweep"] = {name: values.ravel() for (name, _), values in zip(grids, mesh)}
    if m.system.is_sde or options.get("sweep") or (
            options.get("trajectories", m.settings.trajectories) != 1):
        return options
    if options:
        raise UsageError("--seed, --noise, --stats-only and --chunk-size are for ensembles: "
                          "add --trajectories N or --sweep")
    return None


def _sampler_names():
    from ..catalog import SAMPLERS

    return SAMPLERS


def _run_ensemble(args, m, params, initial, options, stochastic) -> int:
    import numpy as np

    if args.output and os.path.splitext(args.output)[1].lower() not in (".npz", ".nc"):
        raise UsageError(f"-o {args.output}: an ensemble is written to .npz or .nc")
    from ..progress import stage

    timings: dict = {}
    with stage("compiling and solving the ensemble"):
        sol = m.simulate(params=params, initial=initial, timings=timings, **options,
                         **stochastic)
    if args.output:
        sol.save(args.output)
        wrote(args.output)
    if args.plot:
        sol.plot(args.plot, title=f"{m.name} ({timings['solver']}, "
                                  f"{sol.trajectories} trajectories)")
        wrote(args.plot)
    t = np.asarray(sol.t)
    kind = "SDE ensemble" if m.system.is_sde else "ensemble"
    if m.interpretation == "jump":
        kind = "jump-process ensemble"
    if timings["solver"] in _sampler_names():
        kind = "sample batch"
    print(f"{m.name}: {kind} of {sol.trajectories} trajectories solved with "
          f"{timings['solver']} on [{t[0]:g}, {t[-1]:g}], {len(t)} saved points")
    from ._kept import SHOWN_ELEMENTS, shown_names

    for name in [n for n in shown_names(m) if n in sol.names] or sol.names:
        mean, std = np.asarray(sol.mean[name])[-1], np.asarray(sol.std[name])[-1]
        if mean.size > SHOWN_ELEMENTS:  # a field or a long array: its range
            print(f"  {name}({t[-1]:g}): {'x'.join(map(str, mean.shape))} values, mean "
                  f"from {np.min(mean):.6g} to {np.max(mean):.6g}, std up to "
                  f"{np.max(std):.6g}")
            continue
        print(f"  {name}({t[-1]:g}): mean {np.array2string(mean, precision=6)}, "
              f"std {np.array2string(std, precision=6)}")
    return EXIT_OK


def print_steady(m, params: dict, initial: dict) -> int:
    """`run --steady`: the steady state, how it was found, and whether it is stable."""
    import numpy as np

    ss = m.steady_state(params, guess=initial)
    how = "Newton" if not bool(ss.fallback) else "time stepping, then Newton"
    stability = {"stable": "stable", "unstable": "NOT stable",
                 "marginal": "marginal: a centre or a zero eigenvalue, linearisation does "
                             "not decide"}[ss.stability]
    print(f"{m.name}: steady state ({how}; max|f(y)| = {float(ss.residual):.3g}; "
          f"{stability})")
    for name in ss.names:
        print(f"  {name} = {np.array2string(np.asarray(ss[name]), precision=10)}")
    return EXIT_OK
