"""The mechanisms of issue 19 against closed forms (docs/model.md §5, §7).

Star worlds: creators followed by every audience account, reach 1, no discovery, no re-shares,
so each account's exposures are known exactly and its adoption chance has a closed form:

* action on engagement (§7.7c): with persuasion out of reach, an account adopts iff its
  engagement is the action, P = e x act, so adopters ~ Binomial(F, e act) and the share of
  engagers who act is ``act``;
* multiple sources (§7.7a): k creators each deliver dose x on one day, P(adopt) = min(1, k^(1 + s)
  x / theta) for k <= cap;
* repetition (§7.5): N posts on N days, no decay: the conviction after n exposures is x n (2P - n)
  / (2P - 1), largest at n = P, so P(ever adopted) = x P^2 / ((2P - 1) theta);
* press (§7.12): n picks with replacement from N accounts reach N (1 - (1 - 1/N)^n) distinct ones.

Creator levels (§5, item 4b) against the Beta distribution's moments. Tolerances are 4 standard
errors; seeds are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.base.rng import root_key
from sim.campaign import kernel as ck
from sim.campaign.family import compile_campaign
from sim.campaign.model import alignment_factor, repetition_weights, simulate
from sim.campaign.rate_cards import RATE_CARDS
from sim.input.scenario import Scenario, ScenarioError
from sim.world.build import build_world, structure_key
from sim.world.levels import creator_levels, spread
from sim.world.population import creator_quantiles
from sim.world.spec import CreatorAudienceWorld


def _star(*, n: int = 400, creators: int = 1, days=(0,), engagement: float = 0.0, trust: float = 0.5,
          model: dict | None = None, tier: dict | None = None, platform: dict | None = None,
          world: dict | None = None) -> Scenario:
    """``creators`` micro creators, each followed by every one of the ``n`` audience accounts."""
    w = {
        "kind": "creator_audience",
        "audience": {"peers": {"kind": "erdos_renyi", "n": n, "mean_degree": 0.0},
                     "segments": [{"name": "all", "share": 1.0, "platforms": {"ig": 1.0}}],
                     "interest": {"mean": 0.5}},
        "platforms": {"ig": {"organic_reach": 1.0, **(platform or {})}},
        "tiers": {"micro": {"followers": [2 * n, 2 * n + 1], "count": creators, "platforms": {"ig": 1.0},
                            "engagement": engagement, "trust": trust, **(tier or {})}},
        **(world or {}),
    }
    m = {"kind": "campaign", "alignment_weight": 0.0, "repetition_peak": None,
         "threshold": {"max": 1.0, "interest_effect": 0.0}, **(model or {})}
    return Scenario.model_validate({
        "name": "star", "seed": 23, "trials": 1, "days": max(days) + 2, "world": w, "model": m,
        "strategies": [{"name": "all", "posts": [{"tier": "micro", "platform": "ig", "creators": creators,
                                                   "paid": False, "days": list(days)}]}]})


def _run(sc: Scenario, trials: int):
    pop = build_world(sc.world, sc.seed).population
    arrays, (schedule,) = compile_campaign(sc, pop)
    out = simulate(pop, arrays, schedule, root_key(sc.seed), np.arange(trials))
    return pop, arrays, schedule, {name: out.totals[:, j] for j, name in enumerate(ck.TOTALS)}


def _close(count: float, n: int, p: float) -> bool:
    """``count`` successes of ``n`` Bernoulli(p) trials within 4 standard errors of n p."""
    return abs(count - n * p) < 4 * math.sqrt(n * p * (1 - p)) + 1e-9


# --------------------------------------------------------------------------- action on engagement


@pytest.mark.parametrize("adoption", ["threshold", "independent"])
def test_action_on_engagement_is_binomial(adoption):
    """Persuasion out of reach: adopters ~ Binomial(F, e act), all of them engaged; engagers who act: act."""
    e, act = 0.3, 0.6
    extra = {"threshold": {"max": 1e9, "interest_effect": 0.0}} if adoption == "threshold" else {
        "conversion_rate": 1e-12}
    sc = _star(engagement=e, model={"adoption": adoption, "action_on_engagement": act, **extra})
    pop, _, _, tot = _run(sc, trials=200)
    f, nt = pop.n_audience, 200
    assert _close(tot["adopters"].sum(), f * nt, e * act)
    assert np.array_equal(tot["adopters_engaged"], tot["adopters"])
    share = tot["adopters"].sum() / tot["engagers"].sum()
    assert abs(share - act) < 4 * math.sqrt(act * (1 - act) / tot["engagers"].sum())


def test_action_hits_both_funnel_rates():
    """The M+R funnel (response 1.82% of delivered, click 2.1%: 87% of clickers act) is within reach:
    engagement 2.1% and act 0.87 give a response of 1.83% of reached, 87% of engagers."""
    e, act = 0.021, 0.87
    sc = _star(n=2000, engagement=e, model={"action_on_engagement": act,
                                            "threshold": {"max": 1e9, "interest_effect": 0.0}})
    pop, _, _, tot = _run(sc, trials=100)
    n = pop.n_audience * 100
    assert _close(tot["adopters"].sum(), n, e * act)
    assert _close(tot["engagers"].sum(), n, e)


# --------------------------------------------------------------------------- multiple sources


@pytest.mark.parametrize(("k", "synergy", "cap"), [(2, 0.0, 3), (2, 1.0, 3), (3, 0.5, 3), (4, 0.5, 3), (3, -0.8, 3),
                                                    (3, 1.0, 1)])
def test_distinct_sources_weigh_conviction(k, synergy, cap):
    """With k creators, one post each on day 0, dose x = 0.5 each: P(adopt) = min(1, min(k, cap)^s k x / theta)."""
    theta, x = 6.0, 0.5
    sc = _star(creators=k, model={"threshold": {"max": theta, "interest_effect": 0.0},
                                  "sources": {"synergy": synergy, "cap": cap}})
    pop, arrays, schedule, tot = _run(sc, trials=150)
    assert len(schedule.partner_creator) == k and arrays.sources_on == (synergy != 0.0 and cap > 1)
    p = min(1.0, min(k, cap) ** synergy * k * x / theta)
    assert _close(tot["adopters"].sum(), pop.n_audience * 150, p)


def test_sources_count_distinct_posters_not_posts():
    """One creator posting twice is one source: the weight stays 1 (P = 2 x / theta)."""
    theta, x = 6.0, 0.5
    sc = _star(days=(0, 0), model={"threshold": {"max": theta, "interest_effect": 0.0},
                                   "sources": {"synergy": 2.0, "cap": 3}})
    pop, _, _, tot = _run(sc, trials=150)
    assert _close(tot["adopters"].sum(), pop.n_audience * 150, 2 * x / theta)


def test_synergy_needs_threshold_adoption():
    with pytest.raises(ValueError, match="sources.synergy"):
        _star(model={"adoption": "independent", "sources": {"synergy": 0.5}})


# --------------------------------------------------------------------------- repetition


def test_repetition_weights_form_an_inverted_u():
    w = repetition_weights(10.0, 30)
    cum = np.cumsum(w)
    assert w[0] == 1.0 and int(np.argmax(cum)) + 1 == 10  # the attitude peaks at the 10th exposure
    n = np.arange(1, 31)
    np.testing.assert_allclose(cum, n * (20 - n) / 19, rtol=1e-12, atol=1e-12)
    assert (repetition_weights(None, 5) == 1.0).all()


@pytest.mark.parametrize("peak", [2.0, 3.0])
def test_repetition_peak_caps_the_chance_to_adopt(peak):
    """N = 6 posts on 6 days, no decay: P(ever adopted) = x P^2 / ((2P - 1) theta), the conviction at its peak."""
    theta, x = 5.0, 0.5
    sc = _star(days=tuple(range(6)), model={"repetition_peak": peak,
                                            "threshold": {"max": theta, "interest_effect": 0.0}})
    pop, _, _, tot = _run(sc, trials=150)
    p = x * peak**2 / ((2 * peak - 1) * theta)
    assert _close(tot["adopters"].sum(), pop.n_audience * 150, p)


# --------------------------------------------------------------------------- alignment


def test_alignment_factor_is_one_at_average_fit():
    a = np.array([0.0, 0.25, 0.5, 1.0])
    np.testing.assert_array_equal(alignment_factor(a, 0.0), 1.0)
    np.testing.assert_allclose(alignment_factor(a, 0.2), [0.8, 0.9, 1.0, 1.2])


def test_alignment_enters_each_partners_post_factor():
    sc = _star(creators=5, model={"alignment_weight": 0.4, "message_strength": 2.0})
    pop = build_world(sc.world, sc.seed).population
    _, (schedule,) = compile_campaign(sc, pop)
    want = 2.0 * (1.0 + 0.4 * (2.0 * pop.alignment[schedule.partner_creator] - 1.0))
    np.testing.assert_allclose(schedule.factor[np.argsort(schedule.partner)], want, rtol=1e-15)


# --------------------------------------------------------------------------- press


def test_press_reaches_the_expected_distinct_accounts():
    """No organic reach: round(r N) picks with replacement reach N (1 - (1 - 1/N)^n) accounts on average."""
    n, r = 500, 0.6
    sc = _star(n=n, platform={"organic_reach": 0.0},
               tier={"press": {"reach": r, "trust": 0.5, "engagement": 0.2}})
    _, _, schedule, tot = _run(sc, trials=200)
    picks = int(schedule.n_press[0])
    assert picks == round(r * n)
    want = n * (1 - (1 - 1 / n) ** picks)
    assert np.array_equal(tot["press_impressions"], tot["reach"]) and (tot["discovery_impressions"] == 0).all()
    # the count of distinct accounts hit varies little (hypergeometric-like): 4 sd of a binomial bound it
    assert abs(tot["reach"].mean() - want) < 4 * math.sqrt(want / 200)
    assert _close(tot["engagements"].sum(), tot["reach"].sum(), 0.2)


# --------------------------------------------------------------------------- creator levels


@pytest.mark.parametrize(("level", "dispersion"), [(0.5, 0.3), (0.16, 0.5), (0.9, 0.8)])
def test_levels_have_the_tier_mean_and_the_dispersed_sd(level, dispersion):
    q = np.random.default_rng(5).random(20_000)
    x = spread(level, dispersion, q)
    sd = dispersion * math.sqrt(level * (1 - level))
    assert abs(x.mean() - level) < 4 * sd / math.sqrt(len(x))
    assert abs(x.std() - sd) < 0.02 * sd + 4 * sd / math.sqrt(2 * len(x))
    assert ((0 <= x) & (x <= 1)).all()
    assert (spread(level, 0.0, q) == level).all() and (spread(1.0, 0.5, q) == 1.0).all()


def test_creator_quantiles_are_keyed_per_tier_and_rank():
    """Adding creators to one tier redraws nobody else's place."""
    a = creator_quantiles(7, np.array([0, 0, 0, 1, 1], np.int8))
    b = creator_quantiles(7, np.array([0, 0, 0, 0, 1, 1], np.int8))
    np.testing.assert_array_equal(a[:3], b[:3])
    np.testing.assert_array_equal(a[3:], b[4:])
    assert (a[:, 0] != a[:, 1]).all() and not np.array_equal(a, creator_quantiles(8, np.array([0, 0, 0, 1, 1])))


