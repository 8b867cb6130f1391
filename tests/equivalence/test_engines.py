"""The Mesa engine (sim.classic.agents) reproduces the numba kernels (sim.classic.kernel) exactly.

Every random number is keyed by what it is for (sim.base.rng), so for the same graph,
model, recruit plan, root key and trial the two engines must give identical
activation steps for every account: ``np.array_equal``, not a statistical match.
The Mesa engine visits agents in a shuffled order; its results must not depend on
the seed of that shuffle.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.base.rng import root_key
from sim.classic import agents
from sim.classic import kernel as cascade
from sim.classic.model import ThresholdArrays, compile_model
from sim.classic.recruits import RecruitPlan, plan_recruits
from sim.classic.spec import (
    ExplicitRecruits,
    FractionalThreshold,
    IndependentCascade,
    LinearThreshold,
    RandomRecruits,
    TopDegreeRecruits,
)
from sim.world.graph import FlatGraph

ROOT = root_key(20250114)
TRIALS = (0, 3, 2**40 + 7)
SHUFFLE_SEEDS = (0, 987654321)
LIMITS = (None, 0, 1, 2, 4)

MODELS = [
    IndependentCascade(kind="independent_cascade", edge_prob=0.0),
    IndependentCascade(kind="independent_cascade", edge_prob=0.15),
    IndependentCascade(kind="independent_cascade", edge_prob=0.4),
    IndependentCascade(kind="independent_cascade", edge_prob=1.0),
    IndependentCascade(kind="independent_cascade", edge_prob="edge_weight"),
    IndependentCascade(kind="independent_cascade", edge_prob="weighted_cascade"),
    LinearThreshold(kind="linear_threshold", weights="in_degree"),
    LinearThreshold(kind="linear_threshold", weights=0.3),
    LinearThreshold(kind="linear_threshold", weights=1.0),
    LinearThreshold(kind="linear_threshold", weights="edge_weight"),
    FractionalThreshold(kind="fractional_threshold", phi=0.0),
    FractionalThreshold(kind="fractional_threshold", phi=0.25),
    FractionalThreshold(kind="fractional_threshold", phi=1 / 3),
    FractionalThreshold(kind="fractional_threshold", phi=0.5),
    FractionalThreshold(kind="fractional_threshold", phi=1.0),
]


# --------------------------------------------------------------------------- worlds

def _weights(rng: np.random.Generator, m: int) -> np.ndarray:
    """Edge weights in [0, 1], with exact 0, 1/2 and 1 mixed in (boundary cases of both models)."""
    w = rng.random(m)
    pick = rng.random(m)
    w[pick < 0.1] = 0.0
    w[(pick >= 0.1) & (pick < 0.2)] = 1.0
    w[(pick >= 0.2) & (pick < 0.3)] = 0.5
    return w


def _from_nx(g: nx.Graph, seed: int, name: str) -> FlatGraph:
    rng = np.random.default_rng(seed)
    edges = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    return FlatGraph.from_edges(
        g.number_of_nodes(), edges[:, 0], edges[:, 1], weight=_weights(rng, len(edges)),
        directed=g.is_directed(), name=name,
    )


def _multigraph(seed: int) -> FlatGraph:
    """Random directed multigraph: parallel edges, self-loops, usually in-degree-0 nodes."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 120))
    m = int(rng.integers(n // 2, 3 * n))
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    dup = rng.integers(0, m, max(1, m // 5))  # parallel copies of existing edges
    loops = rng.integers(0, n, max(1, n // 10))
    src = np.concatenate([src, src[dup], loops])
    dst = np.concatenate([dst, dst[dup], loops])
    w = _weights(rng, len(src))
    return FlatGraph.from_edges(n, src, dst, weight=w, name=f"multigraph-{seed}")


def _arborescence(n: int, seed: int) -> nx.DiGraph:
    return nx.bfs_tree(nx.random_labeled_tree(n, seed=seed), 0)


def _worlds() -> list[FlatGraph]:
    worlds = [_multigraph(s) for s in range(10)]
    for i, (n, p) in enumerate([(5, 0.5), (30, 0.1), (80, 0.05), (150, 0.02), (200, 0.03)]):
        directed = nx.gnp_random_graph(n, p, seed=i, directed=True)
        worlds.append(_from_nx(directed, 100 + i, f"er-directed-{n}"))
        worlds.append(_from_nx(nx.gnp_random_graph(n, p, seed=10 + i), 110 + i, f"er-{n}"))
    for i, (n, k) in enumerate([(6, 1), (40, 2), (120, 3), (200, 2)]):
        worlds.append(_from_nx(nx.barabasi_albert_graph(n, k, seed=20 + i), 120 + i, f"ba-{n}-{k}"))
    for i, n in enumerate([5, 25, 90, 200]):
        worlds.append(_from_nx(nx.random_labeled_tree(n, seed=30 + i), 130 + i, f"tree-{n}"))
        worlds.append(_from_nx(_arborescence(n, 40 + i), 140 + i, f"arborescence-{n}"))
    # Even in-degrees make fractional thresholds hit exactly (phi = 0.5 of 4 is 2.0).
    for i, n in enumerate([10, 60, 180]):
        regular = nx.random_regular_graph(4, n, seed=50 + i)
        worlds.append(_from_nx(regular, 150 + i, f"4-regular-{n}"))
    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(7, 9))
    worlds.append(_from_nx(grid, 160, "grid-7x9"))
    worlds.append(_from_nx(nx.cycle_graph(12), 161, "cycle-12"))
    return worlds


WORLDS = _worlds()


def _plans(graph: FlatGraph, salt: int) -> list[RecruitPlan]:
    rng = np.random.default_rng(1000 + salt)
    named = rng.integers(0, graph.n, 3).tolist()
    return [
        plan_recruits(RandomRecruits(rule="random", count=1), graph),
        plan_recruits(RandomRecruits(rule="random", count=min(3, graph.n)), graph),
        plan_recruits(TopDegreeRecruits(rule="top_degree", count=2), graph),
        plan_recruits(ExplicitRecruits(rule="explicit", nodes=[*named, named[0]]), graph),
    ]


def _mesa_times(graph, model, plan, trial, max_steps, shuffle_seed):
    return agents.activation_times(
        graph, model, plan, ROOT, trial, max_steps, shuffle_seed=shuffle_seed
    )


def _assert_engines_agree(graph, model, plan, max_steps, trials=TRIALS):
    for trial in trials:
        expected = cascade.activation_times(graph, model, plan, ROOT, trial, max_steps)
        for seed in SHUFFLE_SEEDS:
            got = _mesa_times(graph, model, plan, trial, max_steps, seed)
            assert got.dtype == np.int32
            assert np.array_equal(got, expected), (
                f"{graph.name}: trial {trial}, max_steps {max_steps}, shuffle seed {seed}: "
                f"accounts {np.flatnonzero(got != expected).tolist()} differ"
            )


# --------------------------------------------------------------------------- random worlds

def test_enough_worlds():
    assert len(WORLDS) >= 30
    assert min(w.n for w in WORLDS) >= 5 and max(w.n for w in WORLDS) <= 200


@pytest.mark.parametrize("wi", range(len(WORLDS)), ids=[w.name for w in WORLDS])
def test_activation_times_identical(wi):
    graph = WORLDS[wi]
    plans = _plans(graph, wi)
    for mi, spec in enumerate(MODELS):
        model = compile_model(spec, graph)
        # Rotate recruit rules and step limits so every combination occurs across worlds.
        plan = plans[(wi + mi) % len(plans)]
        max_steps = LIMITS[(3 * wi + mi) % len(LIMITS)]
        _assert_engines_agree(graph, model, plan, max_steps)


@pytest.mark.parametrize("wi", range(0, len(WORLDS), 3), ids=[w.name for w in WORLDS[::3]])
def test_final_sizes_identical(wi):
    graph = WORLDS[wi]
    trials = np.array([5, 0, 11, 2, 2**33], dtype=np.int64)
    for spec in (MODELS[2], MODELS[5], MODELS[6], MODELS[13]):
        model = compile_model(spec, graph)
        for plan in _plans(graph, wi)[:2]:
            for max_steps in (None, 2):
                args = (graph, model, plan, ROOT, trials, max_steps)
                k_adopted, k_steps = cascade.final_sizes(*args)
                m_adopted, m_steps = agents.final_sizes(*args)
                assert m_adopted.dtype == np.int64 and m_steps.dtype == np.int32
                assert np.array_equal(m_adopted, k_adopted)
                assert np.array_equal(m_steps, k_steps)


# --------------------------------------------------------------------------- corner cases

def _graph(n, edges, weight=None):
    e = np.array(edges, dtype=np.int64).reshape(-1, 2)
    return FlatGraph.from_edges(n, e[:, 0], e[:, 1], weight=weight, name="hand-built")


def _fixed(*nodes):
    return RecruitPlan(np.array(nodes, dtype=np.int32), 0)


FT = {phi: FractionalThreshold(kind="fractional_threshold", phi=phi) for phi in (0.0, 0.5, 1.0)}


@pytest.mark.parametrize(
    ("n", "edges", "spec", "recruits", "expected"),
    [
        # phi = 0: only accounts reached by an edge from an active account are examined, so the
        # isolated account 3 and account 4 (in-degree 0) never activate although 0 >= 0.
        (5, [(0, 1), (1, 2), (4, 0)], FT[0.0], (0,), [0, 1, 2, -1, -1]),
        # Exact tie: 2 of 4 in-neighbours active meets phi = 0.5 (2 >= 2.0); 1 of 4 does not.
        (5, [(0, 4), (1, 4), (2, 4), (3, 4)], FT[0.5], (0, 1), [0, 0, -1, -1, 1]),
        (5, [(0, 4), (1, 4), (2, 4), (3, 4)], FT[0.5], (0,), [0, -1, -1, -1, -1]),
        # Parallel edges count with multiplicity: 2 of 3 units from account 0, 1 of 3 from 1.
        (3, [(0, 2), (0, 2), (1, 2)], FT[0.5], (0,), [0, -1, 1]),
        (3, [(0, 2), (0, 2), (1, 2)], FT[0.5], (1,), [-1, 0, -1]),
        # A self-loop is an in-edge of an inactive account: with phi = 1 it can never be met.
        (3, [(0, 2), (2, 2)], FT[0.5], (0,), [0, -1, 1]),
        (3, [(0, 2), (2, 2)], FT[1.0], (0,), [0, -1, -1]),
        # Recruits listed twice are one recruit.
        (3, [(0, 1), (1, 2)], FT[1.0], (2, 0, 0, 2), [0, 1, 0]),
        # IC with p = 1 is breadth-first distance along out-edges.
        (4, [(0, 1), (1, 2), (2, 0), (3, 3)],
         IndependentCascade(kind="independent_cascade", edge_prob=1.0), (1,), [2, 0, 1, -1]),
    ],
)
def test_hand_built_cases(n, edges, spec, recruits, expected):
    graph = _graph(n, edges)
    model = compile_model(spec, graph)
    plan = _fixed(*recruits)
    for trial in TRIALS:
        k = cascade.activation_times(graph, model, plan, ROOT, trial)
        assert k.tolist() == expected
        for seed in SHUFFLE_SEEDS:
            assert _mesa_times(graph, model, plan, trial, None, seed).tolist() == expected


def test_zero_weight_edges_expose_without_influence():
    graph = _graph(3, [(0, 1), (0, 2), (1, 2)], weight=[0.0, 0.0, 1.0])
    model = compile_model(LinearThreshold(kind="linear_threshold", weights="edge_weight"), graph)
    _assert_engines_agree(graph, model, _fixed(0), None, trials=range(20))
    m = agents.CascadeModel(graph, model, _fixed(0), ROOT, 0)
    m.run()
    assert m.accounts[1].exposed and m.accounts[1].influence == 0 and not m.accounts[1].active


def test_comparison_rounds_like_the_kernel():
    """Above 2**53 the kernel compares int64 sums as float64; the Mesa engine must round alike."""
    graph = _graph(2, [(0, 1)])
    big = 2**53 + 3  # float64(big) == 2**53 + 4
    scale = np.array([1.0, float(2**53 + 4)])
    model = ThresholdArrays(np.array([big], dtype=np.int64), scale, 1.0, 0.0)
    k = cascade.activation_times(graph, model, _fixed(0), ROOT, 0)
    assert k.tolist() == [0, 1]
    assert np.array_equal(_mesa_times(graph, model, _fixed(0), 0, None, 0), k)


@pytest.mark.parametrize("wi", [0, 3, 12, 30])
def test_random_recruits_mixed_with_fixed_and_all_accounts(wi):
    """Floyd draws that land on a fixed recruit must be handled exactly as in the kernel."""
    graph = WORLDS[wi]
    model = compile_model(MODELS[2], graph)
    n = graph.n
    for plan in (
        RecruitPlan(np.array([n - 1, n - 2, 0, n - 1], dtype=np.int32), min(3, n - 3)),
        RecruitPlan(np.zeros(0, dtype=np.int32), n),
    ):
        _assert_engines_agree(graph, model, plan, None, trials=range(10))
    everyone = agents.activation_times(graph, model, RecruitPlan(np.zeros(0, np.int32), n), ROOT, 4)
    assert (everyone == 0).all()


@pytest.mark.parametrize(
    ("n", "fixed", "k"), [(10, [9, 8, 0, 9], 3), (12, [11, 5], 4), (7, [], 7), (9, [3, 3], 0)]
)
def test_recruit_sets_identical(n, fixed, k):
    """With max_steps = 0 the kernel returns exactly the recruits; compare them over many trials."""
    graph = _graph(n, [(i, (i + 1) % n) for i in range(n)])
    model = compile_model(MODELS[3], graph)
    plan = RecruitPlan(np.array(fixed, dtype=np.int32), k)
    m = agents.CascadeModel(graph, model, plan, ROOT, 0, max_steps=0)
    for trial in range(400):
        expected = cascade.activation_times(graph, model, plan, ROOT, trial, 0)
        m.start_trial(trial)
        m.run()
        assert np.array_equal(m.activation_times(), expected), f"trial {trial}"
        recruits = sorted(agents.recruits_of_trial(n, plan, ROOT, trial))
        assert recruits == np.flatnonzero(expected == 0).tolist()


@pytest.mark.parametrize("max_steps", [0, 1, 3])
def test_step_limit(max_steps):
    graph = _graph(6, [(i, i + 1) for i in range(5)])
    model = compile_model(IndependentCascade(kind="independent_cascade", edge_prob=1.0), graph)
    expected = [t if t <= max_steps else -1 for t in range(6)]
    k = cascade.activation_times(graph, model, _fixed(0), ROOT, 0, max_steps)
    assert k.tolist() == expected
    assert _mesa_times(graph, model, _fixed(0), 0, max_steps, 1).tolist() == expected


# --------------------------------------------------------------------------- agent state

def test_threshold_agents_state_is_consistent():
    graph = WORLDS[25]
    spec = LinearThreshold(kind="linear_threshold", weights="edge_weight")
    model = compile_model(spec, graph)
    m = agents.CascadeModel(graph, model, _plans(graph, 0)[1], ROOT, 3, shuffle_seed=5)
    m.run()
    for a in m.accounts:
        assert isinstance(a, agents.ThresholdAccount)
        assert a.need == a.threshold * a.scale and 0.0 <= a.threshold < 1.0
        if not a.active:
            arriving = [w for w, s in zip(a.in_weights, a.in_sources, strict=True) if s.active]
            assert a.influence == sum(arriving) and a.exposed == bool(arriving)
            assert not (a.exposed and a.influence >= a.need)
    assert m.adopted == sum(a.active for a in m.accounts)


def test_model_is_released():
    """Mesa 3.3.1 keeps every model alive through Agent._ids; ours must be collectable."""
    graph = WORLDS[11]
    m = agents.CascadeModel(graph, compile_model(MODELS[1], graph), _plans(graph, 0)[0], ROOT)
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None


def test_import_keeps_multiprocessing_start_method():
    """`import mesa` forces the 'spawn' start method; importing the engine must undo that."""
    code = (
        "import multiprocessing as mp; import sim.classic.agents; "
        "print(mp.get_start_method(allow_none=True))"
    )
    repo = Path(__file__).resolve().parents[2]
    path = os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo,
        env={**os.environ, "PYTHONPATH": path}, check=True,
    )
    assert out.stdout.strip() == "None"
