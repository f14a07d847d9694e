"""The `symflow` command: the argument parser, dispatch to one module per command,
and the exit codes.

Exit codes: 0 success, 1 an error in the model, 2 a bad command line, 3 a
solver failure. Errors are printed as messages, never as tracebacks.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from .. import __version__
from . import _distill, _fit, _import, _profile, _run, _show
from ._common import EXIT_MODEL, EXIT_OK, EXIT_SOLVER, EXIT_USAGE, UsageError

__all__ = ["main", "EXIT_OK", "EXIT_MODEL", "EXIT_USAGE", "EXIT_SOLVER"]

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": _show.check, "show": _show.show, "compile": _show.compile_source,
    "run": _run.run, "fit": _fit.fit, "profile": _profile.profile, "distill": _distill.distill,
    "import": _import.import_sbml}


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per entry of `COMMANDS`, each taking the
    model file and `--model`."""
    top = argparse.ArgumentParser(
        prog="symflow",
        description="Compile and run symflow models (.sf files) with JAX and diffrax.",
    )
    top.add_argument("--version", action="version", version=f"symflow {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("file", help="the model file (.sf)")
        p.add_argument("--model", help="which model of the file (default: the last one)")
        return p

    _show.add_parsers(add)
    _run.add_parser(add)
    _fit.add_parser(add)
    _profile.add_parser(add)
    _distill.add_parser(add)
    _import.add_parser(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: the process's); the exit code."""
    args = parser().parse_args(argv)
    _configure_jax()
    from ..errors import SolverError, SymflowError

    try:
        return COMMANDS[args.command](args)
    except SolverError as e:
        print(e.pretty(), file=sys.stderr)
        return EXIT_SOLVER
    except SymflowError as e:
        print(e.pretty(), file=sys.stderr)
        return EXIT_MODEL
    except UsageError as e:
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

    from ..cache import cache_dir

    # jax sets its options as attributes at run time (its stubs do not list them),
    # and `config.read` refuses the options that have a context manager, as this one.
    if not jax.config.jax_compilation_cache_dir:  # type: ignore[attr-defined]
        jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
