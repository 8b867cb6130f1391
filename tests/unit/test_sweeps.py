"""Sweeps: points are complete scenarios, grids expand to strategies, bad designs are refused,
and every executor gives the same tables."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import parse_scenario, run
from sim.execution.executor import ExecutorKind, ExecutorSpec
from sim.input.design import design
from sim.input.scenario import Scenario, ScenarioError

WORLD = {
    "kind": "creator_audience", "scale": 20.0,
    "audience": {"peers": {"kind": "erdos_renyi", "n": 1500, "mean_degree": 4.0},
                 "segments": [{"name": "all", "share": 1.0, "platforms": {"instagram": 0.9, "tiktok": 0.5}}],
                 "interest": {"mean": 0.4, "concentration": 4.0, "homophily": 0.3}},
    "platforms": {"instagram": {"organic_reach": 0.3, "discovery": 0.1}, "tiktok": {"organic_reach": 0.4}},
    "tiers": {"nano": {"followers": [1000, 10000], "count": 60, "platforms": {"instagram": 0.5, "tiktok": 0.5},
                       "engagement": 0.2, "trust": 0.6},
              "micro": {"followers": [10000, 25000], "count": 60, "platforms": {"instagram": 0.5, "tiktok": 0.5},
                        "engagement": 0.15, "trust": 0.5},
              "mega": {"followers": [25000, 29000], "count": 3, "platforms": {"instagram": 1.0},
                       "engagement": 0.1, "trust": 0.3}},
}
BASE = {
    "name": "sw", "seed": 5, "trials": 70, "days": 14, "world": WORLD,
    "model": {"kind": "campaign", "threshold": {"max": 1.0, "interest_effect": 0.5}, "reshare": 0.1,
              "trust_growth": 0.1, "trust_ceiling": 0.9},
    "rate_card": "industry_midpoint", "partnership_cost": {"micro": 100.0},
    "strategies": [
        {"name": "mega", "posts": [{"tier": "mega", "platform": "instagram", "creators": 1, "days": [0]}]},
        {"name": "micro", "posts": [{"tier": "micro", "platform": "instagram", "budget": 12000, "days": [0, 7]}]},
    ],
    "sweep": {"uncertainties": [{"path": "world.tiers.micro.trust", "name": "micro_trust", "levels": [0.3, 0.6]},
                                {"path": "rate_card", "levels": ["industry_midpoint", "source_article"]}]},
}


def scenario(**changes) -> Scenario:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return Scenario.model_validate(data)


def as_yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def test_factorial_points_are_complete_scenarios_run_on_the_same_random_numbers():
    """Point p of a sweep gives, row for row, the table of a plain run of the scenario with
    point p's values written in: the sweep adds nothing and changes nothing."""
    s = scenario()
    d = design(s)
    assert [p.values for p in d.points] == [
        (("micro_trust", 0.3), ("rate_card", "industry_midpoint")),
        (("micro_trust", 0.3), ("rate_card", "source_article")),
        (("micro_trust", 0.6), ("rate_card", "industry_midpoint")),
        (("micro_trust", 0.6), ("rate_card", "source_article"))]
    assert d.points[3].scenario.world.tiers["micro"].trust == 0.6
    assert d.points[3].scenario.rate_card["instagram"]["micro"] == 5000.0
    swept = run(s)
    assert list(swept.table.columns[:3]) == ["point", "strategy", "trial"]
    assert len(swept.table) == 4 * 2 * 70
    for point in d.points:
        alone = run(point.scenario).table
        got = swept.table[swept.table["point"] == point.index].drop(columns="point").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, alone)
    # At source_article prices the micro budget buys fewer partners: costs and adopters move with it.
    t = swept.strategy_table().set_index(["point", "strategy"])
    assert t.loc[(0, "micro"), "cost"] == 17 * (2 * 300 + 100)  # 12,000 // 700 = 17 partners
    assert t.loc[(1, "micro"), "cost"] == 1 * (2 * 5000 + 100)  # the source's price: 1 partner
    # The mega strategy does not depend on micro trust: paired at both trust levels, equal.
    m0 = swept.table[(swept.table.point == 0) & (swept.table.strategy == "mega")]["adopted"].to_numpy()
    m2 = swept.table[(swept.table.point == 2) & (swept.table.strategy == "mega")]["adopted"].to_numpy()
    assert np.array_equal(m0, m2)


