"""The claims audit: budget matching, the assumption space, the analyses against known truths, and a
world where the source's claims are false (the audit still exits 0 and reports each verdict)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.base.rng import Stream, numpy_generator
from sim.experiments import load_experiment
from sim.experiments.assumptions import CALIBRATED, AssumptionError, load_assumptions, space
from sim.experiments.audit import (
    Arm,
    ComparisonSpec,
    Planner,
    Prices,
    blocks,
    breakeven,
    conditions,
    feature,
    sobol_indices,
)
from sim.experiments.claims import NOT_SUPPORTED, SUPPORTED, _verdict, groups, relevant

ROOT = Path(__file__).resolve().parents[2]
PRICES = Prices({"instagram": {"nano": 55.0, "micro": 300.0, "mega": 20000.0},
                 "tiktok": {"nano": 15.0, "micro": 75.0, "mega": 2500.0}},
                {"nano": 150.0, "micro": 400.0, "mega": 5000.0})
ARMS = {"celebrity": Arm.model_validate({"posts": [{"tier": "mega", "creators": 1, "days": [0]}]}),
        "micro": Arm.model_validate({"posts": [{"tier": "micro", "budget_of": "celebrity", "days": [0]}]}),
        "pinned": Arm.model_validate({"posts": [{"tier": "micro", "budget_of": "celebrity@instagram", "days": [0]}]}),
        "weekly": Arm.model_validate({"posts": [{"tier": "micro", "creators": 10,
                                                 "schedule": {"start": 0, "every": 7, "count": 12}}]})}


def test_budget_matching_on_each_platform_and_the_mix():
    """The swarm gets what the celebrity costs on each platform: Instagram $25,000 buys 35 micro partners at
    $700, TikTok $7,500 buys 15 at $475; the mix is both, group by group."""
    plan = Planner(ARMS, PRICES)
    assert plan.cost("celebrity@instagram") == 25000.0 and plan.cost("celebrity@tiktok") == 7500.0
    assert [g.creators for g in plan.groups("micro@instagram")] == [35]
    assert [g.creators for g in plan.groups("micro@tiktok")] == [15]
    mix = plan.groups("micro@mix")
    assert [(g.platform, g.creators) for g in mix] == [("instagram", 35), ("tiktok", 15)]
    assert plan.cost("celebrity@mix") == 32500.0
    for budget, spent, unit in plan.budgets("micro@mix"):
        assert 0 <= budget - spent < unit
    # pinned: the Instagram celebrity's $25,000 split equally between the mix's platforms
    assert [(g.platform, g.creators) for g in plan.groups("pinned@mix")] == [("instagram", 17), ("tiktok", 26)]
    # a partner posting 12 times costs 12 posts plus one partnership fee
    assert plan.cost("weekly@instagram") == 10 * (12 * 300.0 + 400.0)


def test_budget_of_a_card_prices_both_arms():
    from sim.campaign.rate_cards import RATE_CARDS

    card = Prices(RATE_CARDS["source_article"].as_dict(), PRICES.partnership)
    plan = Planner(ARMS, card)
    assert plan.cost("celebrity@instagram") == 505000.0
    assert [g.creators for g in plan.groups("micro@instagram")] == [93]  # 505,000 / 5,400


def test_a_budget_buying_nobody_and_a_loop_are_refused():
    arms = {**ARMS, "tiny": Arm.model_validate({"posts": [{"tier": "mega", "budget": 100, "days": [0]}]}),
            "a": Arm.model_validate({"posts": [{"tier": "micro", "budget_of": "b", "days": [0]}]}),
            "b": Arm.model_validate({"posts": [{"tier": "micro", "budget_of": "a", "days": [0]}]})}
    plan = Planner(arms, PRICES)
    with pytest.raises(ValueError, match="buys no mega partner"):
        plan.groups("tiny@instagram")
    with pytest.raises(ValueError, match="loop"):
        plan.groups("a@instagram")


def test_readings_are_platform_matched():
    c = ComparisonSpec(id="x", published="p", reading="r", quantity="adopters", arm="micro", versus="celebrity")
    assert c.readings() == [("instagram", "micro@instagram", "celebrity@instagram"),
                            ("tiktok", "micro@tiktok", "celebrity@tiktok"), ("mix", "micro@mix", "celebrity@mix")]
    e = ComparisonSpec(id="e", kind="effect", published="p", reading="r", quantity="adopters", arm="micro@tiktok",
                       versus="micro@instagram")
    assert e.readings() == [("tiktok_vs_instagram", "micro@tiktok", "micro@instagram")]


def test_features_are_arithmetic_only():
    cols = {"a": np.array([1.0, 2.0]), "b": np.array([4.0, 8.0])}
    assert np.allclose(feature("a * b / (a + 1) - 2", cols), [0.0, 10 / 3])
    for bad in ("__import__('os')", "a.real", "c * 2", "a ** 2", "a if b else 1"):
        with pytest.raises(ValueError):
            feature(bad, cols)


def test_assumption_space_is_complete_and_draws_the_calibrated_parameters_from_the_posterior():
    """At least 12 unidentified parameters, the issue's list among them; the calibrated ones (the
    fitted set's parameters, macro trust included) form one factor drawn from the posterior file, and
    peer reach, which the fit assumes, is an assumption; a celebrity as persuasive as a micro creator
    is inside the space."""
    full = space(ROOT / "calibration" / "assumptions.yaml")
    by = {d.name: d for d in full.dimensions}
    unfitted = [d for d in full.dimensions if not d.fitted]
    assert len(unfitted) >= 12
    for name in ("mega_trust", "micro_trust", "nano_trust", "mega_authenticity", "conviction_decay", "trust_growth",
                 "trust_ceiling", "fatigue", "instagram_discovery", "tiktok_discovery", "instagram_organic_reach",
                 "tiktok_organic_reach", "partnership_micro", "partnership_mega", "audience_size",
                 "price_instagram_mega", "price_instagram_micro",
                 # the mechanisms of issue 19 (docs/model.md §5, §7)
                 "alignment_weight", "action_on_engagement", "source_synergy", "source_cap", "repetition_peak",
                 "dispersion_trust", "dispersion_authenticity", "dispersion_engagement", "celebrity_press_reach"):
        assert name in by, name
    assert {"reshare", "peer_reach", "threshold_max", "macro_trust"} <= set(by)
    assert by["mega_trust"].high * by["mega_authenticity"].high >= by["micro_trust"].low * by["micro_authenticity"].high
    # the real celebrity the audit compares with: as persuasive as a micro creator is inside the space too
    assert (by["celebrity_trust"].high * by["celebrity_authenticity"].high
            >= by["micro_trust"].low * by["micro_authenticity"].high)
    fitted = yaml.safe_load((ROOT / "calibration" / "fitted" / "benchmarks.yaml").read_text())
    calibrated = {p["path"] for p in fitted["parameters"]}
    assert {d.path for d in full.dimensions if d.fitted} == calibrated
    assert not by["peer_reach"].fitted and "model.peer_reach" in fitted["assumed"]
    assert {d.factor for d in full.dimensions if d.fitted} == {CALIBRATED}
    assert full.factors[0] == CALIBRATED and len(full.factors) == len(full.dimensions) - len(calibrated) + 1
    draws = pd.read_parquet(ROOT / "calibration" / "fitted" / fitted["posterior"])
    assert [by["reshare"].low, by["reshare"].high] == pytest.approx([draws["model.reshare"].min(),
                                                                     draws["model.reshare"].max()])
    # log-scale dimensions map the unit interval geometrically
    price = by["price_instagram_mega"]
    assert price.value(0.5) == pytest.approx(math.sqrt(price.low * price.high))


def _posterior_space(tmp_path: Path, weights: np.ndarray | None, posterior: bool = True):
    """A fitted set of two parameters with a posterior of len(weights) draws, and an assumptions file."""
    rng = np.random.default_rng(11)
    n = 5 if weights is None else len(weights)
    a = rng.uniform(0.1, 0.3, n)
    draws = pd.DataFrame({"model.reshare": a, "model.threshold.max": 100 * a + rng.normal(0, 0.1, n),
                          "model.peer_reach": np.ones(n)})
    if weights is not None:
        draws["weight"] = weights
    draws.to_parquet(tmp_path / "f.posterior.parquet")
    fitted = yaml.safe_load((ROOT / "calibration" / "fitted" / "benchmarks.yaml").read_text())
    keep = [p for p in fitted["parameters"] if p["path"] in ("model.reshare", "model.threshold.max")]
    fitted.update(parameters=keep, posterior="f.posterior.parquet" if posterior else None)
    fitted.pop("comparison", None)
    (tmp_path / "f.yaml").write_text(yaml.safe_dump(fitted))
    assumptions = yaml.safe_load((ROOT / "calibration" / "assumptions.yaml").read_text())
    assumptions["fitted"] = {"set": str(tmp_path / "f.yaml"), "parameters": [
        {"path": "model.reshare", "name": "reshare"}, {"path": "model.threshold.max", "name": "threshold_max"}]}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(assumptions, sort_keys=False))
    return tmp_path / "a.yaml", draws


def test_calibrated_parameters_are_drawn_jointly_by_weight(tmp_path):
    """A factor's coordinate picks a whole posterior draw (every calibrated value from one row of the
    file, so their correlation is the posterior's) with probability its weight: over 20,000 uniform
    coordinates each row's frequency is within 4 binomial standard errors of its weight."""
    w = np.array([0.1, 0.4, 0.05, 0.25, 0.2])
    path, draws = _posterior_space(tmp_path, w)
    s = space(path)
    assert s.factors[0] == CALIBRATED and s.members(CALIBRATED) == ["reshare", "threshold_max"]
    k = len(s.factors)
    unit = np.random.default_rng(5).random((20000, k))
    values = s.values(unit)
    rows = {(round(a, 12), round(b, 12)): i for i, (a, b) in
            enumerate(zip(draws["model.reshare"], draws["model.threshold.max"], strict=True))}
    picked = np.array([rows[(round(a, 12), round(b, 12))] for a, b in values[:, :2]])
    freq = np.bincount(picked, minlength=5) / len(picked)
    assert np.all(np.abs(freq - w) < 4 * np.sqrt(w * (1 - w) / len(picked))), freq
    # the coordinates of the other factors still move only their own parameter
    names = s.names
    j = names.index("mega_trust")
    assert np.allclose(values[:, j], s.dimensions[j].value(unit[:, s.factors.index("mega_trust")]))


