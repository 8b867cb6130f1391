"""The campaign model: reductions to the core kernels, closed forms, and paired properties.

Reductions (docs/model.md, "Exact special cases"): with reach 1, unit trust, no dynamics
and every adopter re-sharing once the next day, the campaign kernel *is* the Independent
Cascade (independent mode, conversion rate -log(1 - p)) and the Linear Threshold model
(threshold mode, unit doses, thresholds U * in-degree), draw for draw: campaign day d is
step d + 1 of the core kernels, whose recruits post on day 0.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from sim.base.rng import root_key
from sim.campaign import kernel as ck
from sim.campaign.family import compile_campaign
from sim.campaign.model import (
    CampaignWorldArrays,
    Schedule,
    post_draw_key,
    simulate,
)
from sim.classic.kernel import activation_times
from sim.classic.model import compile_model
from sim.classic.recruits import plan_recruits
from sim.classic.spec import ExplicitRecruits, IndependentCascade, LinearThreshold
from sim.input.scenario import Scenario
from sim.world.build import build_world
from sim.world.graph import FlatGraph
from sim.world.population import Population

# --------------------------------------------------------------------------- reductions


def _bare_population(graph: FlatGraph) -> Population:
    """A population view of a plain graph: everyone is audience, every edge a peer edge."""
    n = graph.n
    return Population(graph, n, np.zeros(n, np.int16), np.zeros(n),
                      np.zeros((n, 0), bool), np.zeros(0, np.int8), np.zeros(0, np.int8), np.zeros(0, np.int64),
                      np.zeros(0), (), (), ("all",), 1.0)


def _reduction(graph: FlatGraph, recruits: np.ndarray, *, independent: bool, p: float, days: int):
    n = graph.n
    eligible = np.ones(n, bool)
    eligible[recruits] = False
    arrays = CampaignWorldArrays(
        channel=np.zeros(n, np.int8), reach=np.ones(n), trust0=np.ones(n), engagement=np.zeros(n),
        threshold_scale=graph.in_degree.astype(np.float64), eligible=eligible, segment=np.zeros(n, np.int16),
        shock=np.ones((1, days)), decay=np.ones(days + 1), recovery=np.ones(days + 1),
        growth=np.ones(2), wear=np.ones(2), plat_ptr=np.zeros(1, np.int64), plat_members=np.zeros(0, np.int32),
        ceiling=1.0, reshare=1.0, reshare_factor=1.0,
        mode=ck.INDEPENDENT_MODE if independent else ck.THRESHOLD_MODE,
        rate=-math.log1p(-p) if independent else 1.0, dose_unit=1.0, days=days)
    k = len(recruits)
    schedule = Schedule(
        partner_creator=np.arange(k), partner_posts=np.ones(k, np.int64), partner_cost=np.zeros(k),
        partner_fee=np.zeros(k),
        day=np.zeros(k, np.int32), account=np.asarray(recruits, np.int32), channel=np.zeros(k, np.int8),
        partner=np.arange(k, dtype=np.int32), factor=np.ones(k), n_discovery=np.zeros(k, np.int64),
        discovery_engagement=np.zeros(k), discovery_trust=np.zeros(k),
        draw=post_draw_key(recruits, np.zeros(k), np.zeros(k)))
    return arrays, schedule


def _campaign_days(graph, arrays, schedule, root, trial):
    from sim.campaign.model import adoption_days

    days, _ = adoption_days(_bare_population(graph), arrays, schedule, root, trial)
    return days


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_independent_mode_is_independent_cascade_draw_for_draw(p):
    import networkx as nx

    graph = FlatGraph.from_networkx(nx.gnp_random_graph(300, 4 / 300, seed=2, directed=True))
    recruits = np.array([0, 7, 99])
    model = compile_model(IndependentCascade(kind="independent_cascade", edge_prob=p), graph)
    plan = plan_recruits(ExplicitRecruits(rule="explicit", nodes=recruits.tolist()), graph)
    arrays, schedule = _reduction(graph, recruits, independent=True, p=p, days=60)
    root = root_key(17)
    for trial in range(15):
        core = activation_times(graph, model, plan, root, trial)
        camp = _campaign_days(graph, arrays, schedule, root, trial)
        expected = np.where(core > 0, core - 1, -1)  # recruits (step 0) are partners, not adopters
        assert np.array_equal(camp, expected), trial


def test_threshold_mode_is_linear_threshold_draw_for_draw():
    import networkx as nx

    graph = FlatGraph.from_networkx(nx.gnp_random_graph(300, 5 / 300, seed=4, directed=True))
    recruits = np.array([1, 2, 3, 50, 51])
    model = compile_model(LinearThreshold(kind="linear_threshold"), graph)
    plan = plan_recruits(ExplicitRecruits(rule="explicit", nodes=recruits.tolist()), graph)
    arrays, schedule = _reduction(graph, recruits, independent=False, p=0.0, days=60)
    root = root_key(5)
    spread = 0
    for trial in range(30):
        core = activation_times(graph, model, plan, root, trial)
        camp = _campaign_days(graph, arrays, schedule, root, trial)
        assert np.array_equal(camp, np.where(core > 0, core - 1, -1)), trial
        spread += int((camp >= 0).sum())
    assert spread > 30, "the reduction should be tested on cascades that actually spread"


# --------------------------------------------------------------------------- a small world

WORLD = {
    "kind": "creator_audience",
    "scale": 10.0,
    "audience": {
        "peers": {"kind": "erdos_renyi", "n": 3000, "mean_degree": 6.0},
        "segments": [{"name": "a", "share": 0.5, "platforms": {"ig": 1.0}},
                     {"name": "b", "share": 0.5, "platforms": {"ig": 0.8, "tt": 0.6}}],
        "interest": {"mean": 0.4, "concentration": 4.0, "homophily": 0.3},
    },
    "platforms": {"ig": {"organic_reach": 0.3, "discovery": 0.0}, "tt": {"organic_reach": 0.4, "discovery": 0.0}},
    "tiers": {
        "micro": {"followers": [3000, 8000], "count": 20, "platforms": {"ig": 0.5, "tt": 0.5},
                  "engagement": 0.2, "trust": 0.5},
        "mega": {"followers": [15000, 20000], "count": 2, "platforms": {"ig": 1.0},
                 "engagement": 0.1, "trust": 0.3, "authenticity": 0.7},
    },
}
MODEL = {"kind": "campaign", "adoption": "threshold", "threshold": {"max": 1.0, "interest_effect": 0.5},
         "reshare": 0.2, "peer_reach": 0.3}
STRATEGIES = [
    {"name": "micro", "posts": [{"tier": "micro", "platform": "ig", "creators": 5, "days": [0, 3, 6]}]},
    {"name": "mega", "posts": [{"tier": "mega", "platform": "ig", "creators": 1, "days": [0]}]},
    {"name": "nothing", "posts": [{"tier": "micro", "platform": "ig", "budget": 0.0, "days": [0]}]},
]


def scenario(world=None, model=None, strategies=None, days=14) -> Scenario:
    return Scenario.model_validate({
        "name": "t", "seed": 3, "trials": 10, "days": days, "world": world or WORLD, "model": model or MODEL,
        "rate_card": {"ig": {"micro": 100.0, "mega": 5000.0}, "tt": {"micro": 40.0, "mega": 2000.0}},
        "strategies": strategies or STRATEGIES})


def outcomes(sc: Scenario, trials: int = 300):
    pop = build_world(sc.world, sc.seed).population
    arrays, schedules = compile_campaign(sc, pop)
    return pop, schedules, [simulate(pop, arrays, s, root_key(sc.seed), np.arange(trials)) for s in schedules]


def test_costs_are_posts_times_rate_card_and_zero_budget_posts_nothing():
    _, schedules, outs = outcomes(scenario(), trials=20)
    micro, mega, nothing = schedules
    assert micro.cost == 5 * 3 * 100.0 and mega.cost == 5000.0
    assert nothing.cost == 0.0 and len(nothing.day) == 0
    assert (outs[2].totals == 0).all(), "zero budget: no paid posts, so no exposures of any kind"


def test_engagement_rate_per_exposure_matches_tier_and_platform_parameters():
    """With constant trust, each exposure to a creator's post engages with probability
    tier engagement x platform multiplier: the pooled rate is within 4 binomial SE of it."""
    model = {**MODEL, "reshare": 0.0}
    world = copy.deepcopy(WORLD)
    world["platforms"]["ig"]["engagement"] = 1.5
    pop, schedules, outs = outcomes(scenario(world=world, model=model), trials=300)
    for out, expected in zip(outs[:2], (0.2 * 1.5, 0.1 * 1.5), strict=False):
        impressions = out.totals[:, ck.TOTALS.index("impressions")].sum()
        engaged = out.totals[:, ck.TOTALS.index("engagements")].sum()
        se = math.sqrt(expected * (1 - expected) / impressions)
        assert abs(engaged / impressions - expected) < 4 * se


def test_single_post_independent_mode_binomial_closed_form():
    """One post, no re-sharing, independent mode: a follower adopts with probability
    reach * (1 - exp(-rate * trust * authenticity)), independently, so the mean number of
    adopters is F * that probability and its variance is binomial."""
    model = {**MODEL, "adoption": "independent", "conversion_rate": 0.8, "reshare": 0.0}
    strategies = [{"name": "mega", "posts": [{"tier": "mega", "platform": "ig", "creators": 1, "days": [0]}]}]
    pop, schedules, (out,) = outcomes(scenario(model=model, strategies=strategies), trials=2000)
    followers = int(pop.followers_sim[schedules[0].partner_creator[0]])
    q = 0.3 * (1 - math.exp(-0.8 * 0.3 * 0.7))
    adopters = out.totals[:, ck.TOTALS.index("adopters")]
    se = math.sqrt(followers * q * (1 - q) / len(adopters))
    assert abs(adopters.mean() - followers * q) < 4 * se


def test_more_trust_or_reach_never_lowers_adopters_trial_by_trial():
    """Common random numbers: with fatigue and conviction decay off, raising trust or reach
    can only add exposures and dose, so adopters never fall in any paired trial."""
    model = {**MODEL, "fatigue": 0.0, "conviction_decay": 0.0, "trust_growth": 0.2, "trust_ceiling": 0.9}
    base = outcomes(scenario(model=model), trials=100)[2]
    for path, value in ((("tiers", "micro", "trust"), 0.8), (("platforms", "ig", "organic_reach"), 0.6)):
        world = copy.deepcopy(WORLD)
        world[path[0]][path[1]][path[2]] = value
        higher = outcomes(scenario(world=world, model=model), trials=100)[2]
        col = ck.TOTALS.index("adopters")
        for b, h in zip(base[:2], higher[:2], strict=True):
            assert (h.totals[:, col] >= b.totals[:, col]).all(), path
        # and the change matters (micro trust moves only the micro strategy)
        assert higher[0].totals[:, col].sum() > base[0].totals[:, col].sum(), path


def test_scale_changes_totals_not_fractions():
    """The same simulated world at scale 10 and at scale 40 (follower ranges x 4): identical
    fractions and rates, reported totals 4 times larger."""
    from sim.campaign.metrics import campaign_tables

    world4 = copy.deepcopy(WORLD)
    world4["scale"] = 40.0
    for tier in world4["tiers"].values():
        tier["followers"] = [4 * f for f in tier["followers"]]
    tables = []
    for world in (WORLD, world4):
        pop, schedules, outs = outcomes(scenario(world=world), trials=30)
        tables.append(campaign_tables(["micro"], 0, outs[0], schedules[0], pop).runs.to_pandas())
    a, b = tables
    for col in ("reach_fraction", "adopted_fraction", "engagement_rate", "depth"):
        assert np.array_equal(a[col].to_numpy(), b[col].to_numpy()), col
    for col in ("reach", "impressions", "engagements", "adopted"):
        assert np.allclose(4 * a[col], b[col]), col
        assert a[col].sum() > 0


def test_attribution_adds_up():
    """Every adopter is attributed to exactly one partner; impressions too."""
    _, schedules, outs = outcomes(scenario(), trials=50)
    for out in outs[:2]:
        partner_adopters = out.partners[:, :, ck.PARTNER.index("adopters")].sum(axis=1)
        assert np.array_equal(partner_adopters, out.totals[:, ck.TOTALS.index("adopters")])
        partner_impr = out.partners[:, :, ck.PARTNER.index("impressions")].sum(axis=1)
        assert np.array_equal(partner_impr, out.totals[:, ck.TOTALS.index("impressions")])
        seg_adopters = out.segments[:, :, ck.SEGMENT.index("adopters")].sum(axis=1)
        assert np.array_equal(seg_adopters, out.totals[:, ck.TOTALS.index("adopters")])
        assert np.array_equal(out.series[:, :, ck.SERIES.index("adopters")].sum(axis=1),
                              out.totals[:, ck.TOTALS.index("adopters")])


def test_platform_shock_cuts_exposure_after_its_day():
    """A shock with reach factor 0 from day 3 leaves days 3+ with no partner exposures."""
    world = copy.deepcopy(WORLD)
    world["platforms"]["ig"]["shock"] = {"day": 3, "reach_factor": 0.0}
    model = {**MODEL, "reshare": 0.0}
    _, _, outs = outcomes(scenario(world=world, model=model), trials=20)
    series = outs[0].series[:, :, ck.SERIES.index("impressions")]
    assert series[:, :3].sum() > 0 and series[:, 3:].sum() == 0


def test_runner_gives_the_same_tables_on_both_engines():
    """run() with engine mesa: identical trial, time-series, partner and segment tables."""
    import pandas as pd

    from sim import run

    world = copy.deepcopy(WORLD)
    world["audience"]["peers"]["n"] = 300
    sc = scenario(world=world, strategies=STRATEGIES[:2], days=8).with_overrides(trials=3)
    a, b = run(sc), run(sc, engine="mesa")
    pd.testing.assert_frame_equal(a.table, b.table)
    for name in ("timeseries", "partners", "segments", "roster"):
        pd.testing.assert_frame_equal(getattr(a.campaign, name), getattr(b.campaign, name))
    assert a.table["adopted"].sum() > 0


def test_cascade_tree_is_consistent_and_equal_on_both_engines():
    """Every adopter has a parent (a partner, or a peer who adopted on an earlier day and
    re-shared), generations count hops, and partner attribution matches the kernel's counts."""
    from sim.campaign import agents as campaign_agents
    from sim.campaign import model as campaign

    world = copy.deepcopy(WORLD)
    world["audience"]["peers"]["n"] = 800
    model = {**MODEL, "reshare": 0.6, "peer_reach": 0.8}
    sc = scenario(world=world, model=model, days=10)
    pop = build_world(sc.world, sc.seed).population
    arrays, schedules = compile_campaign(sc, pop)
    root = root_key(sc.seed)
    deep = 0
    for schedule in schedules[:2]:
        for trial in (0, 1):
            tree = campaign.cascade_tree(pop, arrays, schedule, root, trial)
            mesa_tree = campaign_agents.cascade_tree(pop, arrays, schedule, root, trial)
            for field in ("account", "day", "parent", "post", "partner", "generation"):
                assert np.array_equal(getattr(tree, field), getattr(mesa_tree, field)), field
            out = simulate(pop, arrays, schedule, root, np.array([trial]))
            assert len(tree.account) == out.totals[0, ck.TOTALS.index("adopters")]
            by_partner = np.bincount(tree.partner, minlength=len(schedule.partner_creator))
            assert np.array_equal(by_partner, out.partners[0, :, ck.PARTNER.index("adopters")])
            day_of = dict(zip(tree.account.tolist(), tree.day.tolist(), strict=True))
            gen_of = dict(zip(tree.account.tolist(), tree.generation.tolist(), strict=True))
            partners = set(pop.creator_account(schedule.partner_creator).tolist())
            for d, p, g in zip(tree.day, tree.parent, tree.generation, strict=True):
                if g == 1:
                    assert p in partners
                else:
                    assert day_of[p] < d and gen_of[p] == g - 1
                    deep += 1
    assert deep > 0, "the test should see re-share chains"


