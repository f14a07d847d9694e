"""The `symflow profile` command: profile likelihoods, intervals and identifiability.

```
symflow profile model.sf --data data.csv [--params k1,k2] [--fit k1,k2,k3]
                [--log k1] [--noise 'x~normal(sigma=s)'] [--level 0.95]
                [--points N] [--plot profiles.png]
```

`--params` names the values to profile (default: every fitted one), `--fit` the
values fitted (default: every parameter); each profile re-optimises the other
fitted values along a walk away from the optimum.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ._common import (
    EXIT_OK,
    EXIT_SOLVER,
    check_outputs,
    load_model,
    names,
    parse_experiments,
    wrote,
)
from ._fit import add_likelihood_arguments, parse_noise, with_preequilibration

__all__ = ["add_parser", "profile"]


def add_parser(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The `profile` subcommand."""
    p = add("profile", "profile likelihoods: confidence intervals and identifiability")
    p.add_argument("--data", action="append", required=True, metavar="CSV[:NAME=VALUE,...]",
                   help="data as for `symflow fit` (repeat for several experiments)")
    p.add_argument("--params", metavar="A,B,...",
                   help="the values to profile (default: every fitted one)")
    p.add_argument("--fit", metavar="A,B,...",
                   help="the values fitted (default: every parameter)")
    p.add_argument("--log", metavar="A,B,...", default="", help="names fitted in log space")
    add_likelihood_arguments(p)
    p.add_argument("--level", type=float, default=0.95, help="confidence level (0.95)")
    p.add_argument("--points", type=int, default=30, help="the most steps per side (30)")
    p.add_argument("--plot", metavar="PNG", help="plot the profiles")


def profile(args: argparse.Namespace) -> int:
    """Fit, profile, print the intervals and verdicts; `--plot` draws the profiles."""
    from ..learn import FitError

    check_outputs(args, ("--plot", args.plot),
                  inputs=tuple(d.partition(":")[0] for d in args.data))
    m = load_model(args)
    experiments = with_preequilibration(parse_experiments(args.data, m),
                                        args.preequilibrate, m)
    try:
        result = m.profile(experiments, names(args.params), params=names(args.fit),
                           log=names(args.log) or (), noise=parse_noise(args.noise),
                           level=args.level, points=args.points, progress=not args.quiet)
    except FitError as e:
        print(e.best.table(), file=sys.stderr)
        print(e.pretty(), file=sys.stderr)
        return EXIT_SOLVER
    print(result.best.table())
    print()
    print(result.table())
    if args.plot:
        result.plot(args.plot)
        wrote(args.plot)
    return EXIT_OK
