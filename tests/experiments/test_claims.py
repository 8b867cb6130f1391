"""The claims audit's verdict rule on synthetic populations, and its campaigns' budget matching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim import prepare
from sim.base.rng import Stream, numpy_generator
from sim.campaign.rate_cards import RATE_CARDS
from sim.experiments import load_experiment
from sim.experiments.claims import (
    DEPENDS,
    NOT_SUPPORTED,
    SUPPORTED,
    UNDETERMINED,
    median_interval,
    scenario_for,
    verdict,
)

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["a", "b", "c"]


def _population(n: int, seed: int) -> np.ndarray:
    return numpy_generator(seed, Stream.CLAIMS, 900).random((n, len(LABELS)))


@pytest.mark.parametrize("share, kind", [(0.9, SUPPORTED), (0.1, NOT_SUPPORTED)])
def test_a_clear_majority_decides(share, kind):
    """Wins in 90% (10%) of 128 campaigns, unrelated to the parameters: supported (not supported)."""
    x = _population(128, 1)
    u = numpy_generator(2, Stream.CLAIMS, 901).random(128)
    holds = u < share
    effect = np.where(holds, 1.0, -1.0) * (0.5 + u)
    v = verdict(holds, effect, x, LABELS)
    assert v.kind == kind, v
    assert v.share.low <= holds.mean() <= v.share.high


@pytest.mark.parametrize("column", [0, 2])
def test_a_split_driven_by_one_parameter_names_it(column):
    """Wins exactly where one parameter is below 1/2 (a 50/50 population): depends on that parameter."""
    x = _population(128, 3)
    noise = numpy_generator(4, Stream.CLAIMS, 902).normal(0, 0.05, 128)
    effect = 0.5 - x[:, column] + noise
    v = verdict(effect > 0, effect, x, LABELS)
    assert v.kind == DEPENDS and v.parameter == LABELS[column], v
    assert v.rho < 0 and v.p < 0.05
    assert v.halves[0].low > 0.5 > v.halves[1].high


def test_a_coin_toss_is_undetermined():
    """Wins at random in half the campaigns, no parameter behind it: the check must fail (undetermined)."""
    x = _population(128, 5)
    effect = numpy_generator(6, Stream.CLAIMS, 903).normal(0, 1, 128)
    v = verdict(effect > 0, effect, x, LABELS)
    assert v.kind == UNDETERMINED and not v.decided, v


def test_median_interval_is_order_statistics():
    """The median's 95% interval of 0..99 from the binomial(100, 1/2): ranks 40 and 60 (scipy's quantile test)."""
    e = median_interval(np.arange(100.0))
    assert e.value == 49.5 and (e.low, e.high) == (39.0, 60.0)


def test_strategies_are_budget_matched_to_the_celebrity_on_each_card():
    """Under each card the celebrity costs the card's mega price (= the budget) and each swarm spends the
    budget to within one partner's price."""
    spec = load_experiment(ROOT / "experiments" / "source_claims.yaml")
    for card in spec.parameters.cards:
        scenario = scenario_for(spec, spec.quick, card, 0)
        assert scenario.sweep.samples == spec.quick.points
        one = scenario.model_copy(update={"sweep": None})
        prep = prepare(one)
        prices = RATE_CARDS[card.name].prices["instagram"]
        cost = {s.name: plan.cost for s, plan in zip(one.strategy_list, prep.plans, strict=True)}
        assert cost["celebrity"] == prices["mega"] == card.budget
        for name, tier in (("micro_swarm", "micro"), ("nano_swarm", "nano")):
            if name in cost:
                assert card.budget - prices[tier] < cost[name] <= card.budget, (card.name, name, cost[name])
        assert set(cost) == set(card.strategies)
