"""The `symflow` command line: check, show, compile, run, fit and distill model files."""

from ._main import EXIT_MODEL as EXIT_MODEL
from ._main import EXIT_OK as EXIT_OK
from ._main import EXIT_SOLVER as EXIT_SOLVER
from ._main import EXIT_USAGE as EXIT_USAGE
from ._main import entry as entry
from ._main import main as main
from ._main import parser as parser

__all__ = ["entry", "main", "parser", "EXIT_OK", "EXIT_MODEL", "EXIT_USAGE", "EXIT_SOLVER"]