def test_compiled_world_reads_each_creators_levels_and_tier_platform_engagement():
    sc = _star(creators=40, engagement=0.2, trust=0.5, tier={"authenticity": 0.8},
               platform={"engagement": 1.5, "tier_engagement": {"micro": 0.5}},
               world={"dispersion": {"trust": 0.4, "authenticity": 0.3, "engagement": 0.5}})
    pop = build_world(sc.world, sc.seed).population
    arrays, (schedule,) = compile_campaign(sc, pop)
    lev = creator_levels(pop, sc.world)
    creators = pop.n_audience + np.arange(pop.n_creators)
    np.testing.assert_array_equal(arrays.trust0[creators], lev.trust)
    np.testing.assert_array_equal(arrays.engagement[creators], lev.engagement * 1.5 * 0.5)
    assert np.unique(lev.trust).size == 40 and abs(lev.trust.mean() - 0.5) < 0.1
    # unpaid posts carry no authenticity; a paid schedule would carry each creator's own
    assert np.allclose(schedule.factor, 1.0)


def test_creator_levels_are_memoised_on_what_they_read():
    """The same world block gives the same (read-only) levels; changed tier levels give new ones, computed
    afresh (equal to a fresh population's); a changed platform multiplier reuses the spread levels and
    changes only the engagement the engines read."""
    sc = _star(creators=30, world={"dispersion": {"trust": 0.4, "engagement": 0.5}})
    pop = build_world(sc.world, sc.seed).population
    a = creator_levels(pop, sc.world)
    assert creator_levels(pop, sc.world) is a and not a.trust.flags.writeable
    data = sc.world.model_dump(mode="json")
    data["tiers"]["micro"]["trust"] = 0.3
    lower = CreatorAudienceWorld.model_validate(data)
    b = creator_levels(pop, lower)
    fresh = creator_levels(build_world(sc.world, sc.seed).population, lower)
    np.testing.assert_array_equal(b.trust, fresh.trust)
    assert b.trust.mean() < a.trust.mean()
    data = sc.world.model_dump(mode="json")
    data["platforms"]["ig"]["engagement"] = 2.0
    c = creator_levels(pop, CreatorAudienceWorld.model_validate(data))
    np.testing.assert_array_equal(c.trust, a.trust)
    np.testing.assert_allclose(c.exposure_engagement, 2.0 * a.exposure_engagement)


