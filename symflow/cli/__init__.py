"""The `symflow` command line: check, show, compile, run, fit and distill model files."""

from ._main import (
    EXIT_MODEL as EXIT_MODEL,
    EXIT_OK as EXIT_OK,
    EXIT_SOLVER as EXIT_SOLVER,
    EXIT_USAGE as EXIT_USAGE,
    main as main,
)


__all__ = ["main", "EXIT_OK", "EXIT_MODEL", "EXIT_USAGE", "EXIT_SOLVER"]
