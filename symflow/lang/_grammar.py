"""The grammar of the model language, its Lark parser, and the newline rule.

The grammar lives in the top-level `grammar/` folder of a checkout (the package
`symflow.grammar` in a wheel). The parser is built once per process; its tables
are cached on disk by the grammar's hash. The post-lexer `_Continuations` lets a
statement go on past a newline inside brackets and after a trailing operator.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import pathlib
from collections.abc import Iterator

import lark
from lark import Token

from ..cache import cache_dir, trusted_file

__all__ = ["grammar_parser"]


# A newline right after one of these does not end the statement.
_CONTINUES_AFTER = frozenset(
    ["+", "-", "*", "/", "^", "**", "=", "==", "!=", "<", "<=", ">", ">=", ",",
     "and", "or", "not", "if", "then", "else", "in", "~"]
)
_OPENING = frozenset("([")
_CLOSING = frozenset(")]")


class _Continuations:
    """Drops newlines inside brackets and after a trailing operator."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        previous: Token | None = None
        for token in stream:
            if token.type == "_NL":
                if depth > 0 or (previous is not None and previous.type != "STRING"
                                 and str(previous) in _CONTINUES_AFTER):
                    continue
            elif token.type != "STRING":
                if token in _OPENING:
                    depth += 1
                elif token in _CLOSING:
                    depth = max(0, depth - 1)
            previous = token
            yield token


def _grammar_text() -> str:
    # In a source checkout the grammar lives in the top-level grammar/ folder;
    # an installed wheel carries it as the package `symflow.grammar`.
    in_tree = pathlib.Path(__file__).resolve().parents[2] / "grammar" / "symflow.lark"
    if in_tree.is_file():
        return in_tree.read_text()
    return importlib.resources.files("symflow.grammar").joinpath("symflow.lark").read_text()


def _cache_file(text: str) -> str | bool:
    """Lark's parse tables are pickled to a file keyed by the grammar's hash (Lark's own
    cache), in symflow's private cache folder; a file that is not the user's own, or
    that others can write, is not read (`False`: Lark builds the tables afresh)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = cache_dir() / f"grammar-{lark.__version__}-{digest}.lark-cache"
    return str(path) if trusted_file(path) else False


@functools.cache
def grammar_parser() -> lark.Lark:
    """The LALR parser of the grammar, built (or read from the cache) once."""
    text = _grammar_text()
    return lark.Lark(
        text,
        cache=_cache_file(text),
        parser="lalr",
        lexer="contextual",
        postlex=_Continuations(),
        propagate_positions=True,
        maybe_placeholders=True,
    )