def test_without_a_posterior_the_fitted_intervals_are_sampled(tmp_path):
    path, _ = _posterior_space(tmp_path, None, posterior=False)
    s = space(path)
    by = {d.name: d for d in s.dimensions}
    fitted = yaml.safe_load((tmp_path / "f.yaml").read_text())
    interval = {p["path"]: p["interval"] for p in fitted["parameters"]}
    assert [by["reshare"].low, by["reshare"].high] == pytest.approx(interval["model.reshare"])
    assert by["reshare"].factor == "reshare" and CALIBRATED not in s.factors


def test_a_calibrated_parameter_varied_by_hand_is_refused(tmp_path):
    """The macro trust is calibrated: listed as an assumption (varied by hand) it is refused, located."""
    assumptions = yaml.safe_load((ROOT / "calibration" / "assumptions.yaml").read_text())
    assumptions["fitted"]["parameters"] = [f for f in assumptions["fitted"]["parameters"] if f["name"] != "macro_trust"]
    assumptions["assumptions"].append({"name": "macro_trust", "path": "world.tiers.macro.trust", "low": 0.15,
                                       "high": 0.7, "source": "varied by hand over a guess"})
    assumptions["fitted"]["set"] = str(ROOT / "calibration" / "fitted" / "benchmarks.yaml")
    bad = tmp_path / "a.yaml"
    bad.write_text(yaml.safe_dump(assumptions, sort_keys=False))
    with pytest.raises(AssumptionError) as info:
        space(bad)
    (line,) = info.value.problems
    assert line.startswith(f"{bad}:") and "world.tiers.macro.trust is calibrated" in line


