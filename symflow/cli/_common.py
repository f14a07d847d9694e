"""What the `symflow` commands share: exit codes, usage errors, loading the model,
`--set` and `--saveat` parsing, name lists, and the `wrote FILE` note."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import sys
import threading
from collections.abc import Callable, Iterator

__all__ = ["EXIT_OK", "EXIT_MODEL", "EXIT_USAGE", "EXIT_SOLVER", "UsageError", "check_outputs",
           "compile_model", "interrupted", "load_model", "on_interrupt", "parse_sets",
           "parse_experiments", "parse_saveat", "names", "wrote"]

EXIT_OK, EXIT_MODEL, EXIT_USAGE, EXIT_SOLVER = 0, 1, 2, 3


class UsageError(Exception):
    """A bad command line that argparse itself cannot see (a bad --set, say)."""


# what a running command keeps if Ctrl-C stops it (`on_interrupt`)
_KEEPERS: list[Callable[[], str]] = []
_KEEPERS_LOCK = threading.Lock()


@contextlib.contextmanager
def on_interrupt(keep: Callable[[], str]) -> Iterator[None]:
    """While the block runs, Ctrl-C first calls `keep()` (from the thread that takes
    the interrupt: the command may still be running) to save what the command has
    so far; it returns the end of the message (`at step 37; ... written to f.sf`)."""
    with _KEEPERS_LOCK:
        _KEEPERS.append(keep)
    try:
        yield
    finally:
        with _KEEPERS_LOCK:
            _KEEPERS.remove(keep)


def interrupted() -> str:
    """The message of Ctrl-C, `symflow: interrupted`, with what the running command
    kept (`on_interrupt`); a failure to keep it is said, never raised."""
    with _KEEPERS_LOCK:
        keepers = list(_KEEPERS)
    notes = []
    for keep in keepers:
        try:
            notes.append(keep())
        except Exception as e:  # noqa: BLE001 - the interrupt must still exit
            notes.append(f"the progress could not be saved: {getattr(e, 'message', e)}")
    return " ".join(["symflow: interrupted", *(n for n in notes if n)])


def compile_model(args: argparse.Namespace):
    """The model of `args.file` through the passes and codegen's emission, without
    JAX (`frontend.Compiled`): what `check`, `show` and `compile` need."""
    from ..frontend import compile_file

    return compile_file(args.file, model=args.model, allow_import=args.allow_import)


def load_model(args: argparse.Namespace):
    """The model of `args.file` (`--model` picks one); its errors are `SymflowError`s,
    printed by `main` with their place in the file."""
    from ..api import load

    return load(args.file, model=args.model, allow_import=args.allow_import)


def parse_sets(items: list[str], m) -> tuple[dict, dict]:
    """`NAME=VALUE` items as (parameter values, initial values) of model `m`."""
    params, initial = {}, {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--set {item!r}: write NAME=VALUE, for example --set alpha=1.2")
        value = _parse_value(text, item)
        if name in m.params:
            params[name] = _parameter_value(value, m.params[name], name, item)
        elif name in m.state_names:
            initial[name] = value
        else:
            known = [*m.params, *m.state_names]
            close = difflib.get_close_matches(name, known, n=1)
            what = (" (an observed output, computed from the states)"
                    if name in m.observed_names else "")
            raise UsageError(
                f"--set {item!r}: {m.name} has no parameter or state named {name!r}{what}"
                + (f"; did you mean {close[0]!r}?" if close else "")
                + f"; it has: {', '.join(known)}")
    return params, initial


def _parameter_value(value: float | list[float], default, name: str, item: str):
    """A `--set` value of a parameter: one number, or for an array parameter (`r.R` of
    an array of components) an array `[1,2,3]` of its length or one number for all."""
    n = getattr(default, "size", 1) if getattr(default, "ndim", 0) else None
    if n is None:
        if isinstance(value, list):
            raise UsageError(f"--set {item!r}: parameter {name!r} takes one number")
        return value
    import numpy as np

    if not isinstance(value, list):
        return np.full(n, value)
    if len(value) != n:
        raise UsageError(f"--set {item!r}: parameter {name!r} is an array of {n} values, "
                         f"not {len(value)}")
    return np.asarray(value, dtype=float)


def _parse_value(text: str, item: str) -> float | list[float]:
    text = text.strip()
    try:
        if text.startswith("[") and text.endswith("]"):
            return [float(x) for x in text[1:-1].split(",") if x.strip()]
        return float(text)
    except ValueError:
        raise UsageError(f"--set {item!r}: {text!r} is not a number") from None


def parse_experiments(items: list[str], m) -> list:
    """`--data CSV[:NAME=VALUE,...]` items as experiments of model `m`."""
    from ..learn import load_data

    experiments = []
    for item in items:
        path, sep, sets = item.partition(":")
        params, initial = parse_sets([s for s in sets.split(",") if s.strip()], m) if sep \
            else ({}, {})
        experiments.append(load_data(path, params=params, initial=initial))
    return experiments


def parse_saveat(text: str) -> int | list[float]:
    """`--saveat`: a number of points, or a comma-separated list of times."""
    try:
        if "," in text:
            return [float(x) for x in text.split(",") if x.strip()]
        number = float(text)
    except ValueError:
        raise UsageError(f"--saveat {text!r}: give a number of points or a list "
                         "of times") from None
    if not number.is_integer() or number < 2:
        raise UsageError(f"--saveat {text!r}: a number of points must be a whole "
                         "number of at least 2 (write a single time as 'T,')")
    return int(number)


def names(text: str | None) -> list[str] | None:
    """A comma-separated list of names (`None` stays `None`)."""
    if text is None:
        return None
    return [n.strip() for n in text.split(",") if n.strip()]


def check_outputs(args: argparse.Namespace, *outputs: tuple[str, str | None],
                  inputs: tuple[str, ...] = ()) -> None:
    """Refuse, before any work, the output files of a command that would replace
    its model file or another input, land in a missing or read-only folder, or
    replace an existing file without `--force` (`files.check_output`). `outputs`
    are `(option, path)` pairs; a `None` path is not asked for."""
    from ..files import check_output

    for option, path in outputs:
        if path:
            check_output(path, inputs=(args.file, *inputs), force=args.force, option=option)
            if option == "--plot":
                _check_plot_format(path)


def _check_plot_format(path: str) -> None:
    """An image format Matplotlib can write, told by the file's extension."""
    import os

    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if suffix not in formats:
        what = "." + suffix if suffix else "a file with no extension"
        raise UsageError(f"--plot {path}: cannot write {what}; image formats: "
                         + ", ".join(sorted(formats)))


def wrote(path: str) -> None:
    """Tell (on stderr) that a file was written."""
    print(f"wrote {path}", file=sys.stderr)
