"""Strategies in money: rate cards, partnership costs, infeasible budgets, greedy selection."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy import stats

import sim.campaign.model as campaign_model
from sim import parse_scenario, prepare
from sim.base.rng import root_key
from sim.campaign.family import compile_campaign
from sim.campaign.kernel import TOTALS
from sim.campaign.model import simulate
from sim.campaign.rate_cards import RATE_CARDS
from sim.influence.greedy import plain_greedy
from sim.input.scenario import Scenario, ScenarioError
from sim.world.build import build_world

WORLD = {
    "kind": "creator_audience", "scale": 20.0,
    "audience": {"peers": {"kind": "erdos_renyi", "n": 2000, "mean_degree": 4.0},
                 "segments": [{"name": "all", "share": 1.0, "platforms": {"instagram": 0.9, "tiktok": 0.5}}],
                 "interest": {"mean": 0.4, "concentration": 4.0, "homophily": 0.3}},
    "platforms": {"instagram": {"organic_reach": 0.3, "discovery": 0.1}, "tiktok": {"organic_reach": 0.4}},
    "tiers": {"nano": {"followers": [1000, 10000], "count": 40, "platforms": {"instagram": 1.0},
                       "engagement": 0.2, "trust": 0.6},
              "micro": {"followers": [10000, 30000], "count": 30, "platforms": {"instagram": 0.5, "tiktok": 0.5},
                        "engagement": 0.15, "trust": 0.5},
              "mega": {"followers": [30000, 39000], "count": 2, "platforms": {"instagram": 1.0},
                       "engagement": 0.1, "trust": 0.3}},
}
MODEL = {"kind": "campaign", "adoption": "independent", "conversion_rate": 0.6, "reshare": 0.0}


def scenario(posts, *, rate_card="industry_midpoint", partnership_cost=None, model=None, **extra) -> Scenario:
    return Scenario.model_validate({
        "name": "p", "seed": 11, "trials": 64, "days": 10, "world": WORLD, "model": model or MODEL,
        "rate_card": rate_card, "partnership_cost": partnership_cost or {},
        "strategies": [{"name": f"s{i}", "posts": p} for i, p in enumerate(posts)], **extra})


def test_named_rate_cards_resolve_to_their_prices_and_unknown_names_are_refused():
    s = scenario([[{"tier": "micro", "platform": "instagram", "creators": 1, "days": [0]}]],
                 rate_card="source_article")
    assert s.rate_card["instagram"]["micro"] == 5_000.0 == RATE_CARDS["source_article"].prices["tiktok"]["micro"]
    assert s.rate_card["instagram"]["nano"] == RATE_CARDS["industry_midpoint"].prices["instagram"]["nano"]
    assert all(card.source for card in RATE_CARDS.values())
    text = """name: x
seed: 1
trials: 2
world: {kind: network, graph: {kind: erdos_renyi, n: 10, mean_degree: 2}}
model: {kind: independent_cascade, edge_prob: 0.1}
recruits: {rule: random, count: 1}
rate_card: source_articel
"""
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="bad.yaml")
    (line,) = err.value.problems
    assert line.startswith("bad.yaml:7: rate_card: unknown rate card 'source_articel'") and "source_article" in line


def test_budget_buys_partners_at_posts_times_price_plus_partnership_cost():
    """$10,000 for micro ambassadors with 3 posts at $300 and $700 partnership: 10,000 // 1,600 = 6."""
    group = {"tier": "micro", "platform": "instagram", "budget": 10_000, "days": [0, 3, 6]}
    s = scenario([[group], [{**group, "budget": 9_600}]], partnership_cost={"micro": 700})
    pop = build_world(s.world, s.seed).population
    _, (six, exact) = compile_campaign(s, pop)
    assert len(six.partner_creator) == 6 and six.cost == 6 * (3 * 300 + 700)
    assert np.all(six.partner_fee == 700) and len(six.day) == 18
    assert len(exact.partner_creator) == 6, "an exact multiple buys that many, not one fewer"
    free = scenario([[{**group, "budget": 10_000}]])
    assert len(compile_campaign(free, pop)[1][0].partner_creator) == 11  # no partnership cost: 10,000 // 900
    assert prepare(scenario([[{**group, "budget": 0.0}]])).plans[0].cost == 0.0  # 0 buys nobody, on purpose