def test_a_point_the_schema_refuses_is_an_error_at_the_sweep_naming_the_point():
    data = copy.deepcopy(BASE)
    data["sweep"]["uncertainties"][0]["levels"] = [0.5, 1.5]
    s = parse_scenario(as_yaml(data), source="sweep.yaml")
    with pytest.raises(ScenarioError) as err:
        design(s)
    line = err.value.problems[0]
    assert line.startswith("sweep.yaml:")
    assert "sweep.uncertainties: point 2 (world.tiers.micro.trust = 1.5, rate_card = industry_midpoint)" in line
    assert "less than or equal to 1" in line


@pytest.mark.parametrize("path, message", [
    ("world.tiers.micro.trsut", "world.tiers.micro has no key 'trsut'; did you mean 'trust'?"),
    ("model.threshold", "'model.threshold' is a block; an uncertainty varies one value"),
    ("seed", "'seed' cannot vary across points"),
    ("world.tiers.micro.trust.x", "world.tiers.micro.trust is a value, not a block"),
])
def test_bad_uncertainty_paths_are_refused_with_the_line(path, message):
    data = copy.deepcopy(BASE)
    data["sweep"]["uncertainties"][0]["path"] = path
    text = as_yaml(data)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="sweep.yaml")
    (line,) = err.value.problems
    path_line = next(i for i, x in enumerate(text.splitlines(), 1) if f"path: {path}" in x)
    assert line.startswith(f"sweep.yaml:{path_line}: sweep.uncertainties.0.path: "), line
    assert message in line, line


@pytest.mark.parametrize("sweep, message", [
    ({"design": "sobol", "samples": 100, "uncertainties": [{"path": "model.reshare", "low": 0, "high": 0.2}]},
     "power of two"),
    ({"design": "latin_hypercube", "uncertainties": [{"path": "model.reshare", "low": 0, "high": 0.2}]},
     "needs 'samples'"),
    ({"design": "latin_hypercube", "samples": 8, "uncertainties": [{"path": "model.reshare", "levels": [0.1]}]},
     "give low and high instead of levels"),
    ({"uncertainties": [{"path": "model.reshare", "low": 0.2, "high": 0.1}]}, "need low < high"),
    ({"design": "grid", "uncertainties": [{"path": "model.reshare", "levels": [0.1]}]},
     "must be one of factorial, latin_hypercube, sobol, morris, posterior"),
    ({"uncertainties": [{"path": "model.reshare", "levels": [0.1]}], "outcomes": ["adopters"]},
     "'adopters' is not an outcome of this model"),
    ({"uncertainties": [{"path": "model.reshare", "name": "reach", "levels": [0.1]}]},
     "uncertainty name 'reach' is a column of the results tables"),
    ({"uncertainties": [{"path": "rate_card", "levels": ["source_article"]},
                        {"path": "rate_card.instagram.micro", "levels": [100.0]}]}, "one lies inside the other"),
    ({"uncertainties": [{"path": "model.reshare", "levels": [0.1]}], "morris_levels": 6},
     "morris_levels is for the morris design"),
])
def test_bad_designs_are_refused(sweep, message):
    with pytest.raises(Exception, match=message):
        scenario(sweep=sweep)


def test_strategy_grid_expands_budgets_mixes_and_schedules():
    grid = {"budgets": [1000, 2000], "select": "random",
            "mixes": {"micro": {"micro.instagram": 1.0}, "split": {"nano.tiktok": 0.5, "micro.tiktok": 0.5}},
            "schedules": {"burst": {"days": [0]}, "weekly": {"schedule": {"start": 0, "every": 7, "count": 2}}}}
    s = scenario(strategy_grid=grid, sweep=None, baseline="micro.burst.1k", partnership_cost={"micro": 100, "nano": 50})
    names = [x.name for x in s.strategy_list]
    assert names[:2] == ["mega", "micro"] and len(names) == 2 + 2 * 2 * 2
    assert names[2:6] == ["micro.burst.1k", "micro.weekly.1k", "split.burst.1k", "split.weekly.1k"]
    split = s.strategy_list[names.index("split.weekly.2k")]
    assert [(g.tier, g.platform, g.budget, g.post_days()) for g in split.posts] == [
        ("nano", "tiktok", 1000.0, [0, 7]), ("micro", "tiktok", 1000.0, [0, 7])]
    results = run(s, trials=8)
    table = results.strategy_table().set_index("strategy")
    assert table.loc["micro.weekly.2k", "cost"] == 2 * (2 * 300 + 100)  # 2000 // 700
    assert table.loc["split.weekly.2k", "cost"] == 12 * (2 * 15 + 50) + 4 * (2 * 75 + 100)  # 1000 // 80, 1000 // 250
    assert np.isnan(table.loc["micro.burst.1k", "adopted_vs_baseline"])
    assert not np.isnan(table.loc["micro.burst.2k", "adopted_vs_baseline"])


