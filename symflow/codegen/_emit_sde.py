"""The stochastic part of the generated module: diffusion, noise product, Milstein term.

For a model with Brownian motions the module gets:

- `BROWNIAN`, `BROWNIAN_SIZES` (1 for a Brownian motion, the number of grid
  points for a Brownian field `W(x)`) and `NOISE_SIZE`, the length of the vector
  `dw` of all increments (the Brownian motions one after another);
- `diffusion(t, y, p)`: one flat column of coefficients per Brownian motion,
  each the length of `y` (one array expression per array state);
- `noise(g, dw)`: `sum_k g[k] * dW_k`, the product of those columns with the
  increments (a Brownian field multiplies point by point: it is the diagonal of
  a diffusion matrix that is never formed);
- `milstein(t, y, p, dw, h)`: the Milstein term derived symbolically
  (`symbolic._sde_derivatives`), with `h` the step for Itô and `0` for
  Stratonovich; absent when the noise is general or the derivative cannot be
  taken symbolically;
- the random initial values (`initial_distributions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import sympy as sp

from ..symbolic import Fill, System, Variable, classify_noise, milstein_correction, shape_of

if TYPE_CHECKING:
    from ._layout import Layout

__all__ = ["emit_stochastic"]


def emit_stochastic(system: System, names: dict[sp.Symbol, str],
                    shapes: dict[sp.Symbol, tuple[int, ...]], layout: tuple[Layout, ...],
                    states: dict[str, Variable], function: Callable[..., list[str]]
                    ) -> list[str]:
    """The lines of the stochastic functions; `function` is `_emit._function`."""
    brownians = system.brownians
    sizes = tuple(b.size for b in brownians)
    random = tuple((v.name, v.distribution[0]) for v in system.states if v.distribution)
    out = [f"BROWNIAN = {tuple(b.name for b in brownians)!r}",
           f"BROWNIAN_SIZES = {sizes!r}", f"NOISE_SIZE = {sum(sizes)}",
           f"RANDOM_INITIAL = {random!r}", "", ""]
    columns = []
    for k, b in enumerate(brownians):
        column = {}
        for s in layout:
            eq = system.equation_for(s.name)
            g = eq.diffusion[k] if eq.diffusion else sp.Integer(0)
            if s.shape and system.shape_of(g) == ():
                g = Fill(g, sp.Integer(s.shape[0]))
            column[s.name] = g
        columns.append(column)
        out += function(
            f"_diffusion_{k}", "t, y, p", f"The coefficients of Brownian motion {b.name}, "
            "one per state.", system, names, shapes, column,
            unpack_states=True, result="vector")
    if brownians:
        calls = ", ".join(f"_diffusion_{k}(t, y, p)" for k in range(len(brownians)))
        out += ["def diffusion(t, y, p):",
                '    """The diffusion coefficients: one flat column per Brownian motion."""',
                f"    return ({calls},)", "", ""]
        out += _noise(brownians, columns, layout)
        out += _milstein(system, names, shapes, layout, function)
    for which, index in (("loc", 0), ("scale", 1)):
        out += function(
            f"_distribution_{which}", "p", f"Argument {index} of each random initial value.",
            system, names, shapes,
            {v.name: v.distribution[1][index] for v in system.states if v.distribution},
            unpack_states=False, result="dict")
    out += ["def initial_distributions(p):",
            '    """(first, second) argument of each random initial value, by name."""',
            "    a, b = _distribution_loc(p), _distribution_scale(p)",
            "    return {k: (a[k], b[k]) for k in a}", "", ""]
    return out


def _increment_names(brownians) -> dict[sp.Symbol, str]:
    out, offset = {}, 0
    for b in brownians:
        out[b.increment] = (f"dw[{offset}]" if not b.coordinates
                            else f"dw[{offset}:{offset + b.size}]")
        offset += b.size
    return out


def _noise(brownians, columns, layout) -> list[str]:
    """`noise(g, dw)`: a scalar increment scales its column; a field's increments are
    laid over the states it drives (zeros elsewhere, where its column is zero)."""
    increments = _increment_names(brownians)
    n_states = layout[-1].stop if layout else 0
    terms = []
    for k, b in enumerate(brownians):
        dw = increments[b.increment]
        if not b.coordinates:
            terms.append(f"g[{k}] * {dw}")
            continue
        pieces: list[str] = []
        zeros = 0
        for s in layout:
            if s.stop - s.start == b.size and columns[k][s.name] != 0:
                if zeros:
                    pieces.append(f"jnp.zeros({zeros})")
                    zeros = 0
                pieces.append(dw)
            else:
                zeros += s.stop - s.start
        if zeros and pieces:
            pieces.append(f"jnp.zeros({zeros})")
        if not pieces:
            continue  # a Brownian field no equation uses
        spread = pieces[0] if len(pieces) == 1 else f"jnp.concatenate([{', '.join(pieces)}])"
        terms.append(f"g[{k}] * {spread}")
    body = " + ".join(terms) if terms else f"jnp.zeros({n_states})"
    return ["def noise(g, dw):",
            '    """The noise of a step, sum_k g[k] * dW_k (dw: all increments, a Brownian '
            'field point by point)."""',
            f"    return {body}", "", ""]


def _milstein(system: System, names, shapes, layout, function) -> list[str]:
    if classify_noise(system) == "general":
        return []
    h = sp.Dummy("h", real=True)
    terms = milstein_correction(system, stratonovich=False, dt=h)
    if terms is None:
        return []
    names = {**names, **_increment_names(system.brownians), h: "h"}
    shapes = {**shapes, **{b.increment: (b.size,) for b in system.brownians
                           if b.coordinates}}
    outputs = {}
    for s, term in zip(layout, terms):
        if s.shape and shape_of(term, {**system.shapes(), **shapes}) == ():
            term = Fill(term, sp.Integer(s.shape[0]))
        outputs[s.name] = term
    return function(
        "milstein", "t, y, p, dw, h", "The Milstein term of a step, derived symbolically "
        "(h: the step for Itô, 0 for Stratonovich).", system, names, shapes, outputs,
        unpack_states=True, result="vector")