def test_the_audit_varies_what_its_arms_read():
    spec = load_experiment(ROOT / "experiments" / "source_claims.yaml")
    dims, left = relevant(spec.parameters, space(spec.parameters.assumptions))
    assert "macro_trust" in left and "price_instagram_macro" in left and "interest_effect" in left
    assert len(dims.dimensions) >= 12 + 6


def test_groups_keep_to_a_saltelli_block():
    """Groups are runs of consecutive rows inside one block of D + 2, at most ceil((D + 2) / workers) long."""
    rows = np.arange(30, 80)
    got = groups(rows, 37, 2)
    assert np.array_equal(np.concatenate(got), rows)
    assert [(int(g[0]), int(g[-1])) for g in got] == [(30, 36), (37, 55), (56, 73), (74, 79)]
    assert [len(g) for g in groups(np.arange(0, 148, 37), 37, 2)] == [1, 1, 1, 1]  # a replicate world's A rows
    assert [len(g) for g in groups(np.arange(37), 37, 1)] == [37]


def test_a_point_through_the_evaluator_is_a_point_through_sim_run():
    """Each point's trials come from a PointEvaluator shared by its group: trial by trial the table
    sim.api.run gives for the point's scenario, the same partners; a block's A row and an AB row of
    a parameter the builder does not read (trust) share one world, an AB row of one it reads
    (interest_mean) builds its own."""
    from sim.api import run
    from sim.execution.evaluate import PointEvaluator
    from sim.experiments.claims import context, plan, sample, world_seed
    from sim.input.design import apply

    spec = load_experiment(ROOT / "experiments" / "source_claims.yaml")
    sizes = spec.quick.model_copy(update={"trials": 2, "audience": 3000, "communities": 15})
    ctx = context(spec, sizes)
    _, values = sample(ctx)
    factors = ctx.dims.factors  # row 1 + j of a block is AB_j: factor j's coordinate from B
    evaluator = PointEvaluator()
    seen = []
    for row in (0, 1 + factors.index("celebrity_trust"), 1 + factors.index("interest_mean")):
        over, posts, _ = plan(ctx, values[row])
        scenario, _ = apply(ctx.base, {**over, ("strategies",): posts[None], ("seed",): world_seed(spec, 0)})
        ev = evaluator.evaluate(scenario)
        res = run(scenario)
        ours = pd.concat([t.runs.to_pandas() for t in ev.tables.values()]).astype({"strategy": str})
        theirs = res.table.astype({"strategy": str})
        key = ["strategy", "trial"]
        pd.testing.assert_frame_equal(ours.sort_values(key).reset_index(drop=True),
                                      theirs[ours.columns].sort_values(key).reset_index(drop=True))
        pop = ev.point.world.population
        for name in ev.tables:
            roster = res.campaign.roster[res.campaign.roster.strategy == name]
            assert np.array_equal(pop.followers_real[ev.plan(name).partner_creator], roster.followers.to_numpy())
        seen.append(ev.point.world)
    assert seen[1] is seen[0] and seen[2] is not seen[0]


