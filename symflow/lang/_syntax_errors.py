"""Lark's parse errors as `SymflowError`s: the place (file, line, column, caret), what
the grammar expected there in words, and, where the error looks like a common slip
(a misspelt keyword, a unit after a number, a missing `end`, `x'` for `der(x)`),
what was meant."""

from __future__ import annotations

import difflib
import re

import lark
from lark import Token

from ..errors import Span, SymflowError
from ._grammar import grammar_parser

__all__ = ["syntax_error"]


# How expected terminals are named in error messages.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a "string"',
    "_NL": "the end of the line",
    "COMPARE": "a comparison",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'",
    "POW_OP": "'^'",
    "CONNECTOR_KIND": "'potential' or 'flow'",
    "REACTION_ARROW": "a reaction arrow (->, <->, =>, <=>)",
    "$END": "the end of the file",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        pattern = grammar_parser().get_terminal(name).pattern
    except KeyError:
        return name
    if isinstance(pattern, lark.lexer.PatternStr):
        return f"'{pattern.value}'"
    return name.lower()


def _expected(names: set[str]) -> str:
    # 'end' first: where it is expected, a missing `end` is the likeliest mistake
    words = sorted({_describe_terminal(n) for n in names}, key=lambda w: (w != "'end'", w))
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words)


def _token_text(token: Token) -> str:
    if token.type == "_NL":
        return "end of line"
    if token.type == "$END":
        return "end of file"
    return f"'{token}'"


def _close_keyword(token: Token, expected) -> str | None:
    """The expected keyword closest to a misspelt one (`paramters`), if any."""
    if token.type in ("_NL", "$END", "STRING", "NUMBER"):
        return None
    keywords = []
    for name in expected:
        try:
            pattern = grammar_parser().get_terminal(name).pattern
        except KeyError:
            continue
        if isinstance(pattern, lark.lexer.PatternStr) and pattern.value.isalpha():
            keywords.append(pattern.value)
    close = difflib.get_close_matches(str(token), keywords, n=1, cutoff=0.75)
    return close[0] if close else None


def _last_loop(source: str, start: int) -> tuple[int, str] | None:
    """The last `for` loop after line `start` (its line and variable), if any."""
    found = None
    for n, line in enumerate(source.splitlines()[start:], start + 1):
        words = line.split("#")[0].split()
        if len(words) > 1 and words[0] == "for":
            found = (n, words[1])
    return found


def _slip(source: str, token: Token, expected: str) -> str | None:
    """The hint for a common slip at an unexpected token, if it is one: a unit after a
    number (`m = 2.0 kg`), or a model whose `end` is missing."""
    if token.type == "$END" and "'end'" in expected:
        opened = [(n, line.split()[1]) for n, line in enumerate(source.splitlines(), 1)
                  if line.strip().startswith("model ") and len(line.split()) > 1]
        loop = _last_loop(source, opened[-1][0] if opened else 0)
        if loop is not None and opened:
            line, name = opened[-1]
            return (f"model {name} (line {line}) or one of its loops (`for {loop[1]}`, line "
                    f"{loop[0]}) has no `end`: a loop ends with its own `end`, then the model "
                    "with another")
        if opened:
            line, name = opened[-1]
            return f"model {name} (line {line}) has no `end`: add `end` after its last line"
    if token.type == "NAME" and token.line is not None and token.column is not None:
        text = source.splitlines()[token.line - 1][:token.column - 1]
        if re.fullmatch(r"\s*for\s+", text):  # a loop where the grammar has none
            return ("loops (`for i in 0:n ... end`) may only be in equations and "
                    "connections")
        # `name = number unit`: a declaration whose value is a number and a word
        if re.fullmatch(r"\s*[A-Za-z_][\w.]*\s*=\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s+",
                        text):
            return ("units are not part of the language yet: write the number alone, and "
                    f'the unit in the doc string (... = {text.split("=")[-1].strip()} '
                    f'"{token}")')
    return None


def _hint(slip: str | None, close: str | None, expected: str) -> str:
    """A syntax error's help: the slip it looks like or the keyword meant, then what
    the grammar expected there."""
    if slip:
        return f"{slip}; {expected}"
    return (f"did you mean '{close}'? " if close else "") + expected


def syntax_error(e: lark.exceptions.UnexpectedInput, source: str, file: str) -> SymflowError:
    """The `SymflowError` of Lark's error `e` while parsing `source` (from `file`)."""
    if isinstance(e, lark.exceptions.UnexpectedToken):
        token = e.token
        line = token.line if token.line is not None else source.count("\n")
        column = token.column if token.column is not None else 1
        width = max(1, len(str(token))) if token.type not in ("_NL", "$END") else 1
        span = Span(file, line, column, line, column + width, source)
        close = _close_keyword(token, e.expected)
        expected = f"expected {_expected(set(e.expected))}"
        return SymflowError(
            f"syntax error: unexpected {_token_text(token)}",
            span,
            help=_hint(_slip(source, token, expected), close, expected),
        )
    if isinstance(e, lark.exceptions.UnexpectedCharacters):
        # Lark types these Optional (for its other errors); the lexer always sets them.
        line = e.line if e.line is not None else source.count("\n")
        column = e.column if e.column is not None else 1
        span = Span(file, line, column, line, column + 1, source)
        pos = e.pos_in_stream
        char = source[pos] if pos is not None and pos < len(source) else "?"
        help = f"expected {_expected(set(e.allowed))}" if e.allowed else None
        before = source[:pos] if pos is not None else ""
        if char == "'" and before[-1:].isalnum():  # x' for a derivative
            name = before.split()[-1] if before.split() else "x"
            help = f"the time derivative of {name} is written der({name})"
        return SymflowError(f"syntax error: unexpected character {char!r}", span, help=help)
    if isinstance(e, lark.exceptions.UnexpectedEOF):
        line = source.count("\n")
        span = Span(file, line, 1, line, 2, source)
        return SymflowError(
            "syntax error: the file ended early",
            span,
            help=f"expected {_expected(set(e.expected))}",
        )
    raise e
