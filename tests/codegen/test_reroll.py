"""Re-rolling: repeated scalar right-hand sides become one array expression, and the
rolled `rhs` equals the equations evaluated one by one."""

import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from models import model_text
from symflow.codegen import emit, load_source
from symflow.codegen._reroll import Block, Single, reroll
from symflow.lang import parse
from symflow.passes import simplify
from symflow.symbolic import Element, Part, build


def _reference_rhs(system, y: dict[str, float], params: dict[str, float]) -> dict[str, float]:
    """dy/dt by state name, from the simplified equations evaluated one at a time in
    SymPy."""
    values = {v.symbol: sp.Float(y[v.name]) for v in system.states}
    values.update({p.symbol: sp.Float(params[p.name]) for p in system.free_parameters
                   if not p.shape})
    values[system.time] = sp.Float(0.3)
    rhs = {e.target: e.rhs for e in system.equations}
    out = {}
    for v in system.states:
        expr = rhs[v.name]  # an element of an array parameter: its number
        expr = expr.xreplace({e: sp.Float(float(params[e.args[0].name][int(e.args[1])]))
                              for e in expr.atoms(Element)})
        out[v.name] = float(expr.xreplace(values))
    return out


@pytest.mark.parametrize("name, rolled", [("rc_ladder_8", "y[1:8]"),
                                          ("mass_spring_chain_8", "axis=1"),
                                          ("mass_spring_chain_array", "FIELDS = 2")])
def test_rolled_rhs_equals_equations_one_by_one(name, rolled):
    system = simplify(build(parse(model_text(name))))
    source = emit(system)
    assert rolled in source  # the repeated sections are one array expression
    generated = load_source(source)
    rng = np.random.default_rng(1)
    y = rng.normal(size=generated.n_states)
    params = {p.name: float(rng.uniform(0.5, 2.0)) for p in system.free_parameters
              if not p.shape}
    got = np.asarray(generated.rhs(0.3, jnp.asarray(y), generated.parameter_defaults(params)))
    at = {s.name: s.start for s in generated.states}
    expected = _reference_rhs(system, {name: float(y[i]) for name, i in at.items()},
                              {**{k: float(v) for k, v in params.items()},
                               **_array_elements(generated.parameter_defaults(params))})
    np.testing.assert_allclose([got[at[name]] for name in expected], list(expected.values()),
                               rtol=1e-12, atol=1e-12)


def _array_elements(params) -> dict:
    """`{name: values}` of the array parameters."""
    return {k: np.asarray(v) for k, v in params.items() if np.ndim(v) == 1}


def _symbols(n: int) -> list[sp.Symbol]:
    return [sp.Symbol(f"x{k}") for k in range(n)]


def test_runs_do_not_depend_on_the_order_of_names():
    # x9 and x10 sort the other way round by name: SymPy writes x10 - x9 but -x8 + x9.
    x, r = _symbols(12), [sp.Symbol(f"r{k}") for k in range(12)]
    exprs = [(x[k + 1] - x[k]) / r[k + 1] - (x[k] - x[k - 1]) / r[k] for k in range(1, 11)]
    pieces = reroll([x[0], *exprs, x[11]], {s: k for k, s in enumerate(x)})
    assert [type(p) for p in pieces] == [Single, Block, Single]
    block = pieces[1]
    assert isinstance(block, Block) and (block.start, block.length) == (1, 10)


def test_a_flux_between_neighbours_is_computed_once():
    # member k: ((x[k+1] - x[k])/r[k+1] - (x[k] - x[k-1])/r[k]): the second term of
    # member k + 1 is the first of member k
    x, r = _symbols(12), [sp.Symbol(f"r{k}") for k in range(12)]
    exprs = [(x[k + 1] - x[k]) / r[k + 1] - (x[k] - x[k - 1]) / r[k] for k in range(1, 11)]
    (block,) = reroll(exprs, {s: k for k, s in enumerate(x)})
    (run,) = block.runs
    (shared,) = run.shared
    assert shared.length == 11 and run.template.atoms(Part)
    # the shared array holds the flux k-1 -> k for k = 1 .. 11 (one per member, plus one)
    values = {s.symbol: s.leaves for s in shared.slots}
    for j in range(shared.length):
        flux = shared.template.xreplace({symbol: column[j] for symbol, column in values.items()})
        assert sp.simplify(flux - (x[j + 1] - x[j]) / r[j + 1]) == 0


def test_different_structures_and_short_runs_stay_single():
    x = _symbols(6)
    exprs = [x[0] ** 2, sp.sin(x[1]), sp.sin(x[2]), x[3] * x[4], x[4] + x[5], x[5]]
    pieces = reroll(exprs, {s: k for k, s in enumerate(x)})
    assert all(isinstance(p, Single) for p in pieces)


def test_template_evaluates_to_each_member():
    x = _symbols(9)
    t = sp.Symbol("t")
    exprs = [sp.Max(x[k], t) * sp.exp(-x[k + 1]) for k in range(8)]
    (block,) = reroll(exprs, {s: k for k, s in enumerate(x)})
    assert isinstance(block, Block)
    (run,) = block.runs
    for k in range(8):  # put member k's leaves in the slots: the member comes back
        member = run.template.xreplace({s.symbol: s.leaves[k] for s in run.slots})
        assert sp.simplify(member - exprs[k]) == 0


@pytest.mark.parametrize("name", ["mass_spring_chain_8", "lv_with_array", "rc_ladder_array"])
def test_initial_vector_packs_the_initial_values(name):
    generated = load_source(emit(simplify(build(parse(model_text(name))))))
    p = generated.parameter_defaults({})
    by_name = generated.initial_values(p)
    expected = np.concatenate([np.ravel(np.broadcast_to(np.asarray(by_name[s.name], float),
                                                        s.shape)) for s in generated.states])
    np.testing.assert_array_equal(np.asarray(generated.initial_vector(p)), expected)
