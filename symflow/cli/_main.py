"""The `symflow` command: the argument parser, dispatch to one module per command,
and the exit codes.

Exit codes: 0 success, 1 an error in the model, 2 a bad command line, 3 a
solver failure. Errors are printed as messages, never as tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .. import __version__
from . import _distill, _fit, _import, _profile, _run, _show
from ._common import EXIT_MODEL, EXIT_OK, EXIT_SOLVER, EXIT_USAGE, UsageError, interrupted

__all__ = ["entry", "main", "parser", "EXIT_OK", "EXIT_MODEL", "EXIT_USAGE", "EXIT_SOLVER"]

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
        p.add_argument("--force", action="store_true",
                       help="replace output files that exist already")
        p.add_argument("--allow-import", action="append", default=[], metavar="DIR",
                       help="let the model's imports read .sf files in DIR too (besides the "
                            "model's folder and the standard library); repeatable")
        p.add_argument("--quiet", action="store_true",
                       help="no status line while parsing, compiling and solving (and, for fit, no "
                            "per-iteration progress)")
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
    from ..files import InputError, OutputError, open_regular

    try:
        path = getattr(args, "file", None)
        if path is not None and not os.path.exists(path):  # a command-line slip: exit 2
            raise UsageError(f"{path}: no such file")
        if path is not None:  # a pipe, a device, a folder: refused before any read
            open_regular(path, what="model file").close()
        return _announced(args)
    except (InputError, OutputError) as e:  # a command-line problem, found before any work
        print(e.pretty(), file=sys.stderr)
        return EXIT_USAGE
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
        print(interrupted(), file=sys.stderr)
        return 130


def _announced(args: argparse.Namespace) -> int:
    """Run the command with its stages shown on a terminal (a status line on stderr,
    unless `--quiet`) and, with `--timings`, their durations printed at the end."""
    from ..progress import listening
    from ._status import StageTimes, StatusLine, process_age

    with contextlib.ExitStack() as stack:
        times = StageTimes()
        if getattr(args, "timings", False):
            stack.enter_context(listening(times))
        if sys.stderr.isatty() and not getattr(args, "quiet", False):
            # a solve with a progress bar shows the bar, not the status line
            bar = getattr(args, "progress", False) is not False
            status = StatusLine(ignore=("solving",) if bar else ())
            stack.callback(status.close)
            stack.enter_context(listening(status))
        code = COMMANDS[args.command](args)
    if getattr(args, "timings", False):
        print(times.table(total=process_age()))
    return code


def _configure_jax() -> None:
    """Let a second process reuse compiled programs from JAX's persistent cache.

    Set through JAX's environment variables, read when JAX is imported: the commands
    that need no arrays (`check`, `show`, `compile`) never import it. Equinox's
    runtime checks are host callbacks, which JAX can neither cache nor export, so the
    CLI turns them into NaNs (failures are still read from diffrax's result code).
    """
    os.environ.setdefault("EQX_ON_ERROR", "nan")
    from ..cache import cache_dir

    if "jax" in sys.modules:  # a caller's process (tests call `main`) has it already
        import jax

        # jax sets its options as attributes at run time (its stubs do not list them)
        if not jax.config.jax_compilation_cache_dir:  # type: ignore[attr-defined]
            jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
        return
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(cache_dir() / "jax"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")


def entry() -> None:
    """The `symflow` console script: `main` in a worker thread, then a fast exit.

    Ctrl-C is answered at once, even inside a long XLA compile or solve (native
    code, where Python's own handling of SIGINT waits until it returns): the main
    thread only waits, so it takes the interrupt, says so and exits with 130.
    Nothing is lost by leaving the worker: every output is written to a temporary
    file and renamed into place. And a process that loaded JAX spends about 0.4 s
    tearing down its modules and XLA's client at exit, for nothing: the streams
    are flushed and the process ends at once.
    """
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["code"] = main()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            outcome["error"] = e

    threading.stack_size(256 * 2**20)  # SymPy recurses deeply on long expressions
    worker = threading.Thread(target=work, name="symflow", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, lambda *_: os._exit(130))  # a second Ctrl-C: out now
        sys.stdout.flush()
        sys.stderr.write("\n")
        sys.stderr.flush()
        sys.stderr.write(interrupted() + "\n")  # after saving what the command kept
        sys.stderr.flush()
        os._exit(130)
    if "error" in outcome:
        raise outcome["error"]
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(outcome["code"])