def test_dispersion_and_press_do_not_rebuild_the_world():
    base = _star().world
    other = CreatorAudienceWorld.model_validate({
        **base.model_dump(mode="json"), "dispersion": {"trust": 0.5},
        "tiers": {"micro": {**base.tiers["micro"].model_dump(mode="json"), "press": {"reach": 0.1}}},
        "platforms": {"ig": {**base.platforms["ig"].model_dump(mode="json"), "tier_engagement": {"micro": 2.0}}}})
    assert structure_key(base, 1) == structure_key(other, 1)
    shared = CreatorAudienceWorld.model_validate({
        **base.model_dump(mode="json"),
        "tiers": {"micro": {**base.tiers["micro"].model_dump(mode="json"), "audience_share": 0.5}}})
    assert structure_key(base, 1) != structure_key(shared, 1)  # followers are sampled from it


def test_unknown_tier_in_tier_engagement_is_refused():
    with pytest.raises(ValueError, match="tier_engagement"):
        _star(platform={"tier_engagement": {"mega": 2.0}})


# --------------------------------------------------------------------------- celebrities


def test_audience_share_samples_the_followers_in_the_audience():
    sc = _star(n=3000, tier={"followers": [400_000, 400_001], "audience_share": 0.005})
    pop = build_world(sc.world, sc.seed).population
    assert int(pop.followers_sim[0]) == round(400_000 * 0.005)


