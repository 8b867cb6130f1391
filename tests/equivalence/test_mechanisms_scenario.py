"""``scenarios/mechanisms.yaml`` (every mechanism of issue 19 on) gives identical tables on both
engines, at any number of workers, in any chunking, and after an interrupted run is resumed.

The comparisons are exact (``assert_frame_equal`` on every table: trials, time series, partners,
segments), not statistical: every draw is keyed by what it is for (docs/model.md §7.1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.execution.tasks
from sim import load_scenario, run
from sim.base.rng import root_key
from sim.campaign import agents as campaign_agents
from sim.campaign import kernel as ck
from sim.campaign import model as campaign
from sim.execution.prepare import prepare
from sim.execution.runner import chunk_bounds

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "mechanisms.yaml"
TABLES = ("timeseries", "partners", "segments")


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def numba_run(scenario):
    return run(scenario, trials=130, workers=1)


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.table, b.table)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a.campaign, name), getattr(b.campaign, name))


def test_every_mechanism_is_on(scenario, numba_run):
    """The scenario exercises each mechanism: it is on in the compiled arrays and shows in the outcomes."""
    p = prepare(scenario)
    arrays, pop = p.model, p.world.population
    m, w = scenario.model, scenario.world
    assert m.alignment_weight > 0 and m.action_on_engagement > 0 and m.sources.synergy != 0
    assert arrays.sources_on and arrays.repetition_on and (arrays.repetition < 0).any()
    assert any(t.press is not None for t in w.tiers.values()) and "celebrity" in w.tiers
    assert any(t.audience_share < 1 for t in w.tiers.values())
    assert any(plat.tier_engagement for plat in w.platforms.values())
    assert all(v > 0 for v in w.dispersion.model_dump().values())
    # creators of one tier differ in trust, authenticity and engagement
    for t in range(len(pop.tiers)):
        creators = pop.n_audience + np.flatnonzero(pop.creator_tier == t)
        if len(creators) > 1:
            assert np.unique(arrays.trust0[creators]).size > 1 and np.unique(arrays.engagement[creators]).size > 1
    t = numba_run.table
    assert (t.groupby("strategy")["press_impressions"].max() > 0).sum() == 1  # the celebrity's press coverage
    assert (t["adopted"] > 0).all() and (t["adopters_engaged"] > 0).all()
    assert t["cost"].max() >= 500_000  # the article's celebrity fee


def test_both_engines_identical_tables(scenario, numba_run):
    """Mesa and numba: the same trial, time-series, partner and segment tables (16 trials of each strategy)."""
    trials = 16
    k = run(scenario, trials=trials)
    m = run(scenario.with_overrides(engine="mesa"), trials=trials)
    _same(k, m)
    pd.testing.assert_frame_equal(k.table, numba_run.table[numba_run.table.trial < trials].reset_index(drop=True),
                                  check_dtype=False)


def test_both_engines_identical_per_account(scenario):
    """Per account: adoption day, first engagement day and the cascade tree agree, for two shuffle seeds."""
    p = prepare(scenario)
    pop, arrays = p.world.population, p.model
    root = root_key(scenario.seed)
    for sched in p.plans:
        for trial, seed in ((3, 0), (2**40 + 1, 77)):
            k_days, k_eng, k_tot = campaign.funnel_days(pop, arrays, sched, root, trial)
            m_days, m_eng, m_tot = campaign_agents.funnel_days(pop, arrays, sched, root, trial, shuffle_seed=seed)
            assert np.array_equal(k_days, m_days) and np.array_equal(k_eng, m_eng) and np.array_equal(k_tot, m_tot)
            kt = campaign.cascade_tree(pop, arrays, sched, root, trial)
            mt = campaign_agents.cascade_tree(pop, arrays, sched, root, trial, shuffle_seed=seed)
            for f in ("account", "day", "parent", "post", "partner", "generation"):
                assert np.array_equal(getattr(kt, f), getattr(mt, f)), f


@pytest.mark.parametrize("batch", [1, 7])
def test_kernel_batching_never_changes_a_result(scenario, batch):
    p = prepare(scenario)
    pop, arrays = p.world.population, p.model
    trials = np.arange(6, dtype=np.int64)
    for sched in p.plans:
        records = campaign.kernel_records(pop, arrays, sched)
        want = ck._run_trials(*records, np.uint64(root_key(scenario.seed)), trials, ck._BATCH)
        got = ck._run_trials(*records, np.uint64(root_key(scenario.seed)), trials, batch)
        for x, y in zip(got, want, strict=True):
            assert np.array_equal(x, y)


def test_workers_and_chunks_give_the_same_table(scenario, numba_run):
    assert len(chunk_bounds(130)) > 1
    _same(numba_run, run(scenario, trials=130, workers=2))


def test_interrupted_run_resumes_to_the_same_table(scenario, numba_run, tmp_path, monkeypatch):
    real = sim.execution.tasks.compute_chunk
    calls = {"n": 0}

    def crashing(*args):
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt("simulated kill")
        return real(*args)

    monkeypatch.setattr(sim.execution.tasks, "compute_chunk", crashing)
    with pytest.raises(KeyboardInterrupt):
        run(scenario, trials=130, out=tmp_path / "run", workers=1)
    monkeypatch.setattr(sim.execution.tasks, "compute_chunk", real)
    resumed = run(scenario, trials=130, out=tmp_path / "run", workers=1)
    assert resumed.info.chunks.resumed == 5
    _same(numba_run, resumed)
