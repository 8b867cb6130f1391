"""The general threshold model (threshold laws, count units, instigators): Mesa = numba, account by account.

Same contract as ``test_engines.py``: identical activation steps for every account, for every
law of :class:`sim.classic.spec.GeneralThreshold`, with and without instigators, under two
shuffle seeds of the Mesa engine.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sim.base.rng import root_key
from sim.classic import agents
from sim.classic import kernel as cascade
from sim.classic.model import compile_model
from sim.classic.recruits import RecruitPlan
from sim.classic.spec import GeneralThreshold
from sim.world.graph import FlatGraph

ROOT = root_key(7788)


def _graph(g: nx.Graph, name: str) -> FlatGraph:
    e = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    return FlatGraph.from_edges(g.number_of_nodes(), e[:, 0], e[:, 1], directed=g.is_directed(), name=name)


GRAPHS = [
    _graph(nx.gnp_random_graph(120, 0.06, seed=1), "er-120"),
    _graph(nx.gnp_random_graph(80, 0.08, seed=2, directed=True), "er-directed-80"),
    _graph(nx.complete_graph(40), "complete-40"),
    _graph(nx.convert_node_labels_to_integers(nx.triangular_lattice_graph(6, 12, periodic=True)), "tri-lattice"),
]


def _laws(n: int):
    rng = np.random.default_rng(n)
    return [
        {"thresholds": {"kind": "normal", "mean": 0.2, "sd": 0.15}, "units": "fraction", "instigators": True},
        {"thresholds": {"kind": "normal", "mean": 0.3, "sd": 0.1}, "units": "fraction", "instigators": False},
        {"thresholds": {"kind": "normal", "mean": 3.0, "sd": 2.0}, "units": "count", "instigators": True},
        {"thresholds": {"kind": "uniform", "low": -0.2, "high": 0.6}, "instigators": True},
        {"thresholds": {"kind": "fixed", "value": 2}, "units": "count"},
        {"thresholds": {"kind": "signals", "adopt": [0.1, 0.5, 0.8]}, "units": "count"},
        {"thresholds": {"kind": "signals", "adopt": [0.0, 1.0]}, "units": "count"},
        {"thresholds": {"kind": "listed", "values": rng.integers(-1, 5, n).astype(float).tolist()},
         "units": "count", "instigators": True},
    ]


@pytest.mark.parametrize("gi", range(len(GRAPHS)), ids=[g.name for g in GRAPHS])
def test_general_threshold_engines_identical(gi):
    graph = GRAPHS[gi]
    plans = [RecruitPlan(np.array([0, 5], dtype=np.int32), 0), RecruitPlan(np.zeros(0, np.int32), 2)]
    for li, law in enumerate(_laws(graph.n)):
        model = compile_model(GeneralThreshold.model_validate({"kind": "threshold", **law}), graph)
        plan = plans[li % 2]
        for trial in (0, 9, 2**35 + 1):
            expected = cascade.activation_times(graph, model, plan, ROOT, trial)
            for shuffle in (0, 4242):
                got = agents.activation_times(graph, model, plan, ROOT, trial, shuffle_seed=shuffle)
                assert np.array_equal(got, expected), (graph.name, law, trial)
        # final_sizes agrees with the per-account times (the kernel's two entry points)
        trials = np.arange(6)
        k_sizes, _ = cascade.final_sizes(graph, model, plan, ROOT, trials)
        m_sizes, _ = agents.final_sizes(graph, model, plan, ROOT, trials)
        assert np.array_equal(k_sizes, m_sizes)
        times = [cascade.activation_times(graph, model, plan, ROOT, t) for t in trials]
        assert k_sizes.tolist() == [int((t >= 0).sum()) for t in times]
