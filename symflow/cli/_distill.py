"""The `symflow distill` command: trained closures replaced by sparse expressions.

```
symflow distill model.sf --weights model.eqx [--data data.csv[:NAME=VALUE,...]]
                [-o distilled.sf] [--degree 2] [--no-functions]
                [--threshold cv|T] [--tolerance 0.01] [--least-squares]
                [--sample auto|data|trajectory]
                [--samples 200]
```
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from .. import catalog
from ._common import (
    EXIT_OK,
    UsageError,
    check_outputs,
    load_model,
    parse_experiments,
    parse_sets,
    wrote,
)

__all__ = ["add_parser", "distill"]


def add_parser(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The `distill` subcommand."""
    d = add("distill", "replace the closures (trained networks) by sparse symbolic expressions")
    d.add_argument("--weights", metavar="EQX",
                   help="the trained weights (default: the weights the model starts with)")
    d.add_argument("--data", action="append", default=[], metavar="CSV[:NAME=VALUE,...]",
                   help="simulate under these experiments (as `symflow fit --data`), sample "
                        "the closures along them, and report the distilled model's error "
                        "against the data; repeatable")
    d.add_argument("-o", "--output", metavar="SF",
                   help="the distilled model file (default: FILE_distilled.sf beside FILE)")
    d.add_argument("--degree", type=int, default=2,
                   help="the largest total degree of the candidate monomials (default 2)")
    d.add_argument("--no-functions", action="store_true",
                   help="leave the model's own functions out of the candidates")
    d.add_argument("--threshold", default="cv", metavar="cv|T",
                   help="drop terms contributing less than this share of an output's RMS; "
                        "cv (default) chooses it by cross-validation")
    d.add_argument("--tolerance", type=float, default=0.01,
                   help="with --threshold cv: the accuracy (share of the output's RMS) a "
                        "term must buy to be kept (default 0.01)")
    d.add_argument("--least-squares", action="store_true",
                   help="fit by plain least squares instead of Huber's robust estimator")
    d.add_argument("--sample", choices=catalog.DISTILL_SAMPLES, default="auto",
                   help="sample the closures at the measured states of the data, or along "
                        "simulated trajectories (auto, the default: the data if it measures "
                        "every state)")
    d.add_argument("--samples", type=int, default=200,
                   help="saved times per trajectory, when sampling along trajectories")
    d.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter or initial value for the simulations")


def distill(args: argparse.Namespace) -> int:
    """Distil, report the expressions and errors, write the distilled model."""
    from ..learn.distill import distill as distill_model

    output = args.output or _default_output(args.file)
    check_outputs(args, ("-o", output), inputs=tuple(d.partition(":")[0] for d in args.data))
    m = load_model(args)
    threshold: float | str = args.threshold
    if threshold != "cv":
        try:
            threshold = float(threshold)
        except ValueError:
            raise UsageError(f"--threshold {args.threshold!r}: write cv or a number") from None
        if not threshold >= 0:
            raise UsageError("--threshold must be at least 0")
    if args.degree < 0 or args.degree > 6:
        raise UsageError(f"--degree {args.degree}: choose 0 to 6")
    if args.samples < 10:
        raise UsageError(f"--samples {args.samples}: at least 10")
    if args.tolerance < 0:
        raise UsageError("--tolerance must be at least 0")

    params = dict(_load_weights(m, args.weights) if args.weights else m.params)
    set_params, initial = parse_sets(args.set, m)
    params.update(set_params)
    experiments = parse_experiments(args.data, m)
    result = distill_model(m, params, data=experiments or None, initial=initial,
                     samples=args.samples, degree=args.degree,
                     functions=not args.no_functions, threshold=threshold,
                     tolerance=args.tolerance, sample=args.sample,
                     robust=not args.least_squares)
    where = {"data": "at the measured states of the data",
             "trajectory": "along the simulated trajectories"}[result.sampled_on]
    print(f"{m.name}: distilled {len(result.outputs)} closure output(s) from "
          f"{result.n_samples} samples {where}")
    print(result.table())
    result.write(output)
    if experiments:
        print("RMS error against the data:")
        width = max(8, *(len(c) for c in result.data_error))
        print(f"  {'column':<{width}}  {'distilled':>12}  {'network':>12}")
        for column, error in result.data_error.items():
            print(f"  {column:<{width}}  {error:>12.4g}  "
                  f"{result.network_error.get(column, float('nan')):>12.4g}")
    else:
        print("RMS difference from the network model's trajectories (no --data given):")
        for name, error in result.data_error.items():
            print(f"  {name}: {error:.4g}")
    wrote(output)
    return EXIT_OK


def _default_output(path: str) -> str:
    root, _ = os.path.splitext(path)
    return root + "_distilled.sf"


def _load_weights(m, path: str):
    return m.load_weights(path)
