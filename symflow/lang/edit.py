"""Rewriting model text in place: edits at the spans of its syntax tree, one number format.

A rewrite of a model file (new parameter defaults after a fit, closures replaced
by the expressions distilled from them) changes only the characters under some
spans and keeps everything else, comments and layout included, as written. The
edits are `(start, stop, text)` triples of character offsets, found with
`Lines`; `apply_edits` makes them all at once. Numbers are written by
`format_number`, the one format every rewrite uses: Python's shortest repr,
which reads back as the same float.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..errors import Span, SymflowError

__all__ = ["Edit", "Lines", "apply_edits", "format_number"]


Edit = tuple[int, int, str]  # (start, stop, new text): text[start:stop] becomes new text


class Lines:
    """The offsets of the lines of a text, to turn 1-based (line, column) positions and
    spans into character offsets."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.starts.append(i + 1)

    def __len__(self) -> int:
        return len(self.starts)

    def offset(self, line: int, column: int) -> int:
        """The offset of 1-based `line`, `column`."""
        return self.starts[line - 1] + column - 1

    def span(self, span: Span) -> tuple[int, int]:
        """The offsets `(start, stop)` of the text under `span`."""
        return (self.offset(span.line, span.column),
                self.offset(span.end_line, span.end_column))

    def start(self, line: int) -> int:
        """The offset of the first character of 1-based `line`."""
        return self.starts[line - 1]

    def end(self, line: int) -> int:
        """The offset of the end of 1-based `line` (before its newline, and before a
        `\\r` of a `\\r\\n`)."""
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        if end > 0 and self.text[end - 1:end] == "\r":
            end -= 1
        return end

    def line(self, line: int) -> str:
        """The text of 1-based `line`, without its line break."""
        return self.text[self.start(line):self.end(line)]

    def indent(self, line: int) -> str:
        """The leading white space of 1-based `line`."""
        text = self.line(line)
        return text[:len(text) - len(text.lstrip())]


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with every edit made; the edits must not overlap (touching is fine).

    Raises `SymflowError` on overlapping edits (a bug of the caller: two rewrites of
    the same characters)."""
    ordered = sorted(edits)
    for (_, stop, _), (start, _, _) in zip(ordered, ordered[1:]):
        if start < stop:
            raise SymflowError("cannot rewrite the model: two edits overlap")
    pieces, last = [], 0
    for start, stop, new in ordered:
        pieces += [text[last:start], new]
        last = stop
    pieces.append(text[last:])
    return "".join(pieces)


def format_number(value: float) -> str:
    """A number as model text, with every digit needed to read it back exactly
    (`repr` of the float: `0.1`, `1.5e-07`, `2.0`).

    Raises `SymflowError` for infinities and NaN, which a model cannot hold."""
    value = float(value)
    if not math.isfinite(value):
        raise SymflowError(f"cannot write the non-finite number {value!r} into a model")
    return repr(value)
