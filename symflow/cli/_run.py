"""The `symflow` command: check, show, compile and run model files.

Exit codes: 0 success, 1 an error in the model, 2 a bad command line, 3 a
solver failure. Errors are printed as messages, never as tracebacks.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import time
from collections.abc import Sequence


__all__ = ["main"]

EXIT_OK, EXIT_MODEL, EXIT_USAGE, EXIT_SOLVER = 0, 1, 2, 3


class _UsageError(Exception):
    """A bad command line that argparse itself cannot see (a bad --set, say)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symflow",
        description="Compile and run symflow models (.sf files) with JAX and diffrax.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("file", help="the model file (.sf)")
        p.add_argument("--model", help="which model of the file (default: the last one)")
        return p

    add("check", "parse and check a model; report the first error")

    show = add("show", "print the model's equations after simplification")
    show.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    show.add_argument("--stage", choices=("built", "flat", "simplified", "final",
                                          "semilinear", "diffusion"),
                      default="final",
                      help="the system as built from the file (built, or flat: the same, "
                           "components flattened), after constant folding and alias "
                           "elimination (simplified), or after every pass (default: final); "
                           "semilinear: the split into a linear part and a remainder; "
                           "diffusion: the schedule and score a diffusion sampler uses")

    comp = add("compile", "write the generated JAX source")
    comp.add_argument("-o", "--output", help="the Python file to write (default: stdout)")

    run = add("run", "simulate the model")
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter or an initial value (repeatable); an array "
                          "initial value is written [1,2,3]")
    run.add_argument("--tspan", nargs=2, type=float, metavar=("T0", "T1"))
    run.add_argument("--solver", help="solver name (tsit5, kvaerno5, ..., auto)")
    run.add_argument("--rtol", type=float)
    run.add_argument("--atol", type=float)
    run.add_argument("--dt", type=float, help="initial (or, for euler, fixed) step")
    run.add_argument("--max-steps", type=int)
    run.add_argument("--saveat", metavar="N|T1,T2,...",
                     help="a number of evenly spaced points, or a comma-separated list")
    run.add_argument("-o", "--output", help="write the solution to .csv or .npz")
    run.add_argument("--plot", metavar="PNG", help="plot the trajectories to an image file")
    run.add_argument("--timings", action="store_true",
                     help="print the time of each stage (parse, passes, codegen, XLA, solve)")
    ensemble = run.add_argument_group("SDEs and ensembles (docs/sde.md)")
    ensemble.add_argument("--trajectories", type=int, metavar="N",
                          help="run an ensemble of N trajectories")
    ensemble.add_argument("--seed", type=int, help="the seed of the ensemble's random keys")
    ensemble.add_argument("--noise", choices=("ito", "stratonovich"),
                          help="the calculus of the SDE (default: the model's, else ito)")
    ensemble.add_argument("--stats-only", action="store_true",
                          help="keep mean, std and quantiles only, not the paths")
    ensemble.add_argument("--sweep", action="append", default=[], metavar="NAME=A:B:N",
                          help="sweep a parameter over N values from A to B (repeatable: "
                               "the sweeps form a grid)")
    ensemble.add_argument("--chunk-size", type=int, metavar="N",
                          help="run the ensemble N trajectories at a time")
    progress = run.add_mutually_exclusive_group()
    samplers = run.add_argument_group("diffusion samplers (docs/samplers.md)")
    samplers.add_argument("--steps", type=int, metavar="N",
                          help="model (score) evaluations of a sampler (NFE)")
    samplers.add_argument("--grid", choices=("uniform", "quadratic", "logsnr", "power", "edm"),
                          help="the sampler's step grid")
    samplers.add_argument("--grid-exponent", type=float, metavar="X",
                          help="kappa of --grid power (t^(1/kappa) evenly spaced, default 2) "
                               "or rho of --grid edm (sigma^(1/rho), default 7)")
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="show a progress bar (default: when stderr is a terminal)")
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    from ._cli_closures import add_weights_argument

    add_weights_argument(run)
    run.add_argument("--steady", action="store_true",
                     help="print the steady state (f(y) = 0) instead of simulating")

    from ._cli_fit import add_fit_parser

    add_fit_parser(add)
    from ._cli_distill import add_distill_parser

    add_distill_parser(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_jax()
    from .errors import SolverError, SymflowError

    try:
        return _COMMANDS[args.command](args)
    except SolverError as e:
        print(e.pretty(), file=sys.stderr)
        return EXIT_SOLVER
    except SymflowError as e:
        print(e.pretty(), file=sys.stderr)
        return EXIT_MODEL
    except _UsageError as e:
        print(f"symflow {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _configure_jax() -> None:
    """Let a second process reuse compiled programs from JAX's persistent cache.

    Equinox's runtime checks are host callbacks, which JAX never caches, so the
    CLI turns them into NaNs (failures are still read from diffrax's result code).
    """
    os.environ.setdefault("EQX_ON_ERROR", "nan")
    import jax

    from .codegen import cache_dir

    if not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


def _load(args):
    from .api import load

    return load(args.file, model=args.model)


def _check(args) -> int:
    m = _load(args)
    print(f"{args.file}: model {m.name} is well formed: {len(m.state_names)} states, "
          f"{len(m.system.free_parameters)} parameters, {len(m.observed_names)} observed outputs"
          + (f", {len(m.closures)} closures" if m.closures else ""))
    return EXIT_OK


def _show(args) -> int:
    from .symbolic import latex_system

    m = _load(args)
    if args.stage == "semilinear":
        from .passes.semilinear import split_semilinear

        print(split_semilinear(m.system))
        return EXIT_OK
    if args.stage == "diffusion":
        from .passes.diffusion_form import find_diffusion_form

        print(find_diffusion_form(m.system))
        return EXIT_OK
    system = m.built if args.stage in ("built", "flat") else m.system
    if args.stage == "simplified":
        from .passes import PIPELINE

        system = m.built
        for name, run in PIPELINE:
            system = run(system)
            if name == "alias_elimination":
                break
    print(latex_system(system) if args.latex else system)
    return EXIT_OK


def _compile(args) -> int:
    m = _load(args)
    if args.output:
        with open(args.output, "w") as f:
            f.write(m.source)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(m.source)
    return EXIT_OK


def _run(args) -> int:
    import numpy as np

    from .symbolic import ODE_SOLVERS

    start = time.perf_counter()
    m = _load(args)
    load_time = time.perf_counter() - start
    params, initial = _parse_sets(args.set, m)
    if args.weights:
        from ._cli_closures import apply_weights

        params = apply_weights(m, args.weights, params)
    options = {}
    if args.tspan is not None:
        options["tspan"] = tuple(args.tspan)
    if args.saveat is not None:
        options["saveat"] = _parse_saveat(args.saveat)
    stochastic = _ensemble_options(args, m)
    if stochastic is not None:
        for name in ("solver", "rtol", "atol", "dt", "max_steps"):
            if getattr(args, name) is not None:
                options[name] = getattr(args, name)
        return _run_ensemble(args, m, params, initial, options, stochastic)
    if args.solver is not None and args.solver not in ODE_SOLVERS:
        close = difflib.get_close_matches(args.solver, ODE_SOLVERS, n=1)
        raise _UsageError(f"--solver {args.solver}: unknown solver"
                          + (f" (did you mean {close[0]}?)" if close else "")
                          + "; known solvers: " + ", ".join(ODE_SOLVERS))
    for name in ("solver", "rtol", "atol", "dt", "max_steps"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.output and os.path.splitext(args.output)[1].lower() not in (".csv", ".npz"):
        raise _UsageError(f"-o {args.output}: write a .csv or .npz file")
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    if args.steady:
        from ._cli_fit import print_steady

        return print_steady(m, params, initial)
    timings: dict = {}
    sol = m.simulate(params=params, initial=initial, progress=progress, timings=timings,
                     **options)
    if args.output:
        sol.save(args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    if args.plot:
        sol.plot(args.plot, title=f"{m.name} ({timings['solver']})")
        print(f"wrote {args.plot}", file=sys.stderr)
    t = np.asarray(sol.t)
    print(f"{m.name}: solved with {timings['solver']} on [{t[0]:g}, {t[-1]:g}], "
          f"{len(t)} saved points")
    for name in (*m.state_names, *m.observed_names):
        value = np.asarray(sol[name])[-1]
        print(f"  {name}({t[-1]:g}) = {np.array2string(value, precision=8)}")
    if args.timings:
        print("timings (seconds):")
        for stage in ("parse", "build", "passes", "codegen"):
            print(f"  {stage:<12} {m.timings[stage]:.4f}")
        print(f"  {'(load total)':<12} {load_time:.4f}")
        print(f"  {'jax trace':<12} {timings['trace']:.4f}")
        print(f"  {'xla compile':<12} {timings['xla compile']:.4f}")
        print(f"  {'solve':<12} {timings['solve']:.4f}")
    return EXIT_OK


def _ensemble_options(args, m) -> dict | None:
    """The ensemble options of the command line, or None for a single solve."""
    import numpy as np

    options: dict = {}
    for name in ("trajectories", "seed", "noise", "chunk_size"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.trajectories is not None and args.trajectories < 1:
        raise _UsageError(f"--trajectories {args.trajectories}: at least 1")
    if args.stats_only:
        options["stats_only"] = True
    from .solve._samplers import SAMPLERS

    sampler = (args.solver or m.settings.solver) in SAMPLERS
    for name in ("steps", "grid", "grid_exponent"):
        if getattr(args, name) is not None:
            if not sampler:
                raise _UsageError(f"--{name.replace('_', '-')} is for the diffusion samplers "
                                  "(--solver ddim, dpm_solver_pp_2m, unipc_3, ...)")
            options[name] = getattr(args, name)
    if sampler:
        for name in ("noise", "chunk_size"):
            if getattr(args, name) is not None:
                raise _UsageError(f"--{name.replace('_', '-')} is not an option of the "
                                  "diffusion samplers")
        if args.sweep:
            raise _UsageError("--sweep is not an option of the diffusion samplers")
        return options
    grids = []
    for item in args.sweep:
        name, sep, spec = item.partition("=")
        parts = spec.split(":")
        try:
            a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
            if len(parts) != 3 or n < 1:
                raise ValueError
        except (ValueError, IndexError):
            raise _UsageError(f"--sweep {item!r}: write NAME=A:B:N, for example "
                              "--sweep k=0.1:2:20") from None
        if name.strip() not in m.params:
            raise _UsageError(f"--sweep {item!r}: {m.name} has no parameter named "
                              f"{name.strip()!r}; its parameters: {', '.join(m.params)}")
        grids.append((name.strip(), np.linspace(a, b, n)))
    if grids:
        mesh = np.meshgrid(*(g for _, g in grids), indexing="ij")
        options["sweep"] = {name: values.ravel() for (name, _), values in zip(grids, mesh)}
    if m.system.is_sde or options.get("sweep") or (
            options.get("trajectories", m.settings.trajectories) != 1):
        return options
    if options:
        raise _UsageError("--seed, --noise, --stats-only and --chunk-size are for ensembles: "
                          "add --trajectories N or --sweep")
    return None


def _sampler_names():
    from .solve._samplers import SAMPLERS

    return SAMPLERS


def _run_ensemble(args, m, params, initial, options, stochastic) -> int:
    import numpy as np

    if args.output and os.path.splitext(args.output)[1].lower() != ".npz":
        raise _UsageError(f"-o {args.output}: an ensemble is written to .npz")
    timings: dict = {}
    sol = m.simulate(params=params, initial=initial, timings=timings, **options,
                     **stochastic)
    if args.output:
        sol.save(args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    if args.plot:
        sol.plot(args.plot, title=f"{m.name} ({timings['solver']}, "
                                  f"{sol.trajectories} trajectories)")
        print(f"wrote {args.plot}", file=sys.stderr)
    t = np.asarray(sol.t)
    kind = "SDE ensemble" if m.system.is_sde else "ensemble"
    if timings["solver"] in _sampler_names():
        kind = "sample batch"
    print(f"{m.name}: {kind} of {sol.trajectories} trajectories solved with "
          f"{timings['solver']} on [{t[0]:g}, {t[-1]:g}], {len(t)} saved points")
    for name in sol.names:
        mean, std = np.asarray(sol.mean[name])[-1], np.asarray(sol.std[name])[-1]
        print(f"  {name}({t[-1]:g}): mean {np.array2string(mean, precision=6)}, "
              f"std {np.array2string(std, precision=6)}")
    if args.timings:
        print("timings (seconds):")
        for stage in ("parse", "build", "passes", "codegen"):
            print(f"  {stage:<12} {m.timings[stage]:.4f}")
        print(f"  {'ensemble':<12} {timings['ensemble (compile and run)']:.4f} "
              "(compile and run)")
    return EXIT_OK


def _parse_sets(items: list[str], m) -> tuple[dict, dict]:
    params, initial = {}, {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise _UsageError(f"--set {item!r}: write NAME=VALUE, for example --set alpha=1.2")
        value = _parse_value(text, item)
        if name in m.params:
            if isinstance(value, list):
                raise _UsageError(f"--set {item!r}: parameter {name!r} takes one number")
            params[name] = value
        elif name in m.state_names:
            initial[name] = value
        else:
            names = [*m.params, *m.state_names]
            close = difflib.get_close_matches(name, names, n=1)
            what = (" (an observed output, computed from the states)"
                    if name in m.observed_names else "")
            raise _UsageError(
                f"--set {item!r}: {m.name} has no parameter or state named {name!r}{what}"
                + (f"; did you mean {close[0]!r}?" if close else "")
                + f"; it has: {', '.join(names)}")
    return params, initial


def _parse_value(text: str, item: str) -> float | list[float]:
    text = text.strip()
    try:
        if text.startswith("[") and text.endswith("]"):
            return [float(x) for x in text[1:-1].split(",") if x.strip()]
        return float(text)
    except ValueError:
        raise _UsageError(f"--set {item!r}: {text!r} is not a number") from None


def _parse_saveat(text: str) -> int | list[float]:
    try:
        if "," in text:
            return [float(x) for x in text.split(",") if x.strip()]
        number = float(text)
    except ValueError:
        raise _UsageError(f"--saveat {text!r}: give a number of points or a list "
                          "of times") from None
    if not number.is_integer() or number < 2:
        raise _UsageError(f"--saveat {text!r}: a number of points must be a whole "
                          "number of at least 2 (write a single time as 'T,')")
    return int(number)


def _fit(args) -> int:
    from ._cli_fit import run_fit

    return run_fit(args, _load(args), _parse_sets, _UsageError)


def _distill(args) -> int:
    from ._cli_distill import run_distill

    return run_distill(args, _load(args), _parse_sets, _UsageError)


_COMMANDS = {"check": _check, "show": _show, "compile": _compile, "run": _run, "fit": _fit,
             "distill": _distill}


if __name__ == "__main__":
    sys.exit(main())
