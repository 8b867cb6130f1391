"""E9's statistics: the paired ratio of costs per adopter and its interval, against known truths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.headline import headline_table, ratio_of_costs


def test_ratio_interval_covers_the_true_ratio_at_its_level():
    """Paired trials with a shared factor (common random numbers): the 95% delta-method interval of
    (cost_a / mean a) / (cost_b / mean b) covers the true ratio in 95% of replications, within
    4 binomial standard errors."""
    rng = np.random.default_rng(20261203)
    cost_a, cost_b, mu_a, mu_b = 1000.0, 5000.0, 40.0, 25.0
    truth = (cost_a / mu_a) / (cost_b / mu_b)
    reps, n, covered = 2000, 40, 0
    for _ in range(reps):
        shared = rng.gamma(4.0, 0.25, n)          # mean 1: a trial's luck, common to both strategies
        a = rng.poisson(mu_a * shared)
        b = rng.poisson(mu_b * shared)
        est = ratio_of_costs(cost_a, a, cost_b, b)
        covered += est.low <= truth <= est.high
    se = np.sqrt(0.95 * 0.05 / reps)
    assert abs(covered / reps - 0.95) < 4 * se, covered / reps


def test_pairing_tightens_the_interval():
    """The same draws, the trial order of one strategy shuffled: independent trials give a wider interval."""
    rng = np.random.default_rng(7)
    shared = rng.gamma(2.0, 0.5, 200)
    a, b = rng.poisson(30 * shared), rng.poisson(20 * shared)
    paired = ratio_of_costs(1.0, a, 1.0, b)
    unpaired = ratio_of_costs(1.0, a, 1.0, rng.permutation(b))
    assert paired.value == pytest.approx(unpaired.value)
    assert (paired.high - paired.low) < 0.5 * (unpaired.high - unpaired.low)


def test_headline_table_costs_per_adopter_are_ratios_of_means():
    trials = pd.DataFrame({
        "case": "industry", "rate_card": "industry_midpoint", "budget": 1000.0,
        "strategy": ["celebrity.burst.1k"] * 3 + ["micro.burst.1k"] * 3,
        "trial": [0, 1, 2] * 2, "cost": [1000.0] * 3 + [900.0] * 3,
        "adopted": [10, 20, 30, 40, 50, 60], "engagements": [100, 100, 100, 300, 300, 300],
        "reach": [1000] * 6})
    t = headline_table(trials).set_index("mix")
    assert t.loc["celebrity", "cost_per_adopter"] == pytest.approx(1000 / 20)
    assert t.loc["micro", "cost_per_adopter"] == pytest.approx(900 / 50)
    assert t.loc["micro", "ratio_to_celebrity"] == pytest.approx((900 / 50) / (1000 / 20))
    assert t.loc["celebrity", "ratio_to_celebrity"] == pytest.approx(1.0)
    assert t.loc["micro", "cost_per_engagement"] == pytest.approx(3.0)
    assert t.loc["micro", "cost_per_adopter_low"] < 18 < t.loc["micro", "cost_per_adopter_high"]


def test_e9_exits_0_where_the_celebrity_wins(tmp_path):
    """A real celebrity as trusted and authentic as a nano creator (0.6, 0.95) and priced like an entry-level
    mega creator ($20,000 a post on either platform, $5,000 partnership), all its followers in the audience
    and covered widely by the press, and engagement never the action itself (the calibrated
    action_on_engagement is about 0.08): on TikTok, both arms there,
    the nano swarm is not shown cheaper per adopter than the celebrity, which E9 reports as a finding; the run still
    exits 0."""
    from pathlib import Path

    import yaml

    from sim.cli import main

    root = Path(__file__).resolve().parents[2]
    definition = yaml.safe_load((root / "experiments" / "e9_headline.yaml").read_text())
    definition["parameters"]["scenario"] = str(root / "scenarios" / "headline.yaml")
    definition["parameters"]["cases"] = [{"name": "equal_persuasion", "rate_card": "industry_midpoint",
                                          "budgets": [50000],
                                          "set": {"world.tiers.celebrity.trust": 0.6,
                                                  "world.tiers.celebrity.authenticity": 0.95,
                                                  "rate_card.instagram.celebrity": 20000,
                                                  "rate_card.tiktok.celebrity": 20000,
                                                  "partnership_cost.celebrity": 5000,
                                                  # its followers all in this audience, wide press coverage
                                                  "world.tiers.celebrity.audience_share": 1.0,
                                                  "world.tiers.celebrity.press.reach": 0.3,
                                                  "world.tiers.celebrity.press.trust": 0.5,
                                                  # no action straight from an engagement (the nano
                                                  # swarm's higher engagement would act for it)
                                                  "model.action_on_engagement": 0.0}}]
    definition["quick"] = {"trials": 8, "audience": 8000}
    path = tmp_path / "e9_false.yaml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    out = tmp_path / "out"
    assert main([str(path), "--quick", "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out / "e9_headline" / "comparison.csv").set_index("check")
    assert set(table[table.kind == "verification"].result) == {"pass"}
    findings = table[table.kind == "finding"]
    # the swarm's advantage is not established (8 trials at the refitted point estimate may leave the
    # ratio's interval across 1): the finding is reported either way and the run exits 0
    assert findings.loc["nano_vs_celebrity_tiktok_equal_persuasion_50k", "result"] in {"does not hold", "undetermined"}
    assert "platform_effect_nano_equal_persuasion_50k" in findings.index
