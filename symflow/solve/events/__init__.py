"""Hybrid models: the solve loop with events (`hybrid.py`), the search for crossings
inside a step (`locate.py`), which events a crossing fires (`triggers.py`), the
events of a generated model (`program.py`) and the log of the events that fired
(`log.py`)."""

from .hybrid import EVENT_RESULTS as EVENT_RESULTS
from .hybrid import ZENO_EVENTS as ZENO_EVENTS
from .hybrid import ZENO_WINDOW as ZENO_WINDOW
from .hybrid import HybridOutput as HybridOutput
from .hybrid import make_hybrid_solve as make_hybrid_solve
from .log import EventLog as EventLog
from .program import EventProgram as EventProgram