def test_celebrity_tier_and_prices():
    card = RATE_CARDS["source_article"].prices
    assert all(card[p]["celebrity"] == 500_000.0 for p in card)
    assert RATE_CARDS["industry_midpoint"].prices["instagram"]["celebrity"] == 500_000.0
    assert RATE_CARDS["source_article_low"].prices["instagram"]["celebrity"] == 100_000.0
    sc = _star(tier={"followers": [10_000_000, 500_000_000]})
    data = sc.model_dump(mode="json")
    data["world"]["tiers"] = {"celebrity": {**data["world"]["tiers"]["micro"], "platforms": {"instagram": 1.0}}}
    data["world"]["platforms"] = {"instagram": data["world"]["platforms"]["ig"]}
    data["world"]["audience"]["segments"][0]["platforms"] = {"instagram": 1.0}
    data["strategies"][0]["posts"][0].update(tier="celebrity", platform="instagram", paid=True)
    data["rate_card"] = "source_article"
    celeb = Scenario.model_validate(data)
    pop = build_world(celeb.world, celeb.seed).population
    _, (schedule,) = compile_campaign(celeb, pop)
    assert schedule.cost == 500_000.0 and int(pop.followers_sim[0]) == pop.n_audience  # capped at the audience


def test_celebrity_needs_a_price():
    sc = _star()
    data = sc.model_dump(mode="json")
    data["world"]["tiers"] = {"celebrity": data["world"]["tiers"]["micro"]}
    data["world"]["platforms"] = {"tt": data["world"]["platforms"]["ig"]}
    data["world"]["tiers"]["celebrity"]["platforms"] = {"tt": 1.0}
    data["world"]["audience"]["segments"][0]["platforms"] = {"tt": 1.0}
    data["strategies"][0]["posts"][0].update(tier="celebrity", platform="tt", paid=True)
    data["rate_card"] = {"tt": {"micro": 75.0}}
    with pytest.raises((ValueError, ScenarioError), match="no price for celebrity"):
        Scenario.model_validate(data)
