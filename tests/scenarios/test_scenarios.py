"""Every file in scenarios/ validates and runs with 2 trials, with results that make sense."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import load_scenario, prepare, run

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


def test_there_are_scenarios():
    assert any(p.name == "quickstart.yaml" for p in SCENARIOS)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_runs_two_trials(path, tmp_path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem, "a scenario's name should match its file name"
    n = prepare(scenario).world.graph.n
    results = run(scenario, trials=2, out=tmp_path / scenario.name)
    table = results.table
    assert len(table) == 2 * len(scenario.strategy_list)
    for strategy, plan in zip(scenario.strategy_list, prepare(scenario).plans, strict=True):
        rows = table[table.strategy == strategy.name]
        # every trial keeps at least its recruits and never exceeds the world
        assert (rows["adopted"] >= plan.size()).all()
        assert (rows["adopted"] <= n).all()
    assert (tmp_path / scenario.name / "summary.csv").exists()
