"""The `symflow fit` command: fit parameters and initial values to measured data.

```
symflow fit model.sf --data data.csv [--data other.csv:x=2,alpha=1.1]
            [--params a,b] [--log k1,k2] [--optimizer levenberg_marquardt|bfgs|adam]
            [--steps N] [--plot fit.png] [-o fitted.sf]
```
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .. import catalog
from ._common import (
    EXIT_OK,
    EXIT_SOLVER,
    UsageError,
    check_outputs,
    load_model,
    names,
    parse_experiments,
    parse_sets,
    wrote,
)
from ._train import add_train_arguments, run_train

__all__ = ["add_parser", "fit"]


def add_parser(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The `fit` subcommand, with the options of training closures."""
    fit = add("fit", "fit parameters and initial values to measured data")
    fit.add_argument("--data", action="append", required=True, metavar="CSV[:NAME=VALUE,...]",
                     help="a CSV file with a `t` column and columns named after states or "
                          "observed outputs (empty cells are missing); repeat for several "
                          "experiments; after a colon, the parameter and initial values of "
                          "that experiment")
    fit.add_argument("--params", metavar="A,B,...",
                     help="the names to fit: parameters, or states for their initial values "
                          "(default: every parameter)")
    fit.add_argument("--log", metavar="A,B,...", default="",
                     help="names to fit in log space (rate constants over decades)")
    fit.add_argument("--optimizer", default="levenberg_marquardt",
                     choices=catalog.OPTIMIZERS)
    fit.add_argument("--steps", type=int, help="the most iterations (adam: the number of steps)")
    fit.add_argument("--scale", choices=catalog.FIT_SCALES, default="none",
                     help="divide each column's residuals by its largest |value| (column), "
                          "or each residual by its data value (relative: multiplicative noise)")
    fit.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="start from this value (a parameter or an initial value)")
    fit.add_argument("--plot", metavar="PNG", help="plot data against the fitted trajectories")
    fit.add_argument("-o", "--output", metavar="SF",
                     help="write the model file with the fitted values as defaults")
    add_train_arguments(fit)


def fit(args: argparse.Namespace) -> int:
    """Fit (or, for a model with closures, train) and report; `-o` writes the model."""
    from ..learn import FitError

    check_outputs(args, ("-o", args.output), ("--plot", args.plot),
                  ("--save-weights", args.save_weights),
                  inputs=tuple(d.partition(":")[0] for d in args.data)
                  + ((args.weights,) if args.weights else ()))
    m = load_model(args)
    experiments = parse_experiments(args.data, m)
    start_params, start_initial = parse_sets(args.set, m)
    if m.closures:  # a universal differential equation: train (cli/_train.py)
        if start_initial:
            raise UsageError("--set: initial values are not trained with closures")
        return run_train(args, m, experiments, start_params)
    if start_params or start_initial:
        m = _with_defaults(m, start_params, start_initial)
    try:
        result = m.fit(experiments, names(args.params), optimizer=args.optimizer,
                       steps=args.steps, log=names(args.log) or (), scale=args.scale,
                       progress=not args.quiet)
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
    if args.output:
        result.write_model(args.output)
        wrote(args.output)
    return EXIT_OK


def _with_defaults(m, params, initial):
    """The model with new starting values, written into its text (as `fit -o` does)."""
    from ..api import loads
    from ..learn import rewrite_defaults

    span = next(p.span for p in m.built.parameters)
    text = rewrite_defaults(m, params, initial)
    return loads(text, file=span.file, model=m.built.name)
