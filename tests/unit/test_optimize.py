"""The optimizer: never worse than the grid's best inside its space (exactly on its own trials, within
Monte Carlo error on the report's), money reallocated or reported, resumable, runnable output."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import Scenario, load_scenario, run
from sim.cli import main
from sim.optimize.compare import paired_gain
from sim.optimize.plan import Params, resolve
from sim.optimize.search import build_plan, cell_capacity, contexts, search
from sim.results.assumptions import AssumptionPoints

WORLD = {
    "kind": "creator_audience", "scale": 20.0,
    "audience": {"peers": {"kind": "erdos_renyi", "n": 1500, "mean_degree": 4.0},
                 "segments": [{"name": "young", "share": 0.5, "platforms": {"instagram": 0.9, "tiktok": 0.7}},
                              {"name": "old", "share": 0.5, "platforms": {"instagram": 0.6}}],
                 "interest": {"mean": 0.4, "concentration": 4.0, "homophily": 0.3}},
    "platforms": {"instagram": {"organic_reach": 0.3, "discovery": 0.1}, "tiktok": {"organic_reach": 0.4}},
    "tiers": {"nano": {"followers": [1000, 10000], "count": 200, "platforms": {"instagram": 0.5, "tiktok": 0.5},
                       "engagement": 0.2, "trust": 0.6},
              "micro": {"followers": [10000, 25000], "count": 60, "platforms": {"instagram": 0.5, "tiktok": 0.5},
                        "engagement": 0.15, "trust": 0.5},
              "mega": {"followers": [25000, 29000], "count": 4, "platforms": {"instagram": 1.0},
                       "engagement": 0.1, "trust": 0.3}},
}
SCENARIO = {
    "name": "opt", "seed": 21, "trials": 64, "days": 21, "world": WORLD,
    "model": {"kind": "campaign", "threshold": {"max": 6.0, "interest_effect": 0.5}, "reshare": 0.02,
              "trust_growth": 0.1, "trust_ceiling": 0.9},
    "rate_card": {"instagram": {"nano": 55, "micro": 300, "mega": 3000}, "tiktok": {"nano": 15, "micro": 75}},
    "partnership_cost": {"nano": 50, "micro": 100, "mega": 1000},
    "budget": 8000.0,
    "strategy_grid": {"budgets": [8000],
                      "mixes": {"celebrity": {"mega.instagram": 1.0}, "micro": {"micro.instagram": 1.0},
                                "mix": {"micro.tiktok": 0.5, "nano.instagram": 0.5}},
                      "schedules": {"burst": {"days": [0]}, "weekly": {"schedule": {"start": 0, "every": 7,
                                                                                     "count": 2}}},
                      "max_partners": 30},
    "sweep": {"uncertainties": [{"path": "model.trust_growth", "name": "trust_growth", "levels": [0.0, 0.2]}]},
    "optimize": {"budget": 8000.0, "max_partners": 30, "evaluations": 14, "trials": 16,
                 "cells": ["mega.instagram", "micro.instagram", "micro.tiktok", "nano.instagram", "nano.tiktok"]},
}


def scenario(**optimize) -> Scenario:
    data = copy.deepcopy(SCENARIO)
    data["optimize"].update(optimize)
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def found():
    return search(scenario())


def test_the_grid_inside_the_space_is_evaluated_first_and_never_beaten_on_the_search_trials(found):
    assert set(found.grid) == {f"{m}.{s}.8k" for m in ("celebrity", "micro", "mix") for s in ("burst", "weekly")}
    assert list(found.trace["source"][:6]) == [f"grid:{g}" for g in found.grid]
    assert found.best_evaluation.value >= max(found.grid.values())
    assert found.trace["best_so_far"].is_monotonic_increasing
    assert len(found.trace) == 14 and found.best_evaluation.cost <= 8000


def test_the_plan_is_within_monte_carlo_error_of_the_grid_best_or_better_on_the_reports_trials(found):
    """The report's trials were never seen by the search (stream OPTIMIZE vs the run's own)."""
    s = scenario()
    data = s.model_dump(mode="python")
    data["strategies"] = [{**found.best.model_dump(mode="python"), "name": "optimized"}]
    results = run(Scenario.model_validate(data))
    d = results.decision()
    inside = d.table[d.table["strategy"].isin(list(found.grid))]
    grid_best = inside.sort_values("adopters_mean").iloc[-1]["strategy"]
    gain = paired_gain(results.table, "optimized", grid_best, AssumptionPoints.from_design(results.design))
    assert gain.mean >= -3 * gain.sem, (gain, grid_best)
    assert d.row("optimized")["cost"] <= 8000


def test_money_a_cell_cannot_spend_moves_on_or_is_reported():
    s = scenario()
    problem = resolve(s)
    ctxs, _ = contexts(s)
    ctx = ctxs[0]
    cells = problem.cells
    only_mega = tuple(1.0 if c == "mega.instagram" else 0.0 for c in cells)
    spread = tuple(1.0 if c in ("mega.instagram", "nano.tiktok") else 0.0 for c in cells)
    # Mega alone, weekly: a partner costs $7,000 (2 posts x $3,000 + $1,000): $1,000 of $8,000 has nowhere
    # to go and is reported as unspent.
    budgets, sched = build_plan(problem, ctx, Params(only_mega, "weekly", True))
    assert sched.cost == pytest.approx(7000.0) and budgets == {"mega.instagram": 7000.0}
    # With nano on TikTok too ($65 each), what mega leaves moves on: less than a nano partner is left.
    budgets, sched = build_plan(problem, ctx, Params(spread, "burst", True))
    left = problem.budget - sched.cost
    cheapest = cell_capacity(ctx, "nano.tiktok", [0])[0]
    assert 0 <= left < cheapest or len(sched.partner_creator) == problem.max_partners
    # Without reallocation the same shares leave more unspent.
    _, kept = build_plan(problem, ctx, Params(spread, "burst", False))
    assert kept.cost <= sched.cost


def test_a_stopped_search_resumes_with_nothing_lost(tmp_path):
    journal = tmp_path / "search.journal"
    first = search(scenario(evaluations=8), journal)
    more = search(scenario(evaluations=11), journal)
    assert first.resumed == 0 and more.resumed == 8 and len(more.trace) == 11
    pd.testing.assert_frame_equal(first.trace.drop(columns="best_so_far"),
                                  more.trace.head(8).drop(columns="best_so_far"))


def test_the_optimize_command_writes_a_runnable_plan_and_its_trace(tmp_path):
    data = copy.deepcopy(SCENARIO)
    data["trials"] = 16
    data["optimize"].update({"evaluations": 8, "trials": 8})
    path = tmp_path / "opt.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["optimize", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]) == 0
    folder = tmp_path / "out" / "opt"
    trace = pd.read_csv(folder / "optimize.csv")
    assert len(trace) == 8 and {"value", "cost", "unspent", "share:micro.instagram"} <= set(trace.columns)
    table = pd.read_csv(folder / "strategies.csv")
    assert "optimized" in set(table["strategy"])
    assert "The optimizer&#x27;s plan and the grid" in (folder / "report.html").read_text() or \
        "The optimizer's plan and the grid" in (folder / "report.html").read_text()
    plan = load_scenario(folder / "optimized.yaml")
    assert plan.strategy_list[0].name == "optimized" and plan.optimize is None
    ran = run(plan, trials=4)
    cost = table.loc[table["strategy"] == "optimized", "cost"].iloc[0]
    assert math.isclose(ran.table.loc[ran.table["strategy"] == "optimized", "cost"].iloc[0], cost)
    # Again: the search is read back from its journal, the run from its chunks.
    assert main(["optimize", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]) == 0
    assert np.array_equal(pd.read_csv(folder / "optimize.csv")["value"], trace["value"])


def test_optimize_needs_an_optimize_block(tmp_path, capsys):
    data = copy.deepcopy(SCENARIO)
    del data["optimize"]
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["optimize", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "optimize" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_search_runs_over_a_posteriors_draws(tmp_path):
    """A scenario whose points are posterior draws (``parameters: {posterior, draws}``): the optimizer's
    assumption points are the draws, equally weighted (resampled by weight), each with its values."""
    draws = pd.DataFrame({"model.trust_growth": [0.0, 0.1, 0.2, 0.3], "weight": [0.1, 0.2, 0.3, 0.4]})
    draws.to_parquet(tmp_path / "p.posterior.parquet")
    data = copy.deepcopy(SCENARIO)
    data.pop("sweep")
    data["parameters"] = {"posterior": str(tmp_path / "p.posterior.parquet"), "draws": 3}
    path = tmp_path / "opt.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    s = load_scenario(path)
    ctxs, points = contexts(s)
    assert len(ctxs) == points.n == 3 and np.allclose(points.weights, 1 / 3)
    assert "posterior draws" in points.source
    assert [v for (v,) in points.values] == [c.scenario.model.trust_growth for c in ctxs]
