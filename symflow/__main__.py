"""`python -m symflow ...`: the `symflow` command."""

from .cli import main

raise SystemExit(main())
