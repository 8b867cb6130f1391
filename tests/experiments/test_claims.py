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
    for row in (0, 1 + factors.index("mega_trust"), 1 + factors.index("interest_mean")):
        over, posts, _ = plan(ctx, values[row])
        scenario, _ = apply(ctx.base, {**over, ("strategies",): posts, ("seed",): world_seed(spec, 0)})
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
    ranges = {"mega_trust": (0.85, 0.95), "mega_authenticity": (0.95, 1.0), "micro_trust": (0.1, 0.15),
              "micro_authenticity": (0.3, 0.4), "conviction_decay": (0.29, 0.3), "trust_growth": (0.0, 0.001),
              "price_instagram_mega": (10000, 11000), "price_tiktok_mega": (2500, 2600),
              "partnership_mega": (1000, 1100), "partnership_micro": (1400, 1500),
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
    for claim in ("micro_more_genuine", "cumulative_trust"):
        assert claims.loc[claim, "share_holds"] == 0.0 and claims.loc[claim, "verdict"] != SUPPORTED
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