def test_cascade_trees_are_written(tmp_path):
    import pandas as pd

    from sim import run

    world = copy.deepcopy(WORLD)
    world["audience"]["peers"]["n"] = 400
    sc = scenario(world=world, strategies=STRATEGIES[:2], days=8)
    sc = Scenario.model_validate({**sc.model_dump(), "trials": 4, "cascade_trees": [1, 3]})
    results = run(sc, out=tmp_path / "r")
    trees = pd.read_parquet(tmp_path / "r" / "trees.parquet")
    assert set(trees["trial"]) <= {1, 3} and set(trees["strategy"]) <= {"micro", "mega"}
    adopted = results.table.set_index(["strategy", "trial"])["adopted"] / sc.world.scale
    for (strategy, trial), rows in trees.groupby(["strategy", "trial"]):
        assert len(rows) == adopted[(strategy, trial)]


def test_a_creators_post_draws_the_same_numbers_in_every_strategy():
    """Common random numbers: a post's draws are keyed by its creator, day and rank, not by its
    place in a schedule, so the same micro creators posting on day 0 expose and engage exactly
    the same followers (and discovered strangers) whether or not a mega post is scheduled too."""
    world = copy.deepcopy(WORLD)
    world["platforms"]["ig"]["discovery"] = 0.3
    model = {**MODEL, "reshare": 0.0}
    micro = {"tier": "micro", "platform": "ig", "creators": 4, "select": "top_followers", "days": [0]}
    strategies = [{"name": "micro", "posts": [micro]},
                  {"name": "mega_then_micro", "posts": [{"tier": "mega", "platform": "ig", "creators": 1,
                                                         "days": [0]}, micro]}]
    _, schedules, (alone, mixed) = outcomes(scenario(world=world, model=model, strategies=strategies), trials=50)
    assert np.array_equal(schedules[0].partner_creator, schedules[1].partner_creator[1:])
    assert not np.array_equal(schedules[0].draw, np.arange(4))  # keys are not schedule positions
    assert np.array_equal(np.sort(schedules[0].draw), np.sort(schedules[1].draw[schedules[1].partner > 0]))
    impressions, engagements = ck.PARTNER.index("impressions"), ck.PARTNER.index("engagements")
    for col in (impressions, engagements):
        assert np.array_equal(alone.partners[:, :, col], mixed.partners[:, 1:, col])
    assert alone.partners[:, :, impressions].sum() > 0
