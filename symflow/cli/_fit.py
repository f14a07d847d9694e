"""The `symflow fit` command: fit parameters and initial values to measured data.

```
symflow fit model.sf --data data.csv [--data other.csv:x=2,alpha=1.1]
            [--params a,b] [--log k1,k2] [--optimizer levenberg_marquardt|bfgs|adam]
            [--steps N] [--tspan T0 T1] [--solver S]
            [--noise 'x~normal(sigma=s_x)'] [--preequilibrate u=0]
            [--starts N [--sampler lhs|sobol] [--seed S] [--vmap]]
            [--plot fit.png] [--summary fit.json] [-o fitted.sf]
```

`--plot fit.png` also writes the residuals, `fit_residuals.png`. With `--starts N`
the fit is a multistart (the best of N local fits from starts drawn inside the
bounds) and `--plot` also writes the waterfall plot `fit_waterfall.png`.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from typing import Any

from .. import catalog
from ._common import (
    EXIT_OK,
    EXIT_SOLVER,
    UsageError,
    check_outputs,
    load_model,
    names,
    on_interrupt,
    parse_experiments,
    parse_sets,
    wrote,
)
from ._train import add_train_arguments, run_train

__all__ = ["add_parser", "fit", "add_likelihood_arguments", "parse_noise", "solve_options",
           "with_preequilibration"]


def add_parser(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The `fit` subcommand, with the options of training closures."""
    fit = add("fit", "fit parameters and initial values to measured data")
    fit.add_argument("--data", action="append", default=[], metavar="CSV[:NAME=VALUE,...]",
                     help="a CSV file with a `t` column and columns named after states or "
                          "observed outputs (empty cells are missing); repeat for several "
                          "experiments; after a colon, the parameter and initial values of "
                          "that experiment (required, except for a PEtab problem, FILE.yaml, "
                          "whose tables hold the data)")
    fit.add_argument("--params", metavar="A,B,...",
                     help="the names to fit: parameters, or states for their initial values "
                          "(default: every parameter)")
    fit.add_argument("--log", metavar="A,B,...", default="",
                     help="names to fit in log space (rate constants over decades)")
    fit.add_argument("--per-experiment", metavar="A,B,...", default="",
                     help="fitted names that take one value per --data experiment "
                          "(reported as NAME@0, NAME@1, ...); the others are shared")
    fit.add_argument("--optimizer", choices=catalog.OPTIMIZERS,
                     help="default: levenberg_marquardt for a sum of squares, bfgs for a "
                          "likelihood with fitted noise parameters")
    fit.add_argument("--steps", type=int, help="the most iterations (adam: the number of steps)")
    fit.add_argument("--tspan", nargs=2, type=float, metavar=("T0", "T1"),
                     help="the span every experiment is simulated over, from T0 (default: "
                          "the model's `tspan`); the data's times must lie inside it")
    fit.add_argument("--solver", help="the solver of every simulation (default: the model's)")
    fit.add_argument("--scale", choices=catalog.FIT_SCALES, default="none",
                     help="divide each column's residuals by its largest |value| (column), "
                          "or each residual by its data value (relative: multiplicative noise)")
    fit.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="start from this value (a parameter or an initial value)")
    add_likelihood_arguments(fit)
    fit.add_argument("--starts", type=int, default=1, metavar="N",
                     help="multistart: N local fits from starts drawn inside the bounds "
                          "(log-uniform for --log names), run as one batch; report the best")
    fit.add_argument("--sampler", choices=catalog.START_SAMPLERS, default="lhs",
                     help="how the starts are drawn (Latin hypercube or Sobol)")
    fit.add_argument("--vmap", action=argparse.BooleanOptionalAction, default=None,
                     help="run the starts as one vmapped batch (default: yes on a GPU, "
                          "one after another on CPU, where the batch waits for its "
                          "slowest start)")

    fit.add_argument("--plot", metavar="PNG",
                     help="plot data against the fitted trajectories (and the residuals "
                          "beside it, PNG_residuals)")
    fit.add_argument("--summary", metavar="JSON|CSV",
                     help="write the fit as JSON (values, errors, correlation matrix, "
                          "multistart objectives) or the parameter table as CSV")
    fit.add_argument("-o", "--output", metavar="SF",
                     help="write the model file with the fitted values as defaults")
    add_train_arguments(fit)


