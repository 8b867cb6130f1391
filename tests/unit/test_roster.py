"""The planner's roster: strict reading with file:line:column errors, the world built around it, hiring
at each creator's own price, handles in partners.csv, and the max_partners cap."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml

from sim import load_scenario, prepare
from sim.campaign.metrics import partner_table
from sim.campaign.model import compile_world
from sim.input.scenario import ScenarioError
from sim.world.roster import RosterError, read_text

ROSTER = """handle,platform,followers,price_per_post,engagement_rate,alignment,tier
@a,instagram,15000,250,0.03,0.8,
@b,tiktok,8000,40,,0.4,
@c,instagram,1500000,18000,0.01,,
@d,tiktok,120000,900,0.05,0.6,macro
@e,instagram,20000,300,,,
@f,instagram,60000,450,0.02,0.5,
"""

WORLD = {
    "kind": "creator_audience", "scale": 10.0,
    "audience": {"peers": {"kind": "erdos_renyi", "n": 3000, "mean_degree": 4.0},
                 "segments": [{"name": "all", "share": 1.0, "platforms": {"instagram": 0.9, "tiktok": 0.6}}],
                 "interest": {"mean": 0.3, "concentration": 4.0, "homophily": 0.5}},
    "platforms": {"instagram": {"organic_reach": 0.2, "discovery": 0.1}, "tiktok": {"organic_reach": 0.3}},
    "tiers": {"nano": {"followers": [1000, 10000], "engagement": 0.2, "trust": 0.6},
              "micro": {"followers": [10000, 100000], "engagement": 0.1, "trust": 0.5},
              "macro": {"followers": [100000, 1000000], "engagement": 0.08, "trust": 0.4},
              "mega": {"followers": [1000000, 3000000], "engagement": 0.05, "trust": 0.3}},
    "creators": {"roster": "creators.csv"},
}


def write(tmp_path, roster: str | bytes = ROSTER, posts=None, **extra):
    (tmp_path / "creators.csv").write_bytes(roster if isinstance(roster, bytes) else roster.encode())
    data = {"name": "ro", "seed": 3, "trials": 8, "days": 14, "world": copy.deepcopy(WORLD),
            "model": {"kind": "campaign", "reshare": 0.1}, "partnership_cost": {"micro": 100.0},
            "strategies": [{"name": "s", "posts": posts or [
                {"tier": "micro", "platform": "instagram", "budget": 1000.0, "select": "top_followers",
                 "days": [0, 7]}]}], **extra}
    path = tmp_path / "ro.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_tiers_come_from_followers_unless_given(tmp_path):
    s = load_scenario(write(tmp_path))
    roster = s.world.roster()
    assert roster.tier == ("micro", "nano", "mega", "macro", "micro", "micro")
    assert s.world.tier_counts() == {"nano": 1, "micro": 3, "macro": 1, "mega": 1}
    assert s.world.creators.sha256 and s.world.creators.roster.endswith("creators.csv")


@pytest.mark.parametrize("text, where, message", [
    ("handle,platform,followers,price_per_post\n@a,instagram,100,5\n@a,tiktok,200,5\n", "3:1",
     "handle: '@a' appears twice (first on line 2)"),
    ("handle,platform,followers,price_per_post\n@a,instagram,-100,5\n", "2:14",
     "followers: must be a whole number >= 1 (got '-100')"),
    ("handle,platform,followers,price_per_post\n@a,instagram,,5\n", "2:14", "followers: is empty"),
    ("handle,platform,followers,price_per_post\n@a,instagram,100,cheap\n", "2:18",
     "price_per_post: must be a number >= 0 (got 'cheap')"),
    ("handle,platform,followers,price_per_post\n@a,instagram,100,nan\n", "2:18", "price_per_post: must be"),
    ("handle,platform,followers,price_per_post,engagement_rate\n@a,instagram,100,5,1.5\n", "2:20",
     "engagement_rate: must be a number >= 0 and <= 1"),
    ("handle,platform,followers,price\n@a,instagram,100,5\n", "1:27", "unknown column 'price'"),
    ("handle,platform,followers\n@a,instagram,100\n", "1:1", "missing required column price_per_post"),
    ("handle,platform,followers,price_per_post\n@a,instagram,100\n", "2:", "3 fields, but the header names 4"),
    ("handle,platform,followers,price_per_post,tier\n@a,instagram,100,5,giga\n", "2:", "unknown tier 'giga'"),
    ("", "1:1", "the roster is empty"),
    ("handle,platform,followers,price_per_post\n@a,instagram,99999999999999999999999,5\n", "2:14",
     "followers: must be a whole number <= 9,007,199,254,740,992 (got '99999999999999999999999')"),
    ("handle,platform,followers,price_per_post\n@a,instagram," + "9" * 5000 + ",5\n", "2:14",
     "followers: must be a whole number <= 9,007,199,254,740,992 (got '9999999999999999999999999999999999999999'"
     "... (5,000 characters))"),
])
def test_format_problems_are_located_by_line_and_column(text, where, message):
    with pytest.raises(RosterError) as err:
        read_text(text, "creators.csv")
    assert f"creators.csv:{where}" in str(err.value) and message in str(err.value), str(err.value)


def test_world_problems_name_the_scenario_key_and_the_roster_position(tmp_path):
    bad = ROSTER.replace("@b,tiktok", "@b,tiktk")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, bad))
    (line,) = err.value.problems
    assert "ro.yaml:" in line and "world.creators.roster: creators.csv:3:4: platform: unknown platform 'tiktk'" in line
    assert "did you mean 'tiktok'" in line
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, ROSTER.replace("@e,instagram,20000", "@e,instagram,500")))
    assert "creators.csv:6:14: followers: 500 is in no tier's range" in err.value.problems[0]


def test_non_utf8_is_refused_with_its_position(tmp_path):
    data = ROSTER.encode().replace(b"@e", b"@\xe9")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, data))
    assert "creators.csv:6:2: not UTF-8 text (byte 0xe9)" in err.value.problems[0]


def test_a_changed_roster_is_another_scenario(tmp_path):
    path = write(tmp_path)
    s = load_scenario(path)
    (tmp_path / "creators.csv").write_text(ROSTER.replace("250", "260"))
    assert load_scenario(path).digest() != s.digest()
    data = yaml.safe_load(path.read_text())
    data["world"]["creators"]["sha256"] = s.world.creators.sha256
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match="has changed since this scenario was written"):
        load_scenario(path)


def test_the_world_is_built_around_the_roster(tmp_path):
    s = load_scenario(write(tmp_path))
    prep = prepare(s)
    pop = prep.world.population
    roster = s.world.roster()
    assert pop.n_creators == len(roster) and pop.handles == roster.handle
    assert [pop.tiers[t] for t in pop.creator_tier] == list(roster.tier)
    assert [pop.platforms[p] for p in pop.creator_platform] == list(roster.platform)
    assert np.array_equal(pop.followers_real, roster.followers)
    members = pop.on_platform.sum(axis=0)
    want = np.minimum(np.maximum(1, np.rint(roster.followers / 10.0)), members[pop.creator_platform])
    assert np.array_equal(pop.followers_sim, want)
    given = ~np.isnan(roster.alignment)
    assert np.array_equal(pop.alignment[given], roster.alignment[given])
    # Engagement per exposure: the published rate per follower over the post's reach (0.2 on instagram).
    arrays = compile_world(pop, s.world, s.model, s.days, 2)
    account = pop.creator_account(0)
    assert arrays.engagement[account] == pytest.approx(0.03 / 0.2)
    assert arrays.engagement[pop.creator_account(1)] == pytest.approx(0.2)  # @b: no rate, the nano tier's


def test_a_budget_hires_in_select_order_what_fits_at_each_creators_price(tmp_path):
    # Micro on instagram by followers: @f (60k, 2 x 450 + 100 = 1,000), @e (20k, 700), @a (15k, 600).
    # $1,700 buys @f, skips nothing it can afford: @e (total 1,700); @a no longer fits.
    s = load_scenario(write(tmp_path, posts=[{"tier": "micro", "platform": "instagram", "budget": 1700.0,
                                              "select": "top_followers", "days": [0, 7]}]))
    prep = prepare(s)
    plan = prep.plans[0]
    handles = [prep.world.population.handle(int(c)) for c in plan.partner_creator]
    assert handles == ["@f", "@e"] and plan.cost == pytest.approx(1700.0)
    # $1,300: @f (1,000) fits, @e (700) does not, @a... (600) does not either (1,600 > 1,300).
    s = load_scenario(write(tmp_path, posts=[{"tier": "micro", "platform": "instagram", "budget": 1300.0,
                                              "select": "top_followers", "days": [0, 7]}]))
    plan = prepare(s).plans[0]
    assert plan.cost == pytest.approx(1000.0)
    roster = partner_table("s", prep.plans[0], prep.world.population)  # partners.csv's rows
    assert list(roster["handle"]) == ["@f", "@e"]


def test_max_partners_caps_a_strategy(tmp_path):
    posts = [{"tier": "micro", "platform": "instagram", "budget": 5000.0, "select": "top_followers", "days": [0]},
             {"tier": "nano", "platform": "tiktok", "budget": 500.0, "days": [0]}]
    data_path = write(tmp_path, posts=posts)
    data = yaml.safe_load(data_path.read_text())
    data["strategies"][0]["max_partners"] = 2
    data_path.write_text(yaml.safe_dump(data))
    plan = prepare(load_scenario(data_path)).plans[0]
    assert len(plan.partner_creator) == 2  # the first group takes the cap; the second hires nobody
    data["strategies"][0]["posts"] = [{"tier": "micro", "platform": "instagram", "creators": 3, "days": [0]}]
    data_path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match="more than max_partners"):
        load_scenario(data_path)


def test_no_price_needed_on_the_rate_card_with_a_roster(tmp_path):
    s = load_scenario(write(tmp_path))
    assert s.rate_card is None and math.isfinite(prepare(s).plans[0].cost)


def test_mesa_and_numba_agree_on_a_roster_world(tmp_path):
    """Per-creator prices and engagement reach both engines through the compiled arrays: identical tables."""
    from sim import run

    s = load_scenario(write(tmp_path))
    a = run(s, trials=3).table
    b = run(s, trials=3, engine="mesa").table
    assert a.equals(b)


def test_the_report_describes_a_roster_world_by_its_file_and_own_prices(tmp_path):
    from sim.families.registry import family_of

    s = load_scenario(write(tmp_path))
    prep = prepare(s)
    words = " ".join(family_of(s).describe(s, prep.world_facts()))
    assert "1 nano creators" in words and "3 micro creators" in words
    assert "(the planner's roster, creators.csv)" in words
    assert "Prices per post: each creator's own (the roster's price_per_post)." in words


def test_a_roster_that_is_not_a_readable_file_is_one_located_line(tmp_path):
    """A loop of symbolic links, a name too long, an endless device: refused at world.creators.roster,
    never read whole and never a traceback."""
    import os
    from pathlib import Path

    os.symlink("b.csv", tmp_path / "a.csv")
    os.symlink("a.csv", tmp_path / "b.csv")
    cases = {"a.csv": "cannot be read", "x" * 300 + ".csv": "cannot be read"}
    if Path("/dev/zero").exists():
        cases["/dev/zero"] = "no such file"  # not a regular file
    for name, message in cases.items():
        path = write(tmp_path)
        data = yaml.safe_load(path.read_text())
        data["world"]["creators"]["roster"] = name
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(ScenarioError) as err:
            load_scenario(path)
        (line,) = err.value.problems
        assert "world.creators.roster: " in line and message in line, line


def test_an_enormous_roster_is_refused_after_reading_one_byte_past_the_limit(tmp_path, monkeypatch):
    from sim.world import roster

    monkeypatch.setattr(roster, "MAX_BYTES", 64)
    (tmp_path / "big.csv").write_text(ROSTER)  # more than 64 bytes
    with pytest.raises(RosterError, match="more than 64 bytes"):
        roster.read_roster(tmp_path / "big.csv")


# --------------------------------------------------------------------------- a roster and the mechanisms of issue 19

def _mechanisms(tmp_path, roster: str = ROSTER, posts=None, **world):
    """The roster world with creators spread around their tiers, engagement multipliers per platform and
    tier, and the alignment weight on."""
    path = write(tmp_path, roster, posts=posts)
    data = yaml.safe_load(path.read_text())
    data["world"]["dispersion"] = {"trust": 0.4, "authenticity": 0.3, "engagement": 0.5}
    data["world"]["platforms"]["instagram"].update({"engagement": 0.7, "tier_engagement": {"micro": 1.4}})
    data["world"]["tiers"]["micro"]["authenticity"] = 0.8
    data["world"].update(world)
    data["model"].update({"alignment_weight": 0.5, "stranger_trust": 0.2})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(path)


def test_a_roster_rate_is_the_creators_one_engagement_and_the_rest_are_spread(tmp_path):
    """One engagement per creator: a roster rate made per exposure replaces the tier's level, its
    dispersion and the platform's multipliers; a creator without one gets its tier's level spread by
    the dispersion, times the multipliers. The followers' and the discovery engagement both read it."""
    from sim.world.levels import creator_levels, spread

    s = _mechanisms(tmp_path)
    pop = prepare(s).world.population
    lev = creator_levels(pop, s.world)
    a, e = pop.handles.index("@a"), pop.handles.index("@e")  # micro on instagram; @a has a rate, @e none
    assert lev.exposure_engagement[a] == pytest.approx(0.03 / 0.2)
    assert lev.engagement[a] == pytest.approx(0.03 / 0.2 / (0.7 * 1.4))
    q = pop.creator_quantile[e, 2]  # its engagement quantile within the micro tier
    assert lev.engagement[e] == spread(0.1, 0.5, np.array([q]))[0] != 0.1
    assert lev.exposure_engagement[e] == lev.engagement[e] * 0.7 * 1.4
    arrays = compile_world(pop, s.world, s.model, s.days, 2)
    for c in range(pop.n_creators):
        assert arrays.engagement[pop.creator_account(c)] == lev.exposure_engagement[c]
        assert arrays.trust0[pop.creator_account(c)] == lev.trust[c]
    plan = prepare(s).plans[0]
    for p, c in enumerate(plan.partner_creator):
        want = min(1.0, lev.exposure_engagement[c] * 0.2 / lev.trust[c])
        assert np.all(plan.discovery_engagement[plan.partner == p] == want)


