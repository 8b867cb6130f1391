"""Graph building: CSR layout, edge-list formats, the dataset registry and its checksums."""

from __future__ import annotations

import gzip

import networkx as nx
import numpy as np
import pytest

from sim.world.build import build_graph
from sim.world.datasets import DATASETS, DatasetUnavailable, content_sha256, dataset_path
from sim.world.edgelist import EdgeListError, EdgeListFormat, read_graph
from sim.world.graph import FlatGraph
from sim.world.spec import ConfigurationGraph, ErdosRenyiGraph, PoissonDegrees


def test_csr_is_sorted_by_source_then_target_and_keeps_parallel_edges():
    g = FlatGraph.from_edges(4, [2, 0, 0, 0, 3], [1, 3, 1, 1, 3], directed=True)
    assert g.indptr.tolist() == [0, 3, 3, 4, 5]
    assert g.indices.tolist() == [1, 1, 3, 1, 3]
    assert g.in_degree.tolist() == [0, 3, 0, 2]


def test_undirected_input_is_stored_both_ways_self_loop_once():
    g = FlatGraph.from_edges(3, [0, 1, 2], [1, 2, 2], directed=False)
    pairs = sorted(zip(g.sources.tolist(), g.indices.tolist(), strict=True))
    assert pairs == [(0, 1), (1, 0), (1, 2), (2, 1), (2, 2)]


def test_from_networkx_matches_networkx():
    nxg = nx.gnp_random_graph(200, 0.05, seed=3, directed=True)
    g = FlatGraph.from_networkx(nxg)
    for u in range(200):
        assert g.indices[g.indptr[u]:g.indptr[u + 1]].tolist() == sorted(nxg.successors(u))


def test_formats(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("# comment\r\n1 2\r\n2 1\r\n1 2\r\n5\t1\r\n")
    simple = read_graph(p, directed=False, fmt=EdgeListFormat.EDGELIST)
    multi = read_graph(p, directed=False, fmt=EdgeListFormat.MULTIGRAPH)
    directed = read_graph(p, directed=True, fmt=EdgeListFormat.EDGELIST)
    assert simple.labels.tolist() == [1, 2, 5]
    assert (simple.m, multi.m, directed.m) == (4, 8, 3)
    w = tmp_path / "w.txt"
    w.write_text("0 1 {'weight': 0.25}\n1 0 0.5\n")
    gw = read_graph(w, directed=True, fmt=EdgeListFormat.EDGELIST)
    assert gw.weight.tolist() == [0.25, 0.5]
    j = tmp_path / "g.json.gz"
    with gzip.open(j, "wt") as fh:
        fh.write('{"labels": {"0": "m", "1": "f", "2": "f"}, "edges": [[0, 1], [1, 0]]}')
    gj = read_graph(j, directed=True, fmt=EdgeListFormat.JSON)
    assert (gj.n, gj.m) == (3, 2)


def test_bad_line_names_file_and_line(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("1 2\n3\n")
    with pytest.raises(EdgeListError, match=r"g\.txt:2: expected"):
        read_graph(p, directed=True, fmt=EdgeListFormat.EDGELIST)


# Counts published with the data (shared/data/graphs/README.md, matching SNAP's pages).
PUBLISHED = {
    "nethept": (15233, 2 * 58891 - 39),
    "wiki-vote": (7115, 103689),
    "ca-grqc": (5242, 2 * 14496 - 12),
    "ca-hepth": (9877, 2 * 25998 - 25),
    "ego-facebook": (4039, 2 * 88234),
    "congress-twitter": (475, 13289),
    "twitter-hersheycareers": (3726, 23939),
    "twitter-verizoncareers": (9226, 59576),
    "twitter-bofa-careers": (13688, 68328),
}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_datasets_match_published_counts(name):
    try:
        path = dataset_path(name, download=False)
    except DatasetUnavailable as exc:
        pytest.skip(f"no local copy of {name}: {exc}")
    assert content_sha256(path) == DATASETS[name].sha256
    ds = DATASETS[name]
    g = read_graph(path, directed=ds.directed, fmt=ds.format)
    assert (g.n, g.m) == PUBLISHED[name]


def test_damaged_copy_is_refused(tmp_path, monkeypatch):
    (tmp_path / "wiki-Vote.txt").write_text("1 2\n")
    monkeypatch.setenv("ADVOCACY_SIM_DATA", str(tmp_path))
    with pytest.raises(DatasetUnavailable, match="does not match the known checksum"):
        dataset_path("wiki-vote", download=False)


def test_generators_are_seeded():
    spec = ErdosRenyiGraph(kind="erdos_renyi", n=500, mean_degree=3.0)
    a, b, c = build_graph(spec, 1), build_graph(spec, 1), build_graph(spec, 2)
    assert np.array_equal(a.indices, b.indices) and not np.array_equal(a.indices, c.indices)


def test_configuration_model_degrees():
    """Poisson(4) degrees: mean degree within 4 standard errors of 4 (self-loops removed: O(1/n))."""
    g = build_graph(ConfigurationGraph(kind="configuration", n=20000,
                                       degrees=PoissonDegrees(kind="poisson", mean=4.0)), 5)
    deg = g.out_degree
    assert abs(deg.mean() - 4.0) < 4 * deg.std() / np.sqrt(len(deg)) + 2 / 20000 * 4
