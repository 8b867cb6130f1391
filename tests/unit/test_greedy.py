"""Lazy greedy (CELF) against plain greedy, and both against exhaustive search on small instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.influence.greedy import lazy_greedy, plain_greedy


def coverage(sets: list[set[int]], weights: np.ndarray):
    """Weighted coverage f(S) = weight of the union of the chosen sets: monotone submodular."""
    def f(chosen: tuple[int, ...]) -> float:
        covered = set().union(*(sets[i] for i in chosen)) if chosen else set()
        return float(weights[list(covered)].sum()) if covered else 0.0
    return f


def random_instance(rng: np.random.Generator, n: int = 25, universe: int = 60):
    sets = [set(rng.choice(universe, size=rng.integers(1, 12), replace=False).tolist()) for _ in range(n)]
    return sets, rng.integers(1, 10, size=universe).astype(float)


@pytest.mark.parametrize("instance", range(30))
def test_lazy_equals_plain_on_submodular_objectives(instance):
    rng = np.random.default_rng([2026, instance])
    sets, weights = random_instance(rng)
    f = coverage(sets, weights)
    cands = list(range(len(sets)))
    if instance % 2:
        cost = rng.uniform(0.5, 3.0, size=len(sets))
        a = plain_greedy(cands, f, budget=8.0, cost=cost)
        b = lazy_greedy(cands, f, budget=8.0, cost=cost)
        assert a.spent <= 8.0 + 1e-12
    else:
        a = plain_greedy(cands, f, k=6)
        b = lazy_greedy(cands, f, k=6)
        assert len(a.chosen) == 6
    assert a.chosen == b.chosen
    assert a.values == b.values
    assert b.evaluations < a.evaluations


def test_greedy_is_within_the_classic_bound_of_the_optimum():
    """Nemhauser, Wolsey & Fisher (1978): greedy >= (1 - 1/e) x optimum for k picks."""
    for instance in range(10):
        rng = np.random.default_rng([7, instance])
        sets, weights = random_instance(rng, n=12, universe=30)
        f = coverage(sets, weights)
        best = max(f(s) for s in itertools.combinations(range(12), 3))
        got = lazy_greedy(list(range(12)), f, k=3).values[-1]
        assert got >= (1 - 1 / np.e) * best - 1e-9
        assert got <= best


def test_ties_go_to_the_candidate_listed_first():
    f = lambda s: float(len(s))  # noqa: E731  every candidate gains 1
    assert lazy_greedy([5, 3, 9], f, k=2).chosen == (5, 3)
    assert plain_greedy([5, 3, 9], f, k=2).chosen == (5, 3)


def test_budget_skips_what_it_cannot_afford():
    f = lambda s: float(sum({0: 10, 1: 4, 2: 3}[i] for i in s))  # noqa: E731  modular
    cost = [10.0, 2.0, 2.0]
    for pick in (plain_greedy, lazy_greedy):
        got = pick([0, 1, 2], f, budget=5.0, cost=cost)
        assert got.chosen == (1, 2)  # the best per dollar that fit; 0 never fits
        assert got.spent == 4.0


@pytest.mark.parametrize("bad", [dict(), dict(k=-1), dict(budget=-1.0), dict(k=1, cost=[1.0]),
                                 dict(k=1, cost=[1.0, 0.0, 1.0])])
def test_bad_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        lazy_greedy([0, 1, 2], lambda s: 0.0, **bad)
