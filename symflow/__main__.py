"""`python -m symflow ...`: the `symflow` command."""

from .cli import entry

entry()
