"""`symflow import`: an SBML model as symflow model text (docs/sbml.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..files import write_atomically
from ._common import EXIT_OK, check_outputs, wrote

__all__ = ["add_parser", "import_sbml"]


def add_parser(sub: Any) -> None:
    """The `import` subcommand (its own arguments: it reads SBML, not a model file)."""
    help = ("translate an SBML model (Level 2 or 3 core), or the model of a PEtab problem "
            "(.yaml: with its observables, noise models and parameter bounds), into symflow "
            "model text")
    p = sub.add_parser("import", help=help, description=help)
    p.add_argument("file", help="the SBML file (.xml, .sbml) or PEtab problem (.yaml)")
    p.add_argument("-o", "--output", help="the .sf file to write (default: stdout)")
    p.add_argument("--force", action="store_true",
                   help="replace the output file if it exists already")
    p.add_argument("--check", action="store_true",
                   help="also compile the translated model, as `symflow check` does")


def import_sbml(args: argparse.Namespace) -> int:
    check_outputs(args, ("-o", args.output))
    text = _text(args.file)
    if args.check:
        from ..api import loads

        m = loads(text, file=args.output or "<imported>")
        print(f"{args.file}: model {m.name} is well formed: {len(m.state_names)} states, "
              f"{len(m.system.free_parameters)} parameters", file=sys.stderr)
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    write_atomically(args.output, text)
    wrote(args.output)
    return EXIT_OK


def _text(file: str) -> str:
    """The model text of an SBML file, or of a PEtab problem's model completed with its
    tables (docs/petab.md)."""
    if file.lower().endswith((".yaml", ".yml")):
        from ..petab import read_problem

        return read_problem(file).text
    from ..sbml import read_sbml

    return read_sbml(file).text
