"""Formulas written as text (PEtab's observable and noise formulas), read with libsbml's
SBML Level 3 infix parser into the importer's expression tree, never evaluated.

`log(x)` is the natural logarithm (as PEtab reads it, not libsbml's default `log10`);
`t` and `time` are the model's time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from ..errors import SymflowError
from ._expr import Expr, Num, Sym, Time, substitute, symbols, to_text
from ._libsbml import libsbml
from ._mathml import translate

__all__ = ["Formula", "read_formula"]

_TIME = {"t", "time"}


@dataclasses.dataclass(frozen=True)
class Formula:
    """A formula read from text: the names it uses and, given what each name becomes, the
    model text."""

    expr: Expr
    where: str

    @property
    def symbols(self) -> set[str]:
        """The names the formula uses (not `t`/`time`)."""
        return symbols(self.expr) - _TIME

    @property
    def name(self) -> str | None:
        """The one name the formula is, if it is a bare name."""
        return self.expr.name if isinstance(self.expr, Sym) else None

    @property
    def number(self) -> float | None:
        """The number the formula is, if it is a bare number."""
        return self.expr.value if isinstance(self.expr, Num) else None

    def text(self, replace: Mapping[str, str | float], name: Callable[[str], str]) -> str:
        """Model text: each name in `replace` becomes that name or number, the others go
        through `name` (an SBML id to the model's name)."""
        def one(node: Expr) -> Expr | None:
            if isinstance(node, Sym) and node.name in _TIME:
                return Time()
            if isinstance(node, Sym) and node.name in replace:
                value = replace[node.name]
                return Num(value) if isinstance(value, float) else Sym(value)
            return None
        return to_text(substitute(self.expr, one), name)


def read_formula(text: str, where: str) -> Formula:
    """`text` parsed as an SBML L3 infix formula; `where` names it in errors (file, row,
    column)."""
    sbml = libsbml()
    settings = sbml.L3ParserSettings()
    settings.setParseLog(sbml.L3P_PARSE_LOG_AS_LN)
    node = sbml.parseL3FormulaWithSettings(str(text), settings)
    if node is None:
        message = sbml.getLastParseL3Error().strip().replace("\n", " ")
        raise SymflowError(f"{where}: cannot read the formula {text!r}: {message}",
                           help="write it in SBML L3 infix form: names, numbers, + - * / ^, "
                                "functions such as exp(x), log(x), log10(x)")
    return Formula(translate(node, where), where)