def fit(args: argparse.Namespace) -> int:
    """Fit (or, for a model with closures, train) and report; `-o` writes the model."""
    from ..learn import BestSoFar, FitError

    check_outputs(args, ("-o", args.output), ("--plot", args.plot),
                  *(("--plot", p) for p in _beside_plot(args)),
                  ("--save-weights", args.save_weights), ("--summary", args.summary),
                  inputs=tuple(d.partition(":")[0] for d in args.data)
                  + ((args.weights,) if args.weights else ()))
    m, experiments = _model_and_data(args)
    start_params, start_initial = parse_sets(args.set, m)
    if m.closures:  # a universal differential equation: train (cli/_train.py)
        if start_initial:
            raise UsageError("--set: initial values are not trained with closures")
        return run_train(args, m, experiments, start_params, **solve_options(args))
    if start_params or start_initial:
        m = _with_defaults(m, start_params, start_initial, args.allow_import)
    record = BestSoFar()  # the best point so far, kept for Ctrl-C
    try:
        with on_interrupt(functools.partial(_keep_best, record, m, args.output)):
            result = m.fit(experiments, names(args.params), optimizer=args.optimizer,
                           steps=args.steps, log=names(args.log) or (), scale=args.scale,
                           noise=parse_noise(args.noise), starts=args.starts,
                           per_experiment=names(args.per_experiment) or (),
                           sampler=args.sampler, seed=args.seed, batched=args.vmap,
                           progress=not args.quiet, best=record, **solve_options(args))
    except FitError as e:
        print(e.best.table(), file=sys.stderr)
        print(e.pretty(), file=sys.stderr)
        return EXIT_SOLVER
    print(f"{m.name}: fitted {len(result.names)} values to {result.n_data} data points "
          f"in {len(experiments)} experiment(s)")
    print(result.table())
    if args.plot:
        result.plot(args.plot)
        wrote(args.plot)
        residuals, *waterfall = _beside_plot(args)
        result.plot_residuals(residuals)
        wrote(residuals)
        if result.multistart is not None:
            result.multistart.plot(waterfall[0])
            wrote(waterfall[0])
    if args.summary:
        result.write_summary(args.summary)
        wrote(args.summary)
    if args.output:
        result.write_model(args.output)
        wrote(args.output)
    return EXIT_OK


def is_petab(file: str) -> bool:
    """Whether `file` names a PEtab problem (its YAML file) rather than a model."""
    return file.lower().endswith((".yaml", ".yml"))


def _model_and_data(args: argparse.Namespace) -> tuple[Any, list]:
    """The model and experiments of the fit: a model file and `--data`, or a PEtab
    problem (docs/petab.md), whose fitted names and log scaling become the defaults of
    `--params` and `--log`."""
    if not is_petab(args.file):
        if not args.data:
            raise UsageError("fit needs --data CSV (or a PEtab problem, FILE.yaml)")
        m = load_model(args)
        return m, with_preequilibration(parse_experiments(args.data, m),
                                        args.preequilibrate, m)
    if args.data or args.preequilibrate:
        raise UsageError("a PEtab problem's tables hold its data and conditions: "
                         "--data and --preequilibrate do not apply")
    from ..petab import load

    problem = load(args.file)
    args.params = args.params or ",".join(problem.fitted)
    args.log = args.log or ",".join(problem.log)
    return problem.model, list(problem.experiments)


def _beside_plot(args: argparse.Namespace) -> tuple[str, ...]:
    """The plots `--plot fit.png` writes beside it: the residuals (a fit, not training),
    and the waterfall of a multistart."""
    if not args.plot:
        return ()
    stem, ext = os.path.splitext(args.plot)
    return (f"{stem}_residuals{ext or '.png'}",) + (
        (f"{stem}_waterfall{ext or '.png'}",) if args.starts > 1 else ())


