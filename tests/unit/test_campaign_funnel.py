"""The action funnel (reach -> engagement -> action) against closed forms and invariants.

Engagement feeds no dose (docs/model.md §7.4, §7.7), so on a star world (one creator, reach 1,
no discovery, no re-shares, one post) each of the F followers is exposed once and engages
independently with probability e: engagers ~ Binomial(F, e), and whether an adopter engaged is
independent of its adoption, so adopters_engaged / adopted estimates e. With k posts on k days
and reach r, a follower engages at least once with probability 1 - (1 - r e)^k.
Tolerances are 4 standard errors; the run's seeds are fixed.
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


def _star(*, engagement: float, adoption: str, days: list[int], reach: float = 1.0, discovery: float = 0.0,
          reshare: float = 0.0, n: int = 400, scale: float = 1.0) -> Scenario:
    """One micro creator followed by all ``n`` audience accounts (capped at the platform audience)."""
    world = {
        "kind": "creator_audience", "scale": scale,
        "audience": {"peers": {"kind": "erdos_renyi", "n": n, "mean_degree": 4.0 if reshare else 0.0},
                     "segments": [{"name": "all", "share": 1.0, "platforms": {"ig": 1.0}}],
                     "interest": {"mean": 0.5}},
        "platforms": {"ig": {"organic_reach": reach, "discovery": discovery}},
        "tiers": {"micro": {"followers": [int(2 * n * scale), int(2 * n * scale) + 1], "count": 1,
                            "platforms": {"ig": 1.0}, "engagement": engagement, "trust": 0.5}},
    }
    model = {"kind": "campaign", "adoption": adoption, "conversion_rate": 1.0, "reshare": reshare,
             "threshold": {"max": 1.0, "interest_effect": 0.0}}
    return Scenario.model_validate({
        "name": "star", "seed": 21, "trials": 1, "days": max(days) + 2, "world": world, "model": model,
        "strategies": [{"name": "one", "posts": [{"tier": "micro", "platform": "ig", "creators": 1,
                                                   "paid": False, "days": days}]}]})


def _run(sc: Scenario, trials: int):
    pop = build_world(sc.world, sc.seed).population
    arrays, (schedule,) = compile_campaign(sc, pop)
    out = simulate(pop, arrays, schedule, root_key(sc.seed), np.arange(trials))
    return pop, schedule, out, {name: out.totals[:, j] for j, name in enumerate(ck.TOTALS)}


@pytest.mark.parametrize("adoption", ["independent", "threshold"])
def test_star_engagers_binomial_and_engaged_share_of_adopters(adoption):
    e = 0.3
    pop, schedule, _, tot = _run(_star(engagement=e, adoption=adoption, days=[0]), trials=400)
    f = int(pop.followers_sim[schedule.partner_creator[0]])
    assert f == pop.n_audience == 400  # every audience account follows: reach = F in every trial
    assert (tot["reach"] == f).all() and (tot["engagements"] == tot["engagers"]).all()  # one exposure each
    nt = len(tot["reach"])
    assert abs(tot["engagers"].mean() - f * e) < 4 * math.sqrt(f * e * (1 - e) / nt)
    adopted = tot["adopters"].sum()
    assert adopted > 1000  # dose 0.5: P(adopt) = 1 - e^-0.5 (independent) or 0.5 (threshold)
    share = tot["adopters_engaged"].sum() / adopted
    assert abs(share - e) < 4 * math.sqrt(e * (1 - e) / adopted)
    assert np.array_equal(tot["adopters_engaged"] + tot["adopters_unengaged"], tot["adopters"])


def test_star_repeated_posts_count_each_engager_once():
    """With k = 3 posts at reach r = 0.5: E[engagers] = F (1 - (1 - r e)^3), below E[engagements] = 3 F r e."""
    e, r, k = 0.4, 0.5, 3
    pop, schedule, out, tot = _run(_star(engagement=e, adoption="independent", days=[0, 2, 4], reach=r), trials=300)
    f = int(pop.followers_sim[schedule.partner_creator[0]])
    nt = len(tot["reach"])
    q = 1 - (1 - r * e) ** k
    assert abs(tot["engagers"].mean() - f * q) < 4 * math.sqrt(f * q * (1 - q) / nt)
    assert abs(tot["engagements"].mean() - k * f * r * e) < 4 * tot["engagements"].std() / math.sqrt(nt)
    # new engagers per day: only on posting days; first post's day gets F r e on average
    new = out.series[:, :, ck.SERIES.index("new_engagers")]
    assert np.array_equal(new.sum(axis=1), tot["engagers"])
    assert (new[:, [1, 3, 5]] == 0).all()
    p0 = r * e
    assert abs(new[:, 0].mean() - f * p0) < 4 * math.sqrt(f * p0 * (1 - p0) / nt)


def test_funnel_invariants_and_scaled_columns_with_discovery_and_reshares():
    """Every path on (discovery, re-shares on a peer graph, several posts, scale 2): per trial,
    adopters split exactly, engagers <= reach and <= engagements; the trial table scales counts
    by s and gives the two action rates as per-trial ratios (NaN when the denominator is 0)."""
    sc = _star(engagement=0.2, adoption="threshold", days=[0, 1, 3], reach=0.4, discovery=0.3, reshare=0.8,
               n=300, scale=2.0)
    pop, schedule, out, tot = _run(sc, trials=120)
    assert (tot["reshares"] > 0).mean() > 0.5 and (tot["discovery_impressions"] > 0).all()
    assert np.array_equal(tot["adopters_engaged"] + tot["adopters_unengaged"], tot["adopters"])
    assert (tot["engagers"] <= tot["reach"]).all() and (tot["engagers"] <= tot["engagements"]).all()
    assert (tot["adopters_engaged"] <= tot["engagers"]).all()
    assert (tot["adopters_unengaged"] > 0).any() and (tot["adopters_engaged"] > 0).any()
    runs = campaign_tables(["one"], 0, out, schedule, pop).runs.to_pandas()
    for col in ("engagers", "adopters_engaged", "adopters_unengaged"):
        assert np.array_equal(runs[col].to_numpy(), tot[col] * 2.0)
    assert np.array_equal(runs["adopted"], runs["adopters_engaged"] + runs["adopters_unengaged"])
    np.testing.assert_array_equal(runs["action_rate_engaged"], tot["adopters_engaged"] / tot["engagers"])
    np.testing.assert_array_equal(runs["action_rate_reached"], tot["adopters"] / tot["reach"])


def test_action_rates_are_nan_without_engagers_or_reach():
    """Engagement 0: nobody engages, so action_rate_engaged is NaN while adopters are all unengaged;
    reach 0: both rates are NaN."""
    sc = _star(engagement=0.0, adoption="threshold", days=[0], n=50)
    pop, schedule, out, tot = _run(sc, trials=8)
    runs = campaign_tables(["one"], 0, out, schedule, pop).runs.to_pandas()
    assert (tot["engagers"] == 0).all() and np.array_equal(tot["adopters_unengaged"], tot["adopters"])
    assert runs["action_rate_engaged"].isna().all() and runs["action_rate_reached"].notna().all()
    sc = _star(engagement=0.5, adoption="threshold", days=[0], reach=0.0, n=50)
    pop, schedule, out, tot = _run(sc, trials=8)
    runs = campaign_tables(["one"], 0, out, schedule, pop).runs.to_pandas()
    assert (tot["reach"] == 0).all()
    assert runs["action_rate_engaged"].isna().all() and runs["action_rate_reached"].isna().all()
