"""The click stage (docs/model.md §7.7c, ``click_share``) against closed forms and invariants.

Per exposure, with engagement probability p and the exposure's one engagement draw u: engaged iff
u < p, clicked iff u < p c (c = ``click_share``), acts iff u < p c a (a = ``action_on_engagement``,
P(act | clicked)). So, whatever p is, P(clicked | engaged) = c and P(acts | clicked) = a.

One post, no re-shares: every account is exposed at most once (a post reaches an account once),
so given the engagers, clickers ~ Binomial(engagers, c), and with persuasion out of reach (an
account adopts iff its exposure acts) adopters ~ Binomial(clickers, a), each of them a clicker.
Each exposure path that draws engagement is checked on its own: followers (p = e at the initial
trust), platform discovery (p = e x stranger trust / trust, here e) and press (p = the press
engagement). Tolerances are 4 standard errors; seeds are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.base.rng import root_key
from sim.campaign import kernel as ck
from sim.campaign.family import compile_campaign
from sim.campaign.metrics import campaign_tables
from sim.campaign.model import simulate
from sim.input.scenario import Scenario
from sim.world.build import build_world

#: Persuasion out of reach: an account adopts only through an exposure that is the action itself.
_NO_PERSUASION = {"threshold": {"max": 1e9, "interest_effect": 0.0}}


def _star(*, path: str = "followers", engagement: float = 0.3, click: float = 1.0, act: float = 0.0,
          n: int = 400, days=(0,), reshare: float = 0.0, model: dict | None = None) -> Scenario:
    """One micro creator followed by all ``n`` audience accounts; ``path`` says how its post reaches them.

    ``followers``: organic reach 1; ``discovery``: organic reach 0, discovery picks of non-followers
    (stranger trust = the creator's trust, so their engagement is ``engagement`` too); ``press``:
    organic reach 0, press coverage with engagement ``engagement``.
    """
    plat = {"organic_reach": 1.0 if path == "followers" else 0.0, "discovery": 0.5 if path == "discovery" else 0.0}
    tier = {"followers": [2 * n, 2 * n + 1], "count": 1, "platforms": {"ig": 1.0}, "engagement": engagement,
            "trust": 0.5}
    if path == "press":
        tier["press"] = {"reach": 0.5, "trust": 0.5, "engagement": engagement}
    world = {
        "kind": "creator_audience",
        "audience": {"peers": {"kind": "erdos_renyi", "n": n, "mean_degree": 4.0 if reshare else 0.0},
                     "segments": [{"name": "all", "share": 1.0, "platforms": {"ig": 1.0}}],
                     "interest": {"mean": 0.5}},
        "platforms": {"ig": plat},
        "tiers": {"micro": tier},
    }
    m = {"kind": "campaign", "alignment_weight": 0.0, "repetition_peak": None, "stranger_trust": 0.5,
         "reshare": reshare, "click_share": click, "action_on_engagement": act, **(model or {})}
    return Scenario.model_validate({
        "name": "star", "seed": 31, "trials": 1, "days": max(days) + 2, "world": world, "model": m,
        "strategies": [{"name": "one", "posts": [{"tier": "micro", "platform": "ig", "creators": 1,
                                                   "paid": False, "days": list(days)}]}]})


def _run(sc: Scenario, trials: int):
    pop = build_world(sc.world, sc.seed).population
    arrays, (schedule,) = compile_campaign(sc, pop)
    out = simulate(pop, arrays, schedule, root_key(sc.seed), np.arange(trials))
    return pop, arrays, schedule, out, {name: out.totals[:, j] for j, name in enumerate(ck.TOTALS)}


def _within(count: float, n: float, p: float) -> bool:
    """``count`` successes of ``n`` Bernoulli(p) trials within 4 standard errors of n p."""
    return abs(count - n * p) < 4 * math.sqrt(n * p * (1 - p)) + 1e-9


def _ordered(tot: dict) -> bool:
    """adopters_clicked <= clickers <= engagers and adopters_clicked <= adopters_engaged, in every trial."""
    return bool((tot["adopters_clicked"] <= tot["clickers"]).all() and (tot["clickers"] <= tot["engagers"]).all()
                and (tot["adopters_clicked"] <= tot["adopters_engaged"]).all())


@pytest.mark.parametrize("path", ["followers", "discovery", "press"])
def test_click_share_of_engagers_and_action_share_of_clickers(path):
    """On each exposure path: clickers / engagers ~ c and adopters / clickers ~ a (binomial), every
    adopter a clicker; for followers (all F reached), clickers ~ Binomial(F T, e c) unconditionally."""
    e, c, a, nt = 0.3, 0.4, 0.5, 150
    pop, arrays, _, _, tot = _run(_star(path=path, engagement=e, click=c, act=a, model=_NO_PERSUASION), nt)
    assert arrays.click == c and arrays.act == c * a  # computed once on the host
    key = {"followers": "impressions", "discovery": "discovery_impressions", "press": "press_impressions"}[path]
    assert (tot[key] > 0).all() and np.array_equal(tot[key], tot["impressions"])  # this path only
    assert np.array_equal(tot["engagements"], tot["engagers"])  # one exposure per account
    engagers, clickers, adopters = tot["engagers"].sum(), tot["clickers"].sum(), tot["adopters"].sum()
    assert engagers > 2000 and clickers > 800
    assert _within(clickers, engagers, c)
    assert _within(adopters, clickers, a)
    assert np.array_equal(tot["adopters_clicked"], tot["adopters"])
    assert np.array_equal(tot["adopters_engaged"], tot["adopters"])
    assert _ordered(tot)
    if path == "followers":
        assert (tot["reach"] == pop.n_audience).all()
        assert _within(clickers, pop.n_audience * nt, e * c)
        assert _within(adopters, pop.n_audience * nt, e * c * a)


def test_click_share_with_independent_adoption():
    """Independent adoption with conversion out of reach: the same binomial shares."""
    c, a = 0.6, 0.3
    _, _, _, _, tot = _run(_star(engagement=0.4, click=c, act=a,
                                 model={"adoption": "independent", "conversion_rate": 1e-12}), 150)
    assert _within(tot["clickers"].sum(), tot["engagers"].sum(), c)
    assert _within(tot["adopters"].sum(), tot["clickers"].sum(), a)
    assert np.array_equal(tot["adopters_clicked"], tot["adopters"]) and _ordered(tot)


def test_adopters_clicked_counts_persuaded_clickers():
    """Persuasion in reach and no action on engagement: adopting is independent of clicking, so the
    adopters that clicked are a share e c of the adopters (Binomial(adopters, e c)), not all of them."""
    e, c = 0.3, 0.5
    _, _, _, _, tot = _run(_star(engagement=e, click=c, model={"threshold": {"max": 1.0, "interest_effect": 0.0}}),
                           150)
    adopters = tot["adopters"].sum()
    assert 0 < adopters < tot["reach"].sum()
    assert _within(tot["adopters_clicked"].sum(), adopters, e * c)
    assert _within(tot["adopters_engaged"].sum(), adopters, e)
    assert _ordered(tot)


def test_click_share_one_is_every_engagement():
    """click_share 1 (the default): clickers == engagers and adopters_clicked == adopters_engaged,
    exactly, on a world with every path on (several posts, discovery, re-shares on a peer graph)."""
    sc = _star(path="discovery", engagement=0.2, act=0.3, days=(0, 1, 3), reshare=0.8,
               model={"threshold": {"max": 1.0, "interest_effect": 0.5}})
    sc = Scenario.model_validate({**sc.model_dump(mode="python"),
                                  "world": {**sc.world.model_dump(mode="python"),
                                            "platforms": {"ig": {"organic_reach": 0.4, "discovery": 0.3}}}})
    assert sc.model.click_share == 1.0
    _, arrays, _, _, tot = _run(sc, 80)
    assert arrays.click == 1.0 and arrays.act == 0.3
    assert (tot["reshares"] > 0).any() and (tot["discovery_impressions"] > 0).all()
    assert (tot["engagers"] > 0).all() and (tot["adopters_engaged"] > 0).any()
    assert np.array_equal(tot["clickers"], tot["engagers"])
    assert np.array_equal(tot["adopters_clicked"], tot["adopters_engaged"])


def test_click_stage_only_splits_engagement():
    """(click c, action a) and (click 1, action c a) act on the same exposures: every column but the
    two click columns is identical, trial for trial (act = c a in float64 either way; 1.0 x c a == c a)."""
    c, a = 0.4, 0.55
    base = {"path": "discovery", "engagement": 0.25, "days": (0, 2), "reshare": 0.5,
            "model": {"threshold": {"max": 2.0, "interest_effect": 0.5}}}
    *_, split = _run(_star(click=c, act=a, **base), 60)
    *_, whole = _run(_star(click=1.0, act=c * a, **base), 60)
    for name in ck.TOTALS:
        if name not in ("clickers", "adopters_clicked"):
            assert np.array_equal(split[name], whole[name]), name
    assert (split["clickers"] < split["engagers"]).any() and np.array_equal(whole["clickers"], whole["engagers"])
    assert _ordered(split)


def test_click_rates_in_the_trial_table():
    """click_rate_reached = clickers / reach, action_rate_clicked = adopters_clicked / clickers per trial;
    click_share 0: nobody clicks (nor acts), so action_rate_clicked is NaN while engagers are counted."""
    _, _, schedule, out, tot = _run(_star(click=0.5, act=0.5, model=_NO_PERSUASION), 20)
    pop = build_world(_star().world, 31).population
    runs = campaign_tables(["one"], 0, out, schedule, pop).runs.to_pandas()
    np.testing.assert_array_equal(runs["clickers"], tot["clickers"] * pop.scale)
    np.testing.assert_array_equal(runs["adopters_clicked"], tot["adopters_clicked"] * pop.scale)
    np.testing.assert_array_equal(runs["click_rate_reached"], tot["clickers"] / tot["reach"])
    np.testing.assert_array_equal(runs["action_rate_clicked"], tot["adopters_clicked"] / tot["clickers"])
    _, _, schedule, out, tot = _run(_star(click=0.0, act=0.5, model=_NO_PERSUASION), 8)
    runs = campaign_tables(["one"], 0, out, schedule, pop).runs.to_pandas()
    assert (tot["engagers"] > 0).all() and (tot["clickers"] == 0).all() and (tot["adopters"] == 0).all()
    assert (runs["click_rate_reached"] == 0).all() and runs["action_rate_clicked"].isna().all()
