"""The IC kernel's blocks of 64 trials: how trials are grouped never changes a trial's result.

The kernel runs a block's rounds for all lanes at once while accounts are active in many
lanes, then lane by lane (``sim.classic.kernel.SHARED_LANES_MIN``); it accepts any subset of
trials in any order. All of that is a speed choice: every trial's outcome is a function
of (root, trial) only. Checked here against the two extremes of the switch and against
single-trial runs; the distribution itself is checked by the oracles (tests/oracles).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.base.rng import root_key
from sim.classic import kernel as cascade
from sim.classic.model import IndependentCascadeArrays, compile_model
from sim.classic.recruits import RecruitPlan
from sim.classic.spec import IndependentCascade
from sim.world.build import build_graph
from sim.world.graph import FlatGraph
from sim.world.spec import BarabasiAlbertGraph


@pytest.fixture(scope="module")
def graph() -> FlatGraph:
    return build_graph(BarabasiAlbertGraph(kind="barabasi_albert", n=3000, m=3), 4)


def _run(graph, model, plan, trials, share_min, max_steps=cascade.UNLIMITED):
    return cascade._ic_run(cascade.graph_record(graph), cascade.cascade_record(model), cascade.recruits_record(plan),
                           root_key(9), np.asarray(trials, dtype=np.int64), np.int32(max_steps), share_min)


def _plans(graph):
    rng = np.random.default_rng(0)
    fixed = np.sort(rng.choice(graph.n, 40, replace=False)).astype(np.int32)
    return [RecruitPlan(fixed, 0), RecruitPlan(fixed[:5], 3), RecruitPlan(np.zeros(0, np.int32), 2)]


@pytest.mark.parametrize("p", [0.02, 0.12, "hetero"])
def test_all_lanes_together_equals_lane_by_lane(graph, p):
    """Sharing every round, sharing only the recruits' round, and the default switch agree trial for trial."""
    if p == "hetero":
        probs = np.random.default_rng(2).uniform(0, 0.2, graph.m)
        model = IndependentCascadeArrays(prob=probs)
    else:
        model = compile_model(IndependentCascade(kind="independent_cascade", edge_prob=p), graph)
    trials = np.arange(192)
    for plan in _plans(graph):
        for steps in (cascade.UNLIMITED, 2):
            shared = _run(graph, model, plan, trials, 0.0, steps)
            by_lane = _run(graph, model, plan, trials, 1e9, steps)
            default = _run(graph, model, plan, trials, cascade.SHARED_LANES_MIN, steps)
            for got in (by_lane, default):
                assert np.array_equal(got[0], shared[0]) and np.array_equal(got[1], shared[1])
            assert shared[0].std() > 0  # the trials really differ


def test_any_subset_in_any_order_gives_the_same_trials(graph):
    model = compile_model(IndependentCascade(kind="independent_cascade", edge_prob=0.1), graph)
    plan = _plans(graph)[1]
    full = cascade.final_sizes(graph, model, plan, root_key(9), np.arange(300))
    rng = np.random.default_rng(5)
    pick = rng.permutation(300)[:77]
    pick = np.concatenate([pick, pick[:3]])  # duplicates too
    part = cascade.final_sizes(graph, model, plan, root_key(9), pick)
    assert np.array_equal(part[0], full[0][pick]) and np.array_equal(part[1], full[1][pick])


def test_activation_times_of_one_trial_match_its_block(graph):
    """A single trial run alone (one lane) gives the size and duration it has inside its block."""
    model = compile_model(IndependentCascade(kind="independent_cascade", edge_prob=0.1), graph)
    for plan in _plans(graph):
        sizes, steps = cascade.final_sizes(graph, model, plan, root_key(9), np.arange(128))
        for t in (0, 5, 63, 64, 100, 127):
            times = cascade.activation_times(graph, model, plan, root_key(9), t)
            assert (times >= 0).sum() == sizes[t]
            assert times.max() == steps[t]
            k = len(set(plan.fixed.tolist()))
            assert k <= (times == 0).sum() <= k + plan.n_random


def _reference_times(graph, prob_threshold, recruits, trial):
    """Breadth-first search over the edges whose lane draw (sim.base.rng.lane_numbers) is below threshold."""
    from collections import deque

    from sim.base.rng import LANES, Stream, as_key, lane_numbers, trial_key

    key = trial_key(root_key(9), as_key(Stream.LIVE_LANES), as_key(trial // LANES))
    live = lane_numbers(np.uint64(key), np.arange(graph.m), trial % LANES) < prob_threshold
    times = np.full(graph.n, -1)
    times[recruits] = 0
    queue = deque(recruits)
    while queue:
        u = queue.popleft()
        for e in range(graph.indptr[u], graph.indptr[u + 1]):
            v = graph.indices[e]
            if live[e] and times[v] < 0:
                times[v] = times[u] + 1
                queue.append(v)
    return times


def test_kernel_matches_a_plain_bfs_over_lane_draws(graph):
    """Heterogeneous p with exact 0s and 1s and thresholds whose top digit ties often.

    The kernel compares eight edges' first digits at once against packed top digits and
    resolves ties digit by digit; the reference reads each edge's whole 56-bit draw.
    """
    rng = np.random.default_rng(8)
    probs = rng.choice([0.0, 1.0, 0.05, 3 / 256, 3 / 256 + 1e-9, 0.3], size=graph.m, p=[.1, .02, .38, .2, .2, .1])
    model = IndependentCascadeArrays(prob=probs)
    plan = RecruitPlan(np.array([0, 17, 500], np.int32), 0)
    sizes, _ = cascade.final_sizes(graph, model, plan, root_key(9), np.arange(128))
    for t in (0, 1, 63, 64, 127):
        want = _reference_times(graph, model.threshold, [0, 17, 500], t)
        got = cascade.activation_times(graph, model, plan, root_key(9), t)
        assert np.array_equal(got, want)
        assert sizes[t] == (want >= 0).sum()