def test_a_roster_alignment_enters_the_dose(tmp_path):
    """@a's alignment 0.8 from the file: its paid posts carry authenticity x (1 + 0.5 (2 x 0.8 - 1))."""
    from sim.world.levels import creator_levels

    s = _mechanisms(tmp_path, posts=[{"tier": "micro", "platform": "instagram", "creators": 3,
                                      "select": "top_followers", "days": [0]}])
    prep = prepare(s)
    pop, plan = prep.world.population, prep.plans[0]
    lev = creator_levels(pop, s.world)
    a = pop.handles.index("@a")
    p = int(np.flatnonzero(plan.partner_creator == a)[0])
    assert pop.alignment[a] == 0.8
    assert plan.factor[plan.partner == p][0] == pytest.approx(lev.authenticity[a] * (1 + 0.5 * 0.6))


CELEBRITY_ROSTER = ROSTER + "@star,instagram,80000000,250000,0.004,0.3,celebrity\n"


def test_a_roster_celebrity_with_press_runs_the_same_on_both_engines(tmp_path):
    """A roster creator of the celebrity tier (audience share, press coverage), every mechanism on:
    identical tables on numba and Mesa, and the press reaches people."""
    from sim import run

    tiers = copy.deepcopy(WORLD["tiers"])
    tiers["celebrity"] = {"followers": [10_000_000, 500_000_000], "engagement": 0.02, "trust": 0.2,
                          "authenticity": 0.6, "audience_share": 0.0001,
                          "press": {"reach": 0.05, "trust": 0.3, "engagement": 0.01}}
    s = _mechanisms(tmp_path, CELEBRITY_ROSTER, tiers=tiers, posts=[
        {"tier": "celebrity", "platform": "instagram", "creators": 1, "days": [0]},
        {"tier": "micro", "platform": "instagram", "creators": 2, "days": [0, 3]}])
    data = yaml.safe_load((tmp_path / "ro.yaml").read_text())
    data["model"].update({"action_on_engagement": 0.5, "sources": {"synergy": 0.5, "cap": 3},
                          "repetition_peak": 2})
    (tmp_path / "ro.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    s = load_scenario(tmp_path / "ro.yaml")
    assert s.world.roster().tier[-1] == "celebrity"
    pop = prepare(s).world.population
    star = pop.handles.index("@star")
    assert pop.followers_sim[star] == round(80_000_000 * 0.0001 / 10.0)  # 800 of the audience
    a = run(s, trials=4).table
    b = run(s, trials=4, engine="mesa").table
    assert a.equals(b)
    assert (a["press_impressions"] > 0).all()
