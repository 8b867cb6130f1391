"""The runner: tables independent of workers and interruptions; results folder round trip."""

from __future__ import annotations

import textwrap

import pandas as pd
import pyarrow as pa
import pytest

import sim.execution.runner
import sim.execution.tasks
from sim import parse_scenario, run, save
from sim.execution.runner import chunk_bounds
from sim.execution.store import RESULTS_LAYOUT, RunStore, StoreError

TEXT = textwrap.dedent("""\
    name: crn
    seed: 11
    trials: 900
    world:
      graph: {kind: barabasi_albert, n: 3000, m: 2}
    model: {kind: independent_cascade, edge_prob: 0.2}
    strategies:
      - {name: rand_a, recruits: {rule: random, count: 3}}
      - {name: rand_b, recruits: {rule: random, count: 3}}
      - {name: hubs, recruits: {rule: top_degree, count: 3}}
    """)


@pytest.fixture(scope="module")
def scenario():
    return parse_scenario(TEXT)


@pytest.fixture(scope="module")
def reference(scenario):
    return run(scenario, workers=1)


def test_chunks_cover_trials_exactly():
    for trials in (1, 2, 49, 50, 51, 799, 800, 801, 100_003):
        bounds = chunk_bounds(trials)
        assert bounds[0][0] == 0 and bounds[-1][1] == trials
        assert all(a < b for a, b in bounds)
        assert all(b == a2 for (_, b), (a2, _) in zip(bounds, bounds[1:], strict=False))
        if len(bounds) > 1:  # IC blocks of 64 trials are never split between chunks
            assert all(a % 64 == 0 for a, _ in bounds)


def test_same_table_for_1_and_2_workers(scenario, reference):
    two = run(scenario, workers=2)
    pd.testing.assert_frame_equal(reference.table, two.table)


def test_common_random_numbers_pair_identical_strategies(reference):
    """Two strategies with the same rule see the same draws, so their rows are identical."""
    t = reference.table
    a = t[t.strategy == "rand_a"]["adopted"].to_numpy()
    b = t[t.strategy == "rand_b"]["adopted"].to_numpy()
    hubs = t[t.strategy == "hubs"]["adopted"].to_numpy()
    assert (a == b).all()
    assert not (a == hubs).all()


def test_table_shape_and_bounds(reference):
    t = reference.table
    assert len(t) == 3 * 900
    assert t.groupby("strategy", sort=False)["trial"].apply(list).map(lambda x: x == list(range(900))).all()
    assert (t["adopted"] >= 3).all() and (t["adopted"] <= 3000).all()
    assert (t["adopted_fraction"] == t["adopted"] / 3000).all()


def test_interrupted_run_resumes_to_the_same_table(scenario, reference, tmp_path, monkeypatch):
    real = sim.execution.tasks.compute_chunk
    calls = {"n": 0}

    def crashing(*args):
        calls["n"] += 1
        if calls["n"] > 20:
            raise KeyboardInterrupt("simulated kill")
        return real(*args)

    monkeypatch.setattr(sim.execution.tasks, "compute_chunk", crashing)
    with pytest.raises(KeyboardInterrupt):
        run(scenario, out=tmp_path / "run", workers=1)
    store = RunStore(tmp_path / "run")
    finished = store.finished()
    assert len(finished) == 20
    assert store.read_manifest()["status"] == "running"
    monkeypatch.setattr(sim.execution.tasks, "compute_chunk", real)

    recomputed = []
    monkeypatch.setattr(sim.execution.tasks, "compute_chunk", lambda *a: recomputed.append(a[3]) or real(*a))
    resumed = run(scenario, out=tmp_path / "run", workers=2)
    total = 3 * len(chunk_bounds(900))
    assert len(recomputed) == total - 20
    pd.testing.assert_frame_equal(reference.table, resumed.table)
    pd.testing.assert_frame_equal(reference.table, pd.read_parquet(tmp_path / "run" / "runs.parquet")
                                  .astype(reference.table.dtypes.to_dict()))
    assert store.read_manifest()["status"] == "complete"


