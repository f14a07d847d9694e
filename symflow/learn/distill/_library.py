"""The candidate library of a distillation: terms built symbolically from a closure's inputs.

A closure `(U1, U2) = mlp(x, y)` is replaced by sparse sums `U1 = sum_k c_k theta_k(x, y)`.
The candidates `theta_k` are made here, as SymPy expressions over one symbol per closure
input: every monomial up to a chosen total degree (`1, x, y, x^2, x*y, y^2, ...`) and the
model's own `functions` applied to the inputs. They are evaluated on samples through
generated code (printed by codegen's `JnpPrinter` from these SymPy expressions, which
symflow built itself, and run on NumPy; no model text is evaluated), and written back
into a model file as `.sf` text made from the inputs' own source text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from ...codegen import JnpPrinter, import_source

__all__ = ["Term", "Library", "FunctionCandidate", "build_library"]


@dataclasses.dataclass(frozen=True)
class FunctionCandidate:
    """A function that may stand in the library, applied to the closure's inputs.

    **Arguments:**

    - `name`: how the function is called in model text (`f` in `f(x, y)`).
    - `arity`: how many arguments it takes.
    - `body`: given `arity` SymPy expressions, the SymPy value of the call, with
      every parameter already replaced by its number; `None` if the function
      cannot be evaluated from its arguments alone (it uses a state or `t`).
    """

    name: str
    arity: int
    body: Callable[..., sp.Expr | None]


@dataclasses.dataclass(frozen=True)
class Term:
    """One candidate term.

    `powers[i]` is the power of input `i` in a monomial (all zero: the constant 1);
    for a model function, `function` is its name and `args` the indices of the
    inputs it is applied to. `expr` is its value over the library's input symbols.
    """

    expr: sp.Expr
    powers: tuple[int, ...] = ()
    function: str | None = None
    args: tuple[int, ...] = ()

    @property
    def degree(self) -> int:
        return sum(self.powers)

    def text(self, inputs: Sequence[str]) -> str:
        """The term as `.sf` text, given each input's text (atoms: names or
        parenthesised expressions)."""
        if self.function is not None:
            return f"{self.function}({', '.join(_bare(inputs[i]) for i in self.args)})"
        factors = [inputs[i] if p == 1 else f"{inputs[i]}^{p}"
                   for i, p in enumerate(self.powers) if p]
        return "*".join(factors) if factors else "1"

    def display(self, inputs: Sequence[sp.Expr]) -> sp.Expr:
        """The term as SymPy over the given input expressions; a model function
        stays an (undefined) call `f(x, y)`, as it is written in the model."""
        if self.function is not None:
            return sp.Function(self.function)(*(inputs[i] for i in self.args))
        return sp.Mul(*(sp.Pow(inputs[i], p) for i, p in enumerate(self.powers) if p))


@dataclasses.dataclass(frozen=True)
class Library:
    """Candidate terms over input symbols `inputs`, evaluated column by column."""

    inputs: tuple[sp.Symbol, ...]
    terms: tuple[Term, ...]

    def __len__(self) -> int:
        return len(self.terms)

    def names(self, inputs: Sequence[str] | None = None) -> tuple[str, ...]:
        """Each term as text. `inputs` are the inputs' texts as atoms (a name, or an
        expression in parentheses); they default to the input symbols' names."""
        texts = list(inputs) if inputs is not None else [s.name for s in self.inputs]
        return tuple(term.text(texts) for term in self.terms)

    def evaluate(self, z) -> np.ndarray:
        """The library matrix `Theta`, shape `(n, len(terms))`, at samples `z` of
        shape `(n, len(inputs))`."""
        z = np.asarray(z, dtype=float)
        if z.ndim != 2 or z.shape[1] != len(self.inputs):
            raise ValueError(f"expected samples of shape (n, {len(self.inputs)}), "
                             f"got {z.shape}")
        if not self.terms:
            return np.zeros((z.shape[0], 0))
        with np.errstate(all="ignore"):  # a model function may be infinite somewhere
            return np.asarray(_compiled(self).library(z), dtype=float)


def build_library(inputs: Sequence[sp.Symbol], *, degree: int = 2,
                  functions: Sequence[FunctionCandidate] = (),
                  constant: bool = True) -> Library:
    """The candidate library over `inputs`.

    **Arguments:**

    - `inputs`: one SymPy symbol per closure input.
    - `degree`: the largest total degree of the monomials (`2`: `x^2`, `x*y`, `y^2`
      and everything below).
    - `functions`: model functions to apply to the inputs: a function of `m`
      arguments is applied to every ordered choice of `m` distinct inputs (a
      function of more arguments than there are inputs is left out).
    - `constant`: include the constant term `1`.

    Terms that are the same SymPy expression as an earlier one are left out.
    """
    inputs = tuple(inputs)
    if degree < 0:
        raise ValueError("degree must be at least 0")
    terms: list[Term] = []
    seen: set[sp.Expr] = set()

    def add(term: Term) -> None:
        if term.expr in seen or term.expr.is_number and term.expr == 0:
            return
        seen.add(term.expr)
        terms.append(term)

    for d in range(0 if constant else 1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(len(inputs)), d):
            powers = tuple(combo.count(i) for i in range(len(inputs)))
            add(Term(sp.Mul(*(inputs[i] ** p for i, p in enumerate(powers) if p)), powers))
    for f in functions:
        if f.arity < 1 or f.arity > len(inputs):
            continue
        for args in itertools.permutations(range(len(inputs)), f.arity):
            value = f.body(*(inputs[i] for i in args))
            if value is None or not value.free_symbols <= set(inputs) \
                    or value.free_symbols == set():
                continue
            add(Term(value, (0,) * len(inputs), f.name, args))
    return Library(inputs, tuple(terms))


def _bare(text: str) -> str:
    """An atom's text without its enclosing parentheses (for a function argument)."""
    return text[1:-1] if text.startswith("(") and text.endswith(")") and \
        _balanced(text[1:-1]) else text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


# ---------------------------------------------------------------- evaluation

_MODULES: dict[str, object] = {}


def _compiled(library: Library):
    """The generated module with `library(z)`, written once per distinct library."""
    printer = JnpPrinter({s: f"z[:, {i}]" for i, s in enumerate(library.inputs)}, {})
    columns = [f"        jnp.broadcast_to(jnp.asarray({printer.doprint(t.expr)}, "
               f"dtype=float), z.shape[:1])," for t in library.terms]
    source = "\n".join([
        '"""Generated by symflow.learn.distill: the candidate library of a distillation."""',
        "",
        "# Printed by codegen's JnpPrinter; run on NumPy, which has every function the",
        "# printer emits under the same name: a one-off evaluation needs no XLA compile.",
        "import numpy as jnp",
        "",
        "",
        "def library(z):",
        "    return jnp.stack([",
        *columns,
        "    ], axis=-1)",
        "",
    ])
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    if digest not in _MODULES:
        _MODULES[digest] = import_source(source, kind="library")
    return _MODULES[digest]
