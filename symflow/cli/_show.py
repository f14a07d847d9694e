"""`symflow check`, `symflow show` and `symflow compile`: a model's checks, its
equations at a stage of the pipeline, and its generated source."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .. import catalog
from ._common import EXIT_OK, check_outputs, compile_model, wrote
from ._rolled import rolled

__all__ = ["add_parsers", "check", "show", "compile_source"]


def add_parsers(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The `check`, `show` and `compile` subcommands."""
    add("check", "parse and check a model; report the first error")

    show = add("show", "print the model's equations after simplification")
    show.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    show.add_argument("--scalar", action="store_true",
                      help="print every line of an array of components (by default, lines "
                           "that differ only in their element indices are written once, "
                           "as `for i in 0:99  r[i].v`)")
    show.add_argument("--stage", choices=catalog.SHOW_STAGES,
                      default="final",
                      help="the system as built from the file (built, or flat: the same, "
                           "components flattened), after constant folding and alias "
                           "elimination (simplified), after the row compression of a "
                           "singular constant mass matrix (mass_matrix), or after every "
                           "pass (default: final); "
                           "semilinear: the split into a linear part and a remainder; "
                           "diffusion: the schedule and score a diffusion sampler uses; "
                           "conservation: the linear conservation laws (a reaction "
                           "network's moieties, or of plain equations)")

    comp = add("compile", "write the generated JAX source")
    comp.add_argument("-o", "--output", help="the Python file to write (default: stdout)")


def check(args: argparse.Namespace) -> int:
    system = compile_model(args).system
    closures = system.closures
    print(f"{args.file}: model {system.name} is well formed: {len(system.states)} states, "
          f"{len(system.free_parameters)} parameters, {len(system.observed)} observed outputs"
          + (f", {len(closures)} closures" if closures else ""))
    return EXIT_OK


def show(args: argparse.Namespace) -> int:
    from ..symbolic import latex_system

    m = compile_model(args)
    if args.stage == "semilinear":
        from ..analysis import split_semilinear

        print(split_semilinear(m.system))
        return EXIT_OK
    if args.stage == "conservation":
        return _print_conservation(m)
    if args.stage == "diffusion":
        from ..analysis import find_diffusion_form

        print(find_diffusion_form(m.system))
        return EXIT_OK
    system = m.built if args.stage in ("built", "flat") else m.system
    if args.stage in ("simplified", "mass_matrix"):
        from ..passes import PIPELINE

        last = "alias_elimination" if args.stage == "simplified" else "mass_matrix"
        system = m.built
        for name, run in PIPELINE:
            system = run(system)
            if name == last:
                break
    print(latex_system(system) if args.latex else system if args.scalar
          else rolled(str(system)))
    return EXIT_OK


def _print_conservation(m) -> int:
    """`show --stage conservation`: the conservation laws (a network's moieties, or
    the linear invariants of plain equations), and which species or state
    `conserved = eliminate` computes from the others."""
    from ..analysis import conservation_laws, linear_invariants

    network = m.network.reactions
    # a model of plain equations: the laws its right-hand sides show term by term
    laws = conservation_laws(network) if network is not None else linear_invariants(m.built)
    eliminate = m.system.settings.conserved == "eliminate"
    what = "species" if network is not None else "state"
    print(f"model {m.system.name}: {len(laws)} conservation law{'s' if len(laws) != 1 else ''}"
          + ("" if eliminate or not laws else " (kept; `conserved = eliminate` computes "
                                               f"one {what} of each from the others)"))
    for law in laws:
        gone = eliminate and law.pivot not in {v.name for v in m.system.states}
        print(f"  {law.describe()}" + (f"  -> {law.pivot} computed from the others "
                                       f"(total_{law.pivot})" if gone else ""))
    return EXIT_OK


def compile_source(args: argparse.Namespace) -> int:
    from ..files import write_atomically

    check_outputs(args, ("-o", args.output))
    m = compile_model(args)
    if args.output:
        write_atomically(args.output, m.source)
        wrote(args.output)
    else:
        sys.stdout.write(m.source)
    return EXIT_OK