def test_save_round_trip_and_refusal(scenario, reference, tmp_path):
    folder = save(reference, tmp_path / "saved")
    back = pd.read_parquet(folder / "runs.parquet").astype(reference.table.dtypes.to_dict())
    pd.testing.assert_frame_equal(reference.table, back)
    manifest = RunStore(folder).read_manifest()
    assert manifest["scenario_sha256"] == scenario.digest()
    assert manifest["seed"] == 11 and manifest["scenario"]["trials"] == 900
    assert "numba" in manifest["packages"]
    other = scenario.with_overrides(seed=12)
    with pytest.raises(StoreError):
        run(other, out=folder)


def test_summary_matches_table(reference):
    s = reference.summary().set_index(["strategy", "outcome"])
    t = reference.table
    for name in ("rand_a", "hubs"):
        x = t[t.strategy == name]["adopted"]
        row = s.loc[(name, "adopted")]
        assert row["mean"] == pytest.approx(x.mean())
        assert row["sem"] == pytest.approx(x.std(ddof=1) / len(x) ** 0.5)
        assert row["ci95_low"] < row["mean"] < row["ci95_high"]


def test_folder_from_another_results_layout_is_not_resumed(scenario, reference, tmp_path):
    """Parts written under another chunking or draw scheme would cover other trials: refuse, then recompute."""
    small = scenario.with_overrides(trials=130)
    folder = tmp_path / "old"
    first = run(small, out=folder)
    store = RunStore(folder)
    manifest = store.read_manifest()
    assert manifest["results_layout"] == RESULTS_LAYOUT
    del manifest["results_layout"]  # as written before layouts were recorded
    store.write_manifest(manifest)
    with pytest.raises(StoreError, match="another version"):
        run(small, out=folder)
    again = run(small, out=folder, overwrite=True)
    assert again.info.chunks.resumed == 0
    pd.testing.assert_frame_equal(first.table, again.table)


@pytest.mark.parametrize("as_dictionary", [True, False])
def test_rows_ordered_by_strategy_then_trial_whatever_the_input(reference, as_dictionary):
    """Rows arriving shuffled, with the strategy dictionary-encoded (the runner's chunks) or as
    strings (parts read back from a run folder), come out in scenario order."""
    names = ["rand_a", "rand_b", "hubs"]
    shuffled = reference.table.sample(frac=1.0, random_state=3).reset_index(drop=True)
    table = pa.Table.from_pandas(shuffled, preserve_index=False)
    strategy = pa.array(shuffled["strategy"].to_numpy(dtype=object), pa.string())
    if as_dictionary:
        strategy = strategy.dictionary_encode()  # categories in order of appearance, not scenario order
    table = table.set_column(0, "strategy", strategy)
    out = sim.execution.runner._in_order(table, names)
    pd.testing.assert_frame_equal(out, reference.table)
    assert out["strategy"].dtype == "string"


def test_resume_reads_parts_of_either_string_type(scenario, reference, tmp_path):
    """A folder whose parts hold large_string columns (written from pandas: Results.save, or
    an earlier version) next to the runner's string columns resumes to the same table."""
    import pyarrow.parquet as pq

    folder = tmp_path / "mixed"
    run(scenario, out=folder)
    parts = sorted((folder / "runs.parquet").glob("part-*.parquet"))
    pd.read_parquet(parts[0]).to_parquet(parts[0], index=False)  # rewritten as pandas writes it
    assert pq.read_schema(parts[0]).field("strategy").type != pq.read_schema(parts[1]).field("strategy").type
    parts[-1].unlink()  # one chunk to recompute
    resumed = run(scenario, out=folder)
    assert resumed.info.chunks.resumed == len(parts) - 1
    pd.testing.assert_frame_equal(resumed.table, reference.table)