def test_an_infeasible_grid_combination_points_at_its_mix():
    data = copy.deepcopy(BASE)
    del data["sweep"]
    data["strategy_grid"] = {"budgets": [500], "mixes": {"celeb": {"mega.instagram": 1.0}},
                             "schedules": {"burst": {"days": [0]}}}
    text = as_yaml(data)
    s = parse_scenario(text, source="grid.yaml")
    with pytest.raises(ScenarioError) as err:
        run(s, trials=2)
    (line,) = err.value.problems
    mix_line = [i for i, x in enumerate(text.splitlines(), 1) if x.strip().startswith("mega.instagram")][-1]
    assert line.startswith(f"grid.yaml:{mix_line}: strategy_grid.mixes.celeb.mega.instagram: strategy "
                           "celeb.burst.500: a budget of $500 buys no partner"), line


def test_every_executor_gives_the_same_tables():
    """Serial, a local pool of 3 threads and an embedded Dask cluster of 2 processes (several
    chunks per task): the same tables to the bit, greedy selection included (chosen once,
    shipped with the tasks)."""
    strategies = [*BASE["strategies"],
                  {"name": "greedy", "posts": [{"tier": "nano", "platform": "instagram", "creators": 3,
                                                "select": "greedy", "greedy_trials": 16, "days": [0]}]}]
    s = scenario(strategies=strategies, trials=150)  # 3 chunks of 64 trials per (point, strategy)
    runs = {kind: run(s, executor=ExecutorSpec(kind, workers=workers))
            for kind, workers in ((ExecutorKind.SERIAL, 1), (ExecutorKind.LOCAL, 3), (ExecutorKind.DASK, 2))}
    ref = runs[ExecutorKind.SERIAL]
    assert ref.info.chunks.total == 4 * 3 * 3
    for kind, other in runs.items():
        assert other.info.executor.startswith({"serial": "serial", "local": "local", "dask": "embedded dask"}[kind])
        pd.testing.assert_frame_equal(ref.table, other.table, obj=f"{kind} table")
        for name in ("timeseries", "partners", "segments", "roster"):
            pd.testing.assert_frame_equal(getattr(ref.campaign, name), getattr(other.campaign, name),
                                          obj=f"{kind} {name}")


def test_sobol_sweep_finds_the_uncertainty_a_strategy_depends_on(tmp_path):
    """Micro creators' trust moves the micro strategy; mega creators' trust cannot. On common random
    numbers the mega trust's total index for the micro strategy is exactly 0."""
    sweep = {"design": "sobol", "samples": 16, "outcomes": ["adopted", "cost_per_adopter"],
             "uncertainties": [{"path": "world.tiers.micro.trust", "name": "micro_trust", "low": 0.2, "high": 0.9},
                               {"path": "world.tiers.mega.trust", "name": "mega_trust", "low": 0.1, "high": 0.5}]}
    results = run(scenario(sweep=sweep, trials=20), out=tmp_path / "sobol")
    assert len(results.design.points) == 16 * 4
    written = pd.read_csv(tmp_path / "sobol" / "sensitivity.csv")
    pd.testing.assert_frame_equal(written, results.sensitivity(), check_dtype=False)
    assert (tmp_path / "sobol" / "figures" / "sensitivity.png").stat().st_size > 10_000
    ind = results.sensitivity().set_index(["strategy", "outcome", "parameter", "index"])["value"]
    assert ind[("micro", "adopted", "mega_trust", "ST")] == pytest.approx(0.0, abs=1e-12)
    assert ind[("micro", "adopted", "micro_trust", "ST")] > 0.8
    assert ind[("mega", "adopted", "micro_trust", "ST")] == pytest.approx(0.0, abs=1e-12)
    assert ind[("mega", "adopted", "mega_trust", "ST")] > 0.8


