"""The `symflow fit` command and `symflow run --steady` (kept apart from cli.py).

```
symflow fit model.sf --data data.csv [--data other.csv:x=2,alpha=1.1]
            [--params a,b] [--log k1,k2] [--optimizer levenberg_marquardt|bfgs|adam]
            [--steps N] [--plot fit.png] [-o fitted.sf]
```
"""

from __future__ import annotations

import os
import sys


__all__ = ["add_fit_parser", "run_fit", "print_steady"]


def add_fit_parser(add) -> None:
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
                     choices=("levenberg_marquardt", "bfgs", "adam"))
    fit.add_argument("--steps", type=int, help="the most iterations (adam: the number of steps)")
    fit.add_argument("--scale", choices=("none", "column", "relative"), default="none",
                     help="divide each column's residuals by its largest |value| (column), "
                          "or each residual by its data value (relative: multiplicative noise)")
    fit.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="start from this value (a parameter or an initial value)")
    fit.add_argument("--plot", metavar="PNG", help="plot data against the fitted trajectories")
    fit.add_argument("-o", "--output", metavar="SF",
                     help="write the model file with the fitted values as defaults")
    fit.add_argument("--quiet", action="store_true", help="no per-iteration progress")
    from ._cli_closures import add_train_arguments

    add_train_arguments(fit)


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [n.strip() for n in text.split(",") if n.strip()]


def run_fit(args, m, parse_sets, usage_error) -> int:
    from .solve._data import load_data
    from .solve._fit import FitError

    experiments = []
    for item in args.data:
        path, sep, sets = item.partition(":")
        params, initial = parse_sets([s for s in sets.split(",") if s.strip()], m) if sep \
            else ({}, {})
        experiments.append(load_data(path, params=params, initial=initial))
    start_params, start_initial = parse_sets(args.set, m)
    if m.closures:  # a universal differential equation: train (_cli_closures.py)
        from ._cli_closures import run_train

        if start_initial:
            raise usage_error("--set: initial values are not trained with closures")
        return run_train(args, m, experiments, start_params, usage_error)
    if start_params or start_initial:
        m = _with_defaults(m, start_params, start_initial)
    names = _names(args.params)
    try:
        result = m.fit(experiments, names, optimizer=args.optimizer, steps=args.steps,
                       log=_names(args.log) or (), scale=args.scale,
                       progress=not args.quiet)
    except FitError as e:
        print(e.best.table(), file=sys.stderr)
        print(e.pretty(), file=sys.stderr)
        return 3
    print(f"{m.name}: fitted {len(result.names)} values to {result.n_data} data points "
          f"in {len(experiments)} experiment(s)")
    print(result.table())
    if args.plot:
        result.plot(args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.output:
        if os.path.abspath(args.output) == os.path.abspath(args.file):
            raise usage_error("-o: refusing to overwrite the model file being fitted")
        result.write_model(args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _with_defaults(m, params, initial):
    """The model with new starting values, written into its text (as `fit -o` does)."""
    from .api import loads
    from .solve._fit import rewrite_defaults

    span = next(p.span for p in m.built.parameters)
    text = rewrite_defaults(m, params, initial)
    return loads(text, file=span.file, model=m.built.name)


def print_steady(m, params, initial) -> int:
    import numpy as np

    ss = m.steady_state(params, guess=initial)
    how = "Newton" if not bool(ss.fallback) else "time stepping, then Newton"
    print(f"{m.name}: steady state ({how}; max|f(y)| = {float(ss.residual):.3g}; "
          f"{'stable' if bool(ss.stable) else 'NOT stable'})")
    for name in ss.names:
        print(f"  {name} = {np.array2string(np.asarray(ss[name]), precision=10)}")
    return 0
