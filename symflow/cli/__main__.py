"""`python -m symflow.cli ...`: the `symflow` command."""

import sys

from . import main

sys.exit(main())
