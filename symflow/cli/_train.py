"""Command-line options for models with neural closures: `--weights`, and training.

```
symflow run model.sf --weights trained.eqx
symflow fit model.sf --data data.csv [--freeze alpha,U1] [--steps N] [--learning-rate LR]
            [--schedule cosine|constant|exponential] [--window K] [--batch B]
            [--weights start.eqx] [--save-weights trained.eqx] [-o fitted.sf] [--plot fit.png]
```

With closures, `symflow fit` trains the networks and the physical parameters
together (`symflow.learn.train`); `-o fitted.sf` also writes the weights
next to it (`fitted.eqx`) unless `--save-weights` names the file.
"""

from __future__ import annotations

import argparse
import functools
import os
from typing import Any

from .. import catalog
from ._common import EXIT_OK, check_outputs, names, on_interrupt, wrote

__all__ = ["add_weights_argument", "add_train_arguments", "apply_weights", "run_train"]


def add_weights_argument(parser) -> None:
    parser.add_argument("--weights", metavar="EQX",
                        help="closure weights (and the parameter values saved with them) "
                             "from a file written by `symflow fit --save-weights`")


def add_train_arguments(fit) -> None:
    group = fit.add_argument_group("models with closures (docs/closures.md)")
    add_weights_argument(group)
    group.add_argument("--save-weights", metavar="EQX", help="write the trained weights here")
    group.add_argument("--freeze", metavar="A,B,...", default="",
                       help="parameters or closures (by name or by an output) held fixed")
    group.add_argument("--learning-rate", type=float, default=1e-2,
                       help="Adam's initial learning rate (default 0.01)")
    group.add_argument("--schedule", choices=catalog.SCHEDULES,
                       default="cosine", help="learning-rate schedule (default cosine, to 1%%)")
    group.add_argument("--window", type=int, metavar="K",
                       help="train on windows of K data points, each from its measured state")
    group.add_argument("--batch", type=int, metavar="B",
                       help="items (windows or experiments) per step (default: all)")
    group.add_argument("--seed", type=int, default=0,
                       help="random seed: of the mini-batch order (training), of the "
                            "starts (--starts)")


def apply_weights(m, path: str | None, params: dict) -> dict:
    """`params` over the values saved with the weights (loaded into `m`)."""
    if not path:
        return params
    if not m.closures:
        from ..errors import SymflowError

        raise SymflowError(f"--weights: {m.name} declares no closures")
    loaded = m.load_weights(path)
    return {**loaded, **params}


def run_train(args: argparse.Namespace, m, experiments: list, start_params: dict,
              **solve_options: Any) -> int:
    """`symflow fit` of a model with closures: train, report, write weights and model
    (and on Ctrl-C, the best parameters so far); `solve_options` (`tspan`, `solver`)
    go to every simulation."""
    from ..learn import BestSoFar

    if args.output and not args.save_weights:  # the weights beside the model: checked now
        check_outputs(args, ("-o (its weights)", os.path.splitext(args.output)[0] + ".eqx"),
                      inputs=tuple(d.partition(":")[0] for d in args.data)
                      + ((args.weights,) if args.weights else ()))
    start = apply_weights(m, args.weights, dict(start_params))
    steps = args.steps if args.steps is not None else 1000
    weights = args.save_weights or (os.path.splitext(args.output)[0] + ".eqx"
                                    if args.output else None)
    record = BestSoFar()
    with on_interrupt(functools.partial(_keep_best, record, m, args.output, weights)):
        result = m.fit(experiments, names(args.params), freeze=names(args.freeze) or (),
                       steps=steps, learning_rate=args.learning_rate, schedule=args.schedule,
                       window=args.window, batch=args.batch, seed=args.seed,
                       start=m.complete_params(start), progress=not args.quiet, best=record,
                       **solve_options)
    frozen = "frozen: " + ", ".join(result.frozen) if result.frozen else "nothing frozen"
    print(f"{m.name}: trained {', '.join(result.trained)} on {len(experiments)} "
          f"experiment(s) ({frozen})")
    print(result.table())
    print(f"compile {result.compile_time:.2f} s, {result.step_time * 1e3:.2f} ms per step, "
          f"{result.epoch_time * 1e3:.2f} ms per epoch ({result.steps_per_epoch} steps), "
          f"total {result.total_time:.1f} s")
    if args.plot:
        result.plot(args.plot)
        wrote(args.plot)
    if args.output:
        result.write_model(args.output)
        wrote(args.output)
    if weights:
        result.save_weights(weights)
        wrote(weights)
    return EXIT_OK


def _keep_best(record, m, output: str | None, weights: str | None) -> str:
    """On Ctrl-C: the step training reached, and the parameters of its best step so
    far (of the latest, with mini-batches) written as the finished run would write
    them: the model (`-o`) with the trained parameters, and the weights."""
    from ..files import write_atomically
    from ..learn import rewrite_defaults

    kept = record.best()
    where = f"at step {record.step}" if record.step >= 0 else "before the first step"
    if kept is None:
        return where + " (no finite loss yet: nothing to keep)"
    if not output and not weights:
        return where + " (give -o or --save-weights to keep the parameters trained so far)"
    step, value, params = kept
    which = "best parameters so far" if value is not None else "parameters of the last step"
    written = []
    if output:
        trained = {k: float(params[k]) for k in record.names
                   if k in m.params and k != "closures"}
        write_atomically(output, rewrite_defaults(m, trained, {}))
        written.append(output)
    if weights:
        m.save_weights(weights, params)
        written.append(weights)
    return f"{where}; {which} (step {step}) written to {' and '.join(written)}"
