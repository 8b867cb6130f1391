"""Every file in scenarios/ validates and runs with 2 trials, with results that make sense."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario, prepare, run
from sim.campaign.model import partner_price
from sim.input.design import design

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


def test_there_are_scenarios():
    names = {p.stem for p in SCENARIOS}
    assert {"quickstart", "celebrity_vs_micro", "ambassador_vs_burst", "platform_shock", "hybrid"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_runs_two_trials(path, tmp_path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem, "a scenario's name should match its file name"
    results = run(scenario, trials=2, out=tmp_path / scenario.name)
    points = design(scenario).points
    assert len(results.table) == 2 * len(scenario.strategy_list) * len(points)
    assert (tmp_path / scenario.name / "summary.csv").exists()
    for point in points:
        table = results.table if scenario.sweep is None else results.table[results.table.point == point.index]
        check_point(point.scenario, table)


def check_point(scenario, table):
    prepared = prepare(scenario)
    if prepared.world.population is None:  # a network world: classic models
        n = prepared.world.graph.n
        for strategy, plan in zip(scenario.strategy_list, prepared.plans, strict=True):
            rows = table[table.strategy == strategy.name]
            # every trial keeps at least its recruits and never exceeds the world
            assert (rows["adopted"] >= plan.size()).all()
            assert (rows["adopted"] <= n).all()
        return
    pop = prepared.world.population
    real = pop.n_audience * pop.scale
    for strategy, schedule in zip(scenario.strategy_list, prepared.plans, strict=True):
        rows = table[table.strategy == strategy.name]
        # the funnel narrows: impressions >= reach >= adopters; engagements <= impressions
        assert (rows["impressions"] >= rows["reach"]).all() and (rows["reach"] >= rows["adopted"]).all()
        assert (rows["engagements"] <= rows["impressions"]).all() and (rows["reach"] <= real).all()
        assert (rows["adopters_direct"] + rows["adopters_reshare"] == rows["adopted"]).all()
        # the action funnel: engagers are distinct reached accounts that engaged; every adopter
        # either had engaged by its adoption day or not
        assert (rows["engagers"] <= rows["reach"]).all() and (rows["engagers"] <= rows["engagements"]).all()
        assert (rows["adopters_engaged"] + rows["adopters_unengaged"] == rows["adopted"]).all()
        assert (rows["adopters_engaged"] <= rows["engagers"]).all()
        # cost is posts x rate card + partnership costs, and a budget is never exceeded nor left
        # with enough for one more partner
        assert np.allclose(rows["cost"], schedule.cost)
        if all(g.budget is not None for g in strategy.posts):
            assert schedule.cost <= sum(g.budget for g in strategy.posts) * (1 + 1e-12)
        # (a roster's own prices, or a partner cap, leave money for other reasons: tests/unit/test_roster.py)
        uniform = scenario.world.creators is None and strategy.max_partners is None
        for g in strategy.posts:
            if g.budget is not None and uniform:
                p = partner_price(g, scenario.rate_card, scenario.partnership_cost).total
                # the group's partners: its tier and platform at its price (two groups of one strategy
                # can share a price, a celebrity's fee on either platform)
                mine = ((schedule.partner_cost == p)
                        & (pop.creator_tier[schedule.partner_creator] == pop.tiers.index(g.tier))
                        & (pop.creator_platform[schedule.partner_creator] == pop.platforms.index(g.platform)))
                assert g.budget - p < schedule.partner_cost[mine].sum() <= g.budget
        assert rows["adopted"].sum() > 0, "a planner scenario where nobody ever adopts is a broken example"