def test_bad_assumptions_file_names_file_line_key(tmp_path, capsys):
    from sim.cli import main

    text = (ROOT / "calibration" / "assumptions.yaml").read_text().replace("    low: 0.1\n    high: 0.8\n",
                                                                          "    low: 0.9\n    high: 0.8\n", 1)
    bad = tmp_path / "assumptions.yaml"
    bad.write_text(text)
    with pytest.raises(AssumptionError) as info:
        load_assumptions(bad)
    (line,) = info.value.problems
    assert line.startswith(f"{bad}:") and "assumptions.2" in line and "low < high" in line
    definition = yaml.safe_load((ROOT / "experiments" / "source_claims.yaml").read_text())
    definition["parameters"]["assumptions"] = str(bad)
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(definition))
    assert main([str(path), "--quick", "--out", str(tmp_path / "out")]) == 2
    assert "low < high" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_assumption_the_scenario_cannot_take_is_refused_before_anything_runs(tmp_path, capsys):
    """A path the schema lacks, or a range end it refuses, exits 2 naming the assumptions file's line."""
    from sim.cli import main

    text = (ROOT / "calibration" / "assumptions.yaml").read_text()
    text = text.replace("path: model.alignment_weight", "path: model.alignment_wieght")
    text = text.replace("    low: 1.5\n    high: 5.5\n", "    low: 0.5\n    high: 5.5\n")  # sources.cap >= 1
    bad = tmp_path / "assumptions.yaml"
    bad.write_text(text)
    definition = yaml.safe_load((ROOT / "experiments" / "source_claims.yaml").read_text())
    definition["parameters"]["assumptions"] = str(bad)
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(definition))
    assert main([str(path), "--quick", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    lines = text.splitlines()
    for key, what in (("model.alignment_wieght", "did you mean 'alignment_weight'"),
                      ("model.sources.cap", "greater than or equal to 1")):
        line = next(i + 1 for i, x in enumerate(lines) if f"path: {key}" in x)
        assert f"{bad}:{line}: assumptions." in err and what in err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- analyses against known truths

def _saltelli(n: int, d: int, seed: int = 3) -> np.ndarray:
    from SALib.sample import sobol

    return sobol.sample({"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0, 1]] * d}, n,
                        calc_second_order=False, scramble=True, seed=seed)


def test_blocks_are_salibs_a_and_b():
    """In SALib's layout each base row is A, AB_1..AB_D, B: AB_j takes column j from B, the rest from A."""
    n, d = 8, 3
    x = _saltelli(n, d)
    rows = blocks(n, d)
    a, b = x[rows[0::2]], x[rows[1::2]]
    for j in range(d):
        ab = x[np.arange(n) * (d + 2) + 1 + j]
        assert np.allclose(ab[:, j], b[:, j]) and np.allclose(np.delete(ab, j, 1), np.delete(a, j, 1))


def test_sobol_indices_of_an_additive_function():
    """With y = 4 x0 + 2 x1 + 0 x2 on the unit cube: S_i = a_i^2 / sum a^2 = 0.8, 0.2, 0 (first = total)."""
    x = _saltelli(1024, 3)
    y = 4 * x[:, 0] + 2 * x[:, 1]
    idx = sobol_indices(y, ["a", "b", "c"], seed=5).set_index("parameter")
    for name, truth in (("a", 0.8), ("b", 0.2), ("c", 0.0)):
        for k in ("S1", "ST"):
            assert abs(idx.loc[name, k] - truth) <= max(2 * idx.loc[name, f"{k}_conf"], 0.02), (name, k)
    assert (idx.loc["a", "ST"] - idx.loc["a", "ST_conf"]) > (idx.loc["b", "ST"] + idx.loc["b", "ST_conf"])


def test_prim_box_finds_a_planted_region():
    """The claim fails exactly where a < 0.3 and b > 0.6 (12% of the space): PRIM's box is that region, as
    widened by the rule (the most coverage at density >= 0.8: a box a < s, b > t has density
    0.3 / s x 0.4 / (1 - t), so s <= 0.375 and t >= 0.5)."""
    u = numpy_generator(11, Stream.CLAIMS, 910).random((2000, 3))
    x = pd.DataFrame(u, columns=["a", "b", "c"])
    holds = ~((x.a < 0.3) & (x.b > 0.6)).to_numpy()
    box = conditions(x, holds)
    assert box is not None and box.outcome == "fails"
    lim = {name: (lo, hi) for name, lo, hi, _ in box.limits}
    assert set(lim) == {"a", "b"}
    assert lim["a"][0] is None and 0.28 <= lim["a"][1] <= 0.39
    assert 0.48 <= lim["b"][0] <= 0.62 and lim["b"][1] is None
    assert box.density >= 0.8 and box.coverage > 0.9


def test_breakeven_recovers_a_threshold():
    """Holds where x + noise > 0.6: the break-even is 0.6, inside its interval."""
    g = numpy_generator(12, Stream.CLAIMS, 911)
    x = g.random(600)
    holds = x + g.normal(0, 0.05, 600) > 0.6
    est = breakeven(x, holds, seed=3)
    assert est is not None and est.low <= 0.6 <= est.high and abs(est.value - 0.6) < 0.03
    assert breakeven(x, np.ones(600, bool), seed=3) is None       # holds everywhere: no flip
    assert breakeven(x, g.random(600) < 0.5, seed=3) is None      # no trend


def test_verdict_rules():
    from sim.experiments.comparison import Estimate

    idx = pd.DataFrame({"parameter": ["p", "q", "r"], "ST": [0.1, 0.6, 0.3]})
    plain = ComparisonSpec(id="x", published="p", reading="r", quantity="adopters", arm="a", versus="b")
    assert _verdict(plain, Estimate(0.97, 0.93, 0.99), idx, None) == SUPPORTED
    assert _verdict(plain, Estimate(0.03, 0.01, 0.07), idx, None) == NOT_SUPPORTED
    assert _verdict(plain, Estimate(0.5, 0.4, 0.6), idx, None) == "depends on q and r"
    share = plain.model_copy(update={"target": "t", "compare": "share"})
    # the model's 100% is not the published 56% (50-62%): not supported as stated, though it always holds
    assert _verdict(share, Estimate(1.0, 0.97, 1.0), idx, (0.5, 0.62)).startswith(f"{NOT_SUPPORTED} as stated")
    assert _verdict(share, Estimate(0.55, 0.45, 0.65), idx, (0.5, 0.62)).startswith(f"{SUPPORTED} as stated")
    # a ratio claim with a published size: the direction's verdict, then the size's
    ratio = plain.model_copy(update={"target": "t", "compare": "ratio"})
    size = (1.5, 2.03)
    low = _verdict(ratio, Estimate(1.0, 0.94, 1.0), idx, size, Estimate(0.06, 0.03, 0.09))
    assert low.startswith(f"{SUPPORTED} in direction; {NOT_SUPPORTED} as stated: the ratio lies within the published")
    high = _verdict(ratio, Estimate(1.0, 0.94, 1.0), idx, size, Estimate(0.97, 0.92, 0.99))
    assert high.startswith(f"{SUPPORTED} in direction; {SUPPORTED} as stated")
    mid = _verdict(ratio, Estimate(0.5, 0.4, 0.6), idx, size, Estimate(0.4, 0.3, 0.5))
    assert mid.startswith("depends on q and r in direction; as stated, the ratio lies within")
    assert _verdict(ratio, Estimate(1.0, 0.94, 1.0), idx, None) == SUPPORTED
    grouped = pd.DataFrame({"parameter": [CALIBRATED, "q"], "ST": [0.7, 0.2]})
    assert _verdict(plain, Estimate(0.5, 0.4, 0.6), grouped, None) == "depends on the calibrated parameters and q"


def test_a_groups_break_even_is_its_most_telling_member(tmp_path):
    """Of a group, the member whose values are the most rank-correlated with the log advantage (here b:
    y = b + small noise; a is independent of y) stands for it; a factor of its own stands for itself."""
    from sim.experiments.claims import _representative

    path, _ = _posterior_space(tmp_path, np.full(5, 0.2))
    s = space(path)
    g = np.random.default_rng(2)
    x = pd.DataFrame({"reshare": g.random(200), "threshold_max": g.random(200), "mega_trust": g.random(200)})
    y = x.threshold_max.to_numpy() + 0.01 * g.normal(size=200)
    rows = np.arange(200)
    assert _representative(s, CALIBRATED, x, y, rows) == "threshold_max"
    assert _representative(s, "mega_trust", x, y, rows) == "mega_trust"


# --------------------------------------------------------------------------- a world where the claims are false

def test_audit_exits_0_where_the_claims_are_false(tmp_path, capsys):
    """Celebrities far more persuasive, conviction forgotten fast, no trust growth: the claims fail.

    Celebrities far more persuasive than micro creators, conviction forgotten fast and no trust
    growth: the audit reports each verdict and exits 0 (a verdict is a finding, never a check).
    (Without decay, conviction summed over an ambassador's 12 weekly posts can beat the burst at
    the calibrated posterior's higher threshold scales: then the claim is not false.)"""
    from sim.cli import main

    assumptions = yaml.safe_load((ROOT / "calibration" / "assumptions.yaml").read_text())
    # no action straight from an engagement (micro creators' higher engagement would act for them):
    # action_on_engagement is calibrated, so the posterior's draws are copied with it at 0
    fitted = tmp_path / "fitted"
    fitted.mkdir()
    (fitted / "benchmarks.yaml").write_text((ROOT / "calibration" / "fitted" / "benchmarks.yaml").read_text())
    post = pd.read_parquet(ROOT / "calibration" / "fitted" / "benchmarks.posterior.parquet")
    post["model.action_on_engagement"] = 0.0
    post.to_parquet(fitted / "benchmarks.posterior.parquet")
    assumptions["fitted"]["set"] = str(fitted / "benchmarks.yaml")
    ranges = {"celebrity_trust": (0.85, 0.95), "celebrity_authenticity": (0.95, 1.0), "micro_trust": (0.1, 0.15),
              "micro_authenticity": (0.3, 0.4), "conviction_decay": (0.29, 0.3), "trust_growth": (0.0, 0.001),
              "price_instagram_celebrity": (100000, 110000), "price_tiktok_celebrity": (100000, 110000),
              "partnership_celebrity": (10000, 11000), "partnership_micro": (1400, 1500),
              "celebrity_audience_share": (0.4, 0.5), "celebrity_engagement": (0.14, 0.15),
              # the ambassadors are the most aligned of a large pool: no match-up effect
              "alignment_weight": (0.0, 0.001),
              # little press, and those it reaches trust the celebrity as followers do
              "celebrity_press_reach": (0.01, 0.011), "celebrity_press_trust": (0.45, 0.5),
              # a small real audience, so that the tiny test world gives the celebrity's post a few adopters
              # in every trial (an arm with none is floored at half an adopter, which could favour the swarm)
              "audience_size": (5.0e6, 6.0e6)}
    for a in assumptions["assumptions"]:
        if a["name"] in ranges:
            a["low"], a["high"] = ranges[a["name"]]
            a.pop("hand_set", None)
    (tmp_path / "assumptions.yaml").write_text(yaml.safe_dump(assumptions, sort_keys=False))
    definition = yaml.safe_load((ROOT / "experiments" / "source_claims.yaml").read_text())
    p = definition["parameters"]
    p["assumptions"] = str(tmp_path / "assumptions.yaml")
    p["scenario"] = str(ROOT / p["scenario"])
    p["targets"] = str(ROOT / p["targets"])
    p["claims"] = [c for c in p["claims"] if c["id"] in ("roi_micro", "micro_more_genuine", "cumulative_trust")]
    for c in p["claims"]:
        c["platforms"] = ["instagram"]
    # 4 trials: with 2, a micro swarm's one or two simulated adopters decide a point by chance
    definition["quick"] = {"base_samples": 2, "trials": 4, "audience": 3000, "communities": 15, "workers": 1}
    path = tmp_path / "false_world.yaml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    out = tmp_path / "out"
    assert main([str(path), "--quick", "--out", str(out), "--quiet"]) == 0
    claims = pd.read_csv(out / "source_claims" / "data" / "claims.csv").set_index("claim")
    assert claims.loc["roi_micro", "share_holds"] == 0.0
    assert claims.loc["roi_micro", "verdict"].startswith(f"{NOT_SUPPORTED} as stated")
    # 4 independent points cannot bound a share below 10%, so these read "depends on ..." rather than
    # "not supported"; what matters is that they hold nowhere and nothing failed
    assert claims.loc["micro_more_genuine", "share_holds"] == 0.0
    assert claims.loc["micro_more_genuine", "verdict"] != SUPPORTED
    # the ambassadors against the burst rest on a few simulated adopters in this 3,000-account world
    # and sit near parity since the refit (median ratio 0.95-1.13 over the four points, whatever the
    # decay): the test asks only that it is reported, whichever way it goes
    assert isinstance(claims.loc["cumulative_trust", "verdict"], str)
    table = pd.read_csv(out / "source_claims" / "comparison.csv")
    assert set(table[table.kind == "verification"].result) == {"pass"}
    assert (table.kind == "finding").sum() == 3
    for name in ("sensitivity.csv", "breakeven.csv", "conditions.md"):
        assert (out / "source_claims" / "data" / name).is_file()
    sens = pd.read_csv(out / "source_claims" / "data" / "sensitivity.csv")
    assert list(sens.columns[:7]) == ["claim", "platform", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    shutil.rmtree(out)


def test_a_hybrid_splits_the_celebritys_budget():
    """Half the Instagram celebrity's $25,000 on micro buys 17 at $700, half on nano 60 at $205; shares and
    dilution reach the scenario's post groups."""
    arms = {**ARMS, "hybrid": Arm.model_validate({"posts": [
        {"tier": "micro", "budget_of": "celebrity", "share": 0.5, "days": [0], "variant_distance": 0.3},
        {"tier": "nano", "budget_of": "celebrity", "share": 0.5, "days": [0]}]})}
    plan = Planner(arms, PRICES)
    groups = plan.groups("hybrid@instagram")
    assert [(g.tier, g.creators) for g in groups] == [("micro", 17), ("nano", 60)]   # 12,500 / 700, 12,500 / 205
    assert groups[0].post_group()["variant_distance"] == 0.3
    for budget, spent, unit in plan.budgets("hybrid@instagram"):
        assert budget == 12500.0 and 0 <= budget - spent < unit
    with pytest.raises(ValueError, match="share"):
        Arm.model_validate({"posts": [{"tier": "micro", "creators": 3, "share": 0.5, "days": [0]}]})


# --------------------------------------------------------------------------- issue 21: lists, variants, margins

CELEB = Prices({"instagram": {"nano": 55.0, "micro": 300.0, "celebrity": 500000.0},
                "tiktok": {"nano": 15.0, "micro": 75.0, "celebrity": 500000.0}},
               {"nano": 150.0, "micro": 400.0, "celebrity": 30000.0})


def _definition_arms():
    return load_experiment(ROOT / "experiments" / "source_claims.yaml").parameters.arms


def test_the_new_claims_compare_equal_budgets():
    """At the base prices the hybrid (one celebrity + micro for the same money) costs two celebrity posts to
    within one micro partner, and so does the all-micro arm; alignment vs followers hire the same number of
    partners for the same money; the half swarm spends half; the diversified and single-platform arms
    spend the same $50,000."""
    plan = Planner(_definition_arms(), CELEB)
    for k in ("instagram", "tiktok", "mix"):
        two = plan.cost(f"two_celebrities@{k}")
        assert two == 2 * plan.cost(f"celebrity@{k}")
        micro_unit = {"instagram": 700.0, "tiktok": 475.0, "mix": 700.0}[k]
        for arm in ("hybrid", "micro_double"):
            assert 0 <= two - plan.cost(f"{arm}@{k}") < micro_unit * (2 if k == "mix" else 1), (arm, k)
        assert [g.creators for g in plan.groups(f"aligned@{k}")] == [g.creators for g in plan.groups(f"followed@{k}")]
        assert plan.cost(f"aligned@{k}") == plan.cost(f"followed@{k}")
        half, whole = plan.cost(f"micro_half@{k}"), plan.cost(f"micro_swarm@{k}")
        assert abs(whole - 2 * half) < 2 * micro_unit * (2 if k == "mix" else 1)
    # one partner posting 8 times costs 8 posts + one fee: $2,800 on Instagram, $1,000 on TikTok
    assert plan.cost("steady@instagram") == 17 * 2800.0 and plan.cost("steady@tiktok") == 50 * 1000.0
    assert [(g.platform, g.creators) for g in plan.groups("steady@mix")] == [("instagram", 8), ("tiktok", 25)]
    # the participation arms are the swarm and the celebrity, in their own scenario variants
    assert plan.groups("micro_swarm_p@tiktok") == plan.groups("micro_swarm@tiktok")


def test_budget_gap_allows_one_partner_per_budgeted_group():
    from sim.experiments.claims import budget_gap

    a = {"cost": 1000.0, "budgets": [(1000.0, 1000.0, 300.0)]}
    b = {"cost": 1250.0, "budgets": []}
    assert budget_gap(a, b) == -50.0 and budget_gap(b, {"cost": 0.0, "budgets": []}) == -math.inf
    assert budget_gap({"cost": 1400.0, "budgets": [(1.0, 1.0, 100.0)]}, b) == 50.0  # unmatched: > 0


def test_lists_pins_and_margins_are_platform_matched():
    """A list reads every member on the reading's platform; a pinned arm keeps its platform against each
    single platform; the marginal arm is read on the arm's platform; the audit's own count of unmatched
    readings is 0 for the definition."""
    from sim.experiments.claims import _unmatched, context

    c = ComparisonSpec(id="h", published="p", reading="r", quantity="adopters", arm="hybrid",
                       versus=["two_celebrities", "micro_double"])
    assert c.readings()[1] == ("tiktok", "hybrid@tiktok", ("two_celebrities@tiktok", "micro_double@tiktok"))
    d = ComparisonSpec(id="d", published="p", reading="r", quantity="adopters", arm="steady@mix", versus="steady",
                       platforms=["instagram", "tiktok"])
    assert d.readings() == [("instagram", "steady@mix", "steady@instagram"), ("tiktok", "steady@mix", "steady@tiktok")]
    m = ComparisonSpec(id="m", published="p", reading="r", quantity="cost_per_adopter", arm="micro_swarm",
                       marginal_over="micro_half", versus="celebrity")
    assert m.marginal_instance("micro_swarm@mix") == "micro_half@mix"
    with pytest.raises(ValueError, match="marginal_over"):
        ComparisonSpec(id="m", published="p", reading="r", quantity="reach", arm="a", marginal_over="b", versus="c")
    spec = load_experiment(ROOT / "experiments" / "source_claims.yaml")
    ctx = context(spec, spec.quick)
    assert _unmatched(ctx) == 0
    claims = [c for c in spec.parameters.claims if c.kind == "claim"]
    assert len(claims) >= 12
    assert {"alignment_over_followers", "diversification_resilience", "dilution", "hybrid", "overlap_at_scale",
            "management_overhead", "participation"} <= {c.id for c in claims}
    # every comparison with a celebrity uses the real celebrity tier, not mega
    arms = spec.parameters.arms
    assert {g.tier for g in arms["celebrity"].posts} == {"celebrity"}
    assert not any(g.tier == "mega" for a in arms.values() for g in a.posts)


def test_worst_and_mean_over_variants_and_the_marginal_arm():
    """Aggregation over scenario variants and the marginal quantity, against hand arithmetic."""
    from sim.experiments.claims import arm_quantity

    k1, k2 = ("a@mix", None, "v1"), ("a@mix", None, "v2")
    b1, b2 = ("b@mix", None, "v1"), ("b@mix", None, "v2")
    q = {k1: {"adopters": 10.0, "cost_per_adopter": 5.0}, k2: {"adopters": 4.0, "cost_per_adopter": 12.5}}
    raw = {k1: {"cost": 50.0, "adopters": 10.0}, k2: {"cost": 50.0, "adopters": 4.0},
           b1: {"cost": 20.0, "adopters": 7.0}, b2: {"cost": 20.0, "adopters": 5.0}}
    assert arm_quantity(q, raw, [k1, k2], "adopters", "worst", None, 0.1) == 4.0
    assert arm_quantity(q, raw, [k1, k2], "adopters", "mean", None, 0.1) == 7.0
    assert arm_quantity(q, raw, [k1, k2], "cost_per_adopter", "worst", None, 0.1) == 12.5
    # the second arm's extra $30 buys 3 more adopters in v1 (10 per adopter) and none in v2 (floored at 0.1)
    assert arm_quantity(q, raw, [k1], "cost_per_adopter", "worst", "b@mix", 0.1) == 10.0
    assert arm_quantity(q, raw, [k2], "cost_per_adopter", "worst", "b@mix", 0.1) == pytest.approx(300.0)
    assert arm_quantity(q, raw, [k1, k2], "adopters", "worst", "b@mix", 0.1) == 0.1


def test_variants_write_shocks_and_per_tier_resharing_and_audit_parameters_nowhere_else():
    """A variant's expression reads the point's parameters (min() keeps a propensity at most 1); the
    platform shock lands on its platform from day 28; ``audit.*`` parameters are written into no scenario."""
    from sim.experiments.claims import context, overrides_at, sample, scenario_at, variant_values

    spec = load_experiment(ROOT / "experiments" / "source_claims.yaml")
    p = spec.parameters
    assert variant_values(p, "participation_micro", {"reshare": 0.2, "participation_micro": 2.0}) == {
        ("model", "reshare"): pytest.approx(0.4)}
    assert variant_values(p, "participation_micro", {"reshare": 0.5, "participation_micro": 4.0}) == {
        ("model", "reshare"): 1.0}
    assert variant_values(p, "shock_tiktok", {"platform_shock": 0.3}) == {
        ("world", "platforms", "tiktok", "shock"): {"day": 28, "reach_factor": pytest.approx(0.3)}}
    ctx = context(spec, spec.quick)
    _, values = sample(ctx)
    over = overrides_at(ctx, values[0])
    assert not any(k[0] == "audit" for k in over)
    assert {"platform_shock", "participation_micro", "participation_celebrity"} <= set(ctx.dims.names)
    posts = [{"name": "x", "posts": [{"tier": "micro", "platform": "tiktok", "creators": 2, "days": [0]}]}]
    shocked = scenario_at(ctx, values[0], over, "shock_tiktok", posts, 1)
    col = dict(zip(ctx.dims.names, values[0], strict=True))
    assert shocked.world.platforms["tiktok"].shock.day == 28
    assert shocked.world.platforms["tiktok"].shock.reach_factor == pytest.approx(col["platform_shock"])
    assert shocked.world.platforms["instagram"].shock is None
    plain = scenario_at(ctx, values[0], over, None, posts, 1)
    assert plain.world.platforms["tiktok"].shock is None and plain.model.reshare == pytest.approx(col["reshare"])
    resharing = scenario_at(ctx, values[0], over, "participation_celebrity", posts, 1)
    assert resharing.model.reshare == pytest.approx(min(1.0, col["reshare"] * col["participation_celebrity"]))


def test_the_summary_is_written_from_the_tables_and_kept_current(tmp_path):
    """README's summary and calibration.md §7's table are the writer's output over the published tables
    (no hand-typed number can drift from them); a row of the current comparison is quoted, a row of an
    earlier comparison under the same id is not."""
    from sim.experiments import claims as cs
    from sim.experiments.claims import fingerprint

    spec = load_experiment(ROOT / "experiments" / "source_claims.yaml")
    for path, text in cs.rewritten(spec).items():
        assert path.read_text() == text, f"{path.name} is stale: run python -m sim.experiments.claims_summary"
    c = next(c for c in spec.parameters.claims if c.id == "dilution")
    row = {"claim": "dilution", "kind": "claim", "platform": "mix", "share_holds": 0.625, "share_low": 0.5,
           "share_high": 0.73, "median_ratio": 1.4, "verdict": "depends on dilution and celebrity_trust",
           "conditions": "holds when dilution < 0.41", "share_mix": 0.625, "share_instagram": 0.5,
           "share_tiktok": 0.7, "share_of_advantage": float("nan"), "definition": fingerprint(spec.parameters, c)}
    old = {**row, "claim": "hybrid", "definition": "0123456789ab"}
    pd.DataFrame([row, old]).to_csv(tmp_path / "claims.csv", index=False)
    pd.DataFrame([{"claim": "dilution", "platform": "mix", "parameter": "dilution", "value": 0.41, "low": 0.35,
                   "high": 0.47}]).to_csv(tmp_path / "breakeven.csv", index=False)
    text = cs.summary_text(spec, tmp_path)
    line = next(x for x in text.splitlines() if "`dilution`" in x)
    assert "holds in **62%** (50%-73%) of the space on mix (instagram 50%, tiktok 70%)" in line
    assert "Holds when dilution < 0.41" in line and "dilution = 0.41 [0.35, 0.47]" in line
    assert "Not yet run" in next(x for x in text.splitlines() if "`hybrid`" in x)
    assert len([x for x in text.splitlines() if x.startswith("- **")]) == sum(
        c.kind == "claim" for c in spec.parameters.claims)


def test_a_full_run_rewrites_the_summary_of_the_checkout_it_publishes_to(tmp_path):
    """What Report.write calls after publishing: the README block and §7's table of that checkout, from the
    tables just published (a checkout without README or markers is left alone)."""
    from sim.experiments.claims import _publish_summary, fingerprint

    spec = load_experiment(ROOT / "experiments" / "source_claims.yaml")
    root = tmp_path / "checkout"
    docs = root / "docs" / "source_claims"
    docs.mkdir(parents=True)
    shutil.copy(ROOT / "README.md", root / "README.md")
    shutil.copy(ROOT / "docs" / "calibration.md", root / "docs" / "calibration.md")
    c = next(c for c in spec.parameters.claims if c.id == "hybrid")
    pd.DataFrame([{"claim": "hybrid", "kind": "claim", "platform": "mix", "share_holds": 0.25, "share_low": 0.1,
                   "share_high": 0.5, "verdict": "depends on x and y", "conditions": "holds when x > 1",
                   "definition": fingerprint(spec.parameters, c)}]).to_csv(docs / "claims.csv", index=False)
    pd.DataFrame([{"claim": "hybrid", "platform": "mix", "share_holds": 0.25, "share_low": 0.1, "share_high": 0.5,
                   "median_ratio": 0.8, "median_low": 0.7, "median_high": 0.9, "verdict": "depends on x and y",
                   "conditions": "holds when x > 1", "top_parameters": "x (0.50)"}]).to_csv(docs / "platforms.csv",
                                                                                          index=False)
    _publish_summary(spec, docs)
    assert "`hybrid`** (" in (root / "README.md").read_text()
    assert "holds in **25%** (10%-50%) of the space on mix" in (root / "README.md").read_text()
    assert "| `hybrid` | mix | 25% (10%-50%) | 0.8 [0.7, 0.9] |" in (root / "docs" / "calibration.md").read_text()
    bare = tmp_path / "bare" / "docs" / "source_claims"
    bare.mkdir(parents=True)
    _publish_summary(spec, bare)  # no README: nothing to do, no error


def test_headline_reading_is_the_mix_or_the_hardest_alternative():
    """Where both arms run on each platform the headline is the mix; where the arm is pinned (a
    diversified campaign) and only the alternative's platform varies, it is the hardest alternative:
    diversifying must beat whichever single platform a planner would otherwise pick."""
    from types import SimpleNamespace

    from sim.experiments.claims import _headline
    from sim.experiments.comparison import Estimate

    plain = ComparisonSpec(id="x", published="p", reading="r", quantity="adopters", arm="a", versus="b")
    pinned = plain.model_copy(update={"arm": "a@mix"})

    def reading(c, platform, share):
        return SimpleNamespace(claim=c, platform=platform, share=Estimate(share, share, share))

    for c, want in ((plain, "mix"), (pinned, "tiktok")):
        rs = [reading(c, "instagram", 1.0), reading(c, "tiktok", 0.0), reading(c, "mix", 0.5)]
        assert _headline(c, rs).platform == want
