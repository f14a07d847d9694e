"""`python -m symflow.cli ...`: the `symflow` command."""

from . import entry

entry()