def test_latin_hypercube_sweep_over_a_count_runs_the_rounded_values(tmp_path):
    """A sampled range over a whole-number key runs (and reports) rounded values; a design that is
    not Sobol or Morris writes no sensitivity indices."""
    sweep = {"design": "latin_hypercube", "samples": 5,
             "uncertainties": [{"path": "world.tiers.nano.count", "name": "nano_count", "low": 20, "high": 60},
                               {"path": "model.reshare", "low": 0.0, "high": 0.3}]}
    s = scenario(sweep=sweep, trials=8)
    results = run(s, out=tmp_path / "lhs")
    counts = results.points["nano_count"].tolist()
    assert all(isinstance(c, int) and 20 <= c <= 60 for c in counts)
    assert [p.scenario.world.tiers["nano"].count for p in results.design.points] == counts
    assert sorted(np.floor((np.array(counts) - 20) / 8).astype(int).clip(0, 4).tolist()) == [0, 1, 2, 3, 4]
    assert results.sensitivity() is None and not (tmp_path / "lhs" / "sensitivity.csv").exists()
    assert (tmp_path / "lhs" / "report.html").exists()
    summary = pd.read_csv(tmp_path / "lhs" / "summary.csv")
    assert {"nano_count", "model.reshare"} <= set(summary.columns)


def test_points_that_share_a_built_world_build_it_once():
    """Trust and reach are laid onto a built world; sweeping them builds one world, sweeping a count
    builds one per value, and the shared world is the one each point would build alone."""
    from sim.execution.prepare import WorldCache
    from sim.world.build import build_world

    trust = design(scenario())  # micro trust x rate card: the world is the same at all 4 points
    cache = WorldCache()
    worlds = [cache.world(p.scenario, 1) for p in trust.points]
    assert len(cache) == 1 and all(w is worlds[0] for w in worlds)
    alone = build_world(trust.points[3].scenario.world, trust.points[3].scenario.seed)
    assert np.array_equal(alone.graph.indptr, worlds[0].graph.indptr)
    assert np.array_equal(alone.graph.indices, worlds[0].graph.indices)
    counts = design(scenario(sweep={"uncertainties": [{"path": "world.tiers.nano.count", "levels": [30, 40]}]}))
    cache = WorldCache()
    for p in counts.points:
        cache.world(p.scenario, 1)
    assert len(cache) == 2


def test_parts_beyond_four_digit_points_and_three_digit_strategies_are_found(tmp_path):
    import pyarrow as pa

    from sim.execution.store import RunStore

    store = RunStore(tmp_path / "r")
    store.open("x")
    jobs = [(9999, 0, 0), (10000, 0, 0), (3, 1000, 0), (3, 999, 12345)]
    for job in jobs:
        store.write_part(job, pa.table({"point": [job[0]], "strategy": [str(job[1])]}))
    assert store.finished() == set(jobs)
    got = store.read_parts().to_pydict()
    assert got["point"] == [3, 3, 9999, 10000] and got["strategy"] == ["999", "1000", "0", "0"]


def test_a_worker_without_the_data_file_says_so(tmp_path):
    import sim.execution.tasks as tasks

    edges = tmp_path / "g.txt"
    edges.write_text("0 1\n1 2\n2 0\n")
    s = Scenario.model_validate({
        "name": "g", "seed": 1, "trials": 2, "recruits": {"rule": "explicit", "nodes": [0]},
        "world": {"graph": {"kind": "edgelist", "path": str(edges), "directed": True}},
        "model": {"kind": "independent_cascade", "edge_prob": 1.0}})
    digest = tasks.file_digest(edges)
    task = tasks.ChunkTask(s.canonical_json(), "not-registered", None, 0, ("explicit",), None, (0, 2),
                           ((str(edges), digest),))
    edges.write_text("0 1\n")
    with pytest.raises(tasks.TaskError, match="differs from the file the run was started with"):
        tasks.run_chunk(task)
    edges.unlink()
    with pytest.raises(tasks.TaskError, match=f"no file {edges}"):
        tasks.run_chunk(task)
