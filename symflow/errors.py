"""symflow's one user-facing error type, with a source span and a pretty printer.

Every mistake in a model file, on the command line or in an API call that a user
can fix is reported as a `SymflowError`. When the mistake has a place in a model
file, the error carries a `Span` and prints the offending line with a caret under
it, in the style of a compiler:

```
error: undeclared name 'alpah'
  --> lv.sf:12:14
   |
12 |     der(x) = alpah*x
   |              ^^^^^
   = help: did you mean 'alpha'?
```
"""

from __future__ import annotations

import dataclasses

__all__ = ["Span", "SymflowError", "SolverError"]


@dataclasses.dataclass(frozen=True)
class Span:
    """A place in a source file: 1-based line and column, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    source: str = dataclasses.field(default="", repr=False, compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class SymflowError(Exception):
    """A mistake the user can fix: a bad model, a bad option, a bad data file.

    **Arguments:**

    - `message`: what is wrong, in one sentence.
    - `span`: where, if the mistake has a place in a model file.
    - `help`: what would be right (a suggestion, the list of valid choices).
    - `notes`: further places worth showing, as `(span, message)` pairs (for
      instance the first declaration of a name declared twice).
    """

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        help: str | None = None,
        notes: tuple[tuple[Span, str], ...] = (),
    ):
        super().__init__(message)
        self.message = message
        self.span = span
        self.help = help
        self.notes = tuple(notes)

    def __str__(self) -> str:
        return self.pretty()

    def pretty(self) -> str:
        """The message with the source line and a caret, as printed by the CLI."""
        lines = [f"error: {self.message}"]
        if self.span is not None:
            lines.extend(_excerpt(self.span))
        for span, note in self.notes:
            lines.append(f"note: {note}")
            lines.extend(_excerpt(span))
        if self.help:
            lines.append(f"   = help: {self.help}")
        return "\n".join(lines)


class SolverError(SymflowError):
    """The numerical solve failed (step-size collapse, NaN, too many steps).

    `t` is the time the solver had reached when it stopped.
    """

    def __init__(self, message: str, t: float, *, help: str | None = None):
        super().__init__(message, help=help)
        self.t = t


def _excerpt(span: Span) -> list[str]:
    out = [f"  --> {span}"]
    source_lines = span.source.splitlines()
    if not 1 <= span.line <= len(source_lines):
        return out
    text = source_lines[span.line - 1].expandtabs(1)
    number = str(span.line)
    pad = " " * len(number)
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    else:
        width = max(1, len(text.rstrip()) - span.column + 1)
    width = max(1, min(width, max(1, len(text) - span.column + 1)))
    out.append(f" {pad} |")
    out.append(f" {number} | {text}")
    out.append(f" {pad} | " + " " * (span.column - 1) + "^" * width)
    return out
