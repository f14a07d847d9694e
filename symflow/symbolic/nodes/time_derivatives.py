"""The symbols of time derivatives in implicit equations: `der(x)` is the Symbol `der(x)`.

A DAE's equations are residuals in the states and the symbols of their
derivatives; index reduction differentiates them again (`der(der(x))`). These
helpers make and read those symbols, cached because the DAE passes call them
per edge of their graphs.
"""

from __future__ import annotations

import functools

import sympy as sp

__all__ = ["der_symbol", "integral_of", "is_der"]


@functools.lru_cache(maxsize=None)  # passes call it per graph edge: a Symbol costs µs
def der_symbol(symbol: sp.Symbol) -> sp.Symbol:
    """The symbol of the time derivative of `symbol`: `der(x)`."""
    return sp.Symbol(f"der({symbol.name})", real=True)


def is_der(symbol: sp.Symbol) -> bool:
    """Whether `symbol` is the symbol of a time derivative, `der(...)`."""
    return symbol.name.startswith("der(") and symbol.name.endswith(")")


@functools.lru_cache(maxsize=None)  # passes call it per graph edge: a Symbol costs µs
def integral_of(symbol: sp.Symbol) -> sp.Symbol:
    """`x` for `der(x)`."""
    return sp.Symbol(symbol.name[4:-1], real=True)