def solve_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of every simulation of a fit given on the command line."""
    options: dict[str, Any] = {}
    if args.tspan is not None:
        options["tspan"] = tuple(args.tspan)
    if args.solver is not None:
        options["solver"] = args.solver
    return options


def _keep_best(record, m, output: str | None) -> str:
    """On Ctrl-C: where the fit was, and its best values so far, written to `-o` (as
    the fitted model) if one was asked for, else shown."""
    from ..files import write_atomically
    from ..learn import rewrite_defaults

    kept = record.best()
    where = f"at step {record.step}" if record.step >= 0 else "before the first step"
    if kept is None:
        return where + " (no finite objective yet: nothing to keep)"
    _, value, values = kept
    if not output:
        shown = ", ".join(f"{k} = {v:.6g}" for k, v in values.items())
        return f"{where}; best so far (objective {value:.6g}): {shown}"
    shared = {k: v for k, v in values.items() if "@" not in k}  # not per experiment
    write_atomically(output, rewrite_defaults(
        m, {k: v for k, v in shared.items() if k in m.params},
        {k: v for k, v in shared.items() if k not in m.params}))
    return f"{where}; best parameters so far (objective {value:.6g}) written to {output}"


def add_likelihood_arguments(parser: argparse.ArgumentParser) -> None:
    """`--noise` (an observable's noise model, overriding the model's fit section) and
    `--preequilibrate` (experiments start at a steady state)."""
    parser.add_argument("--noise", action="append", default=[], metavar="NAME~MODEL",
                        help="the noise model of an observable, e.g. 'x~normal(sigma=s_x)', "
                             "'y~laplace(scale=0.1)', 'z~lognormal(sigma=0.2)': the fit "
                             "maximises the likelihood (repeat for several observables)")
    parser.add_argument("--preequilibrate", nargs="?", const="", action="append",
                        default=[], metavar="NAME=VALUE,...",
                        help="start every experiment at the model's steady state under "
                             "these parameter values (none given: under the experiment's "
                             "own), then run it under its own; repeat once per --data, in "
                             "order, for one condition each ('none': no steady start)")


def with_preequilibration(experiments: list, texts: list[str], m) -> list:
    """The experiments started at a steady state (`--preequilibrate`), or as they are:
    one condition for every experiment, or one per `--data` in order (`none`: that
    experiment starts as it is)."""
    import dataclasses

    if not texts:
        return experiments
    if len(texts) not in (1, len(experiments)):
        raise UsageError(f"--preequilibrate given {len(texts)} times for {len(experiments)} "
                         "--data files: give it once (every experiment) or once per --data, "
                         "in order ('none' for one that starts as it is)")
    conditions: list[dict[str, float] | None] = []
    for text in texts:
        if text.strip().lower() == "none":
            conditions.append(None)
            continue
        params, initial = parse_sets([s for s in text.split(",") if s.strip()], m)
        if initial:
            raise UsageError("--preequilibrate sets parameters; the steady state sets the "
                             f"states ({next(iter(initial))!r} is a state)")
        conditions.append(dict(params))
    if len(conditions) == 1:
        conditions *= len(experiments)
    return [dataclasses.replace(e, preequilibration=c) for e, c in zip(experiments, conditions)]


def parse_noise(items: list[str]) -> dict[str, str] | None:
    """`--noise NAME~MODEL` items as a dict of noise-model texts."""
    out = {}
    for item in items:
        name, sep, model = item.partition("~")
        if not sep or not name.strip() or not model.strip():
            raise UsageError(f"--noise {item!r}: write NAME~MODEL, e.g. x~normal(sigma=0.1)")
        out[name.strip()] = model.strip()
    return out or None


def _with_defaults(m, params, initial, allow_import: list[str]):
    """The model with new starting values, written into its text (as `fit -o` does)."""
    from ..api import loads
    from ..learn import rewrite_defaults

    span = next(p.span for p in m.built.parameters)
    text = rewrite_defaults(m, params, initial)
    return loads(text, file=span.file, model=m.built.name, allow_import=allow_import)
