"""Maximum matchings: the pure-Python augmenting paths and scipy's Hopcroft-Karp (used
for large graphs) find matchings of the same size, and each is a matching."""

import random

from symflow.passes.dae.matching import _hopcroft_karp, maximum_matching


def _is_matching(graph, match_var) -> bool:
    return (all(v in graph[e] for v, e in match_var.items())
            and len(set(match_var.values())) == len(match_var))


def test_both_matchings_are_maximum_on_random_graphs():
    rng = random.Random(0)
    for _ in range(300):
        n_eqs, n_unknowns = rng.randint(1, 25), rng.randint(1, 25)
        graph = [sorted(rng.sample(range(n_unknowns), rng.randint(0, min(4, n_unknowns))))
                 for _ in range(n_eqs)]
        small, large = maximum_matching(graph), _hopcroft_karp(graph)
        assert _is_matching(graph, small) and _is_matching(graph, large)
        assert len(small) == len(large)


def test_a_long_chain_is_matched_completely():
    # equation k uses unknowns k+1 and k, the last only its own (a perfect matching
    # exists; greedy choices must be undone along the chain); large: scipy's matching
    n = 20_000
    graph = [[k + 1, k] for k in range(n - 1)] + [[n - 1]]
    match_var = maximum_matching(graph)
    assert len(match_var) == n and _is_matching(graph, match_var)