@pytest.mark.parametrize("posts, expected", [
    ([{"tier": "micro", "platform": "instagram", "budget": 1_000, "days": [0, 7]}],
     "a budget of $1,000 buys no partner: one of the micro creators on instagram costs $1,600 (2 posts x $300 + "
     "$1,000 partnership)"),
    ([{"tier": "mega", "platform": "instagram", "budget": 100_000, "days": [0]}],
     "a budget of $100,000 buys 5 partners among the mega creators on instagram at $20,000 (1 post x $20,000) "
     "each, but the world has 2"),
    ([{"tier": "micro", "platform": "instagram", "creators": 40, "days": [0]}],
     "40 micro creators on instagram asked for, but the world has"),
])
def test_infeasible_strategies_are_errors_that_say_why(posts, expected):
    text = f"""name: x
seed: 1
trials: 2
days: 10
world: {WORLD}
model: {MODEL}
rate_card: industry_midpoint
partnership_cost: {{micro: 1000}}
strategies:
  - name: ok
    posts: [{{tier: nano, platform: instagram, creators: 1, days: [0]}}]
  - name: bad
    posts: {posts}
"""
    s = parse_scenario(text.replace("'", '"'), source="plan.yaml")
    with pytest.raises(ScenarioError) as err:
        prepare(s)
    (line,) = err.value.problems
    key = "creators" if "creators" in posts[0] else "budget"
    assert line.startswith(f"plan.yaml:13: strategies.1.posts.0.{key}: strategy bad: "), line
    assert expected in line, line


def test_greedy_trials_only_with_greedy():
    with pytest.raises(Exception, match="greedy_trials is for select: greedy"):
        scenario([[{"tier": "nano", "platform": "instagram", "creators": 2, "days": [0], "greedy_trials": 32}]])


GREEDY = [{"tier": "nano", "platform": "instagram", "creators": 1, "select": "random", "days": [0]},
          {"tier": "micro", "platform": "instagram", "creators": 3, "select": "greedy", "days": [0],
           "greedy_trials": 32}]


def test_celf_selection_equals_plain_greedy_on_a_submodular_campaign(monkeypatch):
    """Independent mode, one post per partner, no re-shares: under common random numbers the
    adopters of a partner set are a coverage function (an account adopts iff one of its
    exposures converted, each exposure's draws fixed by its creator and edge), so CELF must
    pick exactly what plain greedy picks."""
    s = scenario([GREEDY])
    pop = build_world(s.world, s.seed).population
    lazy = compile_campaign(s, pop)[1][0]
    monkeypatch.setattr(campaign_model, "lazy_greedy", plain_greedy)
    plain = compile_campaign(s, pop)[1][0]
    assert np.array_equal(lazy.partner_creator, plain.partner_creator)
    assert len(set(lazy.partner_creator.tolist())) == 4  # the greedy group skipped the nano partner's creator


def test_greedy_beats_random_selection_on_the_run_trials():
    """Greedy picks on selection trials (their own random numbers) and is scored on the run's
    trials. Paired with random partners of the same tier and budget its gain is positive beyond
    3 standard errors, and it is no worse (within 3 SE) than the best fixed rule."""
    group = {"tier": "nano", "platform": "instagram", "creators": 4, "days": [0]}
    model = {**MODEL, "adoption": "threshold", "threshold": {"max": 0.8, "interest_effect": 0.5}}
    rules = ["greedy", "random", "top_followers", "most_aligned"]
    s = scenario([[{**group, "select": rule}] for rule in rules], model=model)
    pop = build_world(s.world, s.seed).population
    arrays, schedules = compile_campaign(s, pop)
    assert len({sch.cost for sch in schedules}) == 1
    col = TOTALS.index("adopters")
    trials = np.arange(400)
    adopters = {rule: simulate(pop, arrays, sch, root_key(s.seed), trials).totals[:, col].astype(float)
                for rule, sch in zip(rules, schedules, strict=True)}
    d = adopters["greedy"] - adopters["random"]
    assert d.mean() > 3 * stats.sem(d), (d.mean(), stats.sem(d))
    for rule in ("top_followers", "most_aligned"):
        d = adopters["greedy"] - adopters[rule]
        assert d.mean() > -3 * max(stats.sem(d), 1e-9), (rule, d.mean(), stats.sem(d))


def test_greedy_selection_does_not_use_the_run_trials(monkeypatch):
    """Every simulation greedy runs uses the selection key (stream SELECTION), never the run's root,
    so the picks are not tuned to the random numbers they are scored with, and do not depend on
    how many trials the run has."""
    roots = []
    real = campaign_model.simulate

    def spy(pop, arrays, schedule, root, trials):
        roots.append(root)
        return real(pop, arrays, schedule, root, trials)

    monkeypatch.setattr(campaign_model, "simulate", spy)
    s1 = scenario([copy.deepcopy(GREEDY)])
    pop = build_world(s1.world, s1.seed).population
    first = compile_campaign(s1, pop)[1][0].partner_creator
    assert roots and set(map(int, roots)) == {int(campaign_model.selection_root(s1.seed))}
    assert campaign_model.selection_root(s1.seed) != root_key(s1.seed)
    assert np.array_equal(first, compile_campaign(s1.with_overrides(trials=3), pop)[1][0].partner_creator)
