"""Budget feasibility without building a world: which budgets buy nobody, or more creators than exist.

A budget group hires ``floor(budget / price of one partner)`` partners (docs/model.md §7.10); a
positive budget that buys nobody is an error, and so is one that buys more creators than the
world's tier has. Both follow from prices and counts alone, so ``--check`` finds them at every
sweep point before a world is built (the run finds the same problems again, with the same words,
when it builds each strategy's partners).
"""

from __future__ import annotations

import math

import numpy as np

from sim.campaign.model import partner_price, partners_wanted
from sim.input.design import design
from sim.input.scenario import Scenario


def _cheapest(scenario: Scenario, group) -> float | None:
    """A roster world's cheapest partner of the group's tier and platform (None: no roster)."""
    roster = scenario.world.roster()
    if roster is None:
        return None
    mask = (np.asarray(roster.tier) == group.tier) & (np.asarray(roster.platform) == group.platform)
    if not mask.any():
        return np.inf
    posts = len(group.post_days())
    price = roster.price_per_post[mask] * (posts if group.paid else 0)
    return float(price.min() + scenario.partnership_cost.get(group.tier, 0.0))


def _tier_count(scenario: Scenario, tier: str) -> int:
    return int(scenario.world.tier_counts()[tier])


def cells_of(scenario: Scenario) -> list[str]:
    """The ``tier.platform`` cells the optimizer may spend on: the ``optimize`` block's, or every tier on
    every platform it has creators on."""
    spec = scenario.optimize
    if spec is not None and spec.cells is not None:
        return list(spec.cells)
    world = scenario.world
    roster = world.roster()
    if roster is not None:
        found = dict.fromkeys(f"{t}.{p}" for t, p in zip(roster.tier, roster.platform, strict=True))
        return [f"{t}.{p}" for t in world.tiers for p in world.platforms if f"{t}.{p}" in found]
    return [f"{t}.{p}" for t, spec_ in world.tiers.items() for p, share in spec_.platforms.items() if share > 0]


def cell_price(scenario: Scenario, cell: str, days: list[int]) -> float:
    """The cheapest partner of a cell posting on ``days`` (USD): posts at the rate card or the roster's
    own prices, plus the tier's partnership cost (inf: no creator there)."""
    tier, platform = cell.split(".")
    fee = float(scenario.partnership_cost.get(tier, 0.0))
    roster = scenario.world.roster()
    if roster is not None:
        mask = (np.asarray(roster.tier) == tier) & (np.asarray(roster.platform) == platform)
        return float(roster.price_per_post[mask].min() * len(days) + fee) if mask.any() else math.inf
    card = scenario.rate_card or {}
    if tier not in card.get(platform, {}):
        return math.inf
    return float(card[platform][tier]) * len(days) + fee


def budget_problems(scenario: Scenario) -> list[str]:
    """``file:line: key: message`` for every budget group of a campaign scenario that buys nobody, or
    more creators than the world's tier holds (all platforms together: an upper bound)."""
    problems = []
    roster = scenario.world.creators is not None
    for i, strategy in enumerate(scenario.strategy_list):
        for j, group in enumerate(strategy.posts):
            if group.budget is None or group.budget == 0:
                continue
            key = scenario.group_key(i, j)
            if key[0] == "strategies":
                key = (*key, "budget")
            price = None if roster else partner_price(group, scenario.rate_card, scenario.partnership_cost)
            cheapest = _cheapest(scenario, group)
            try:
                if price is not None:
                    partners_wanted(group, price, _tier_count(scenario, group.tier), strategy.name)
                elif cheapest is None or not group.budget >= cheapest:
                    raise ValueError(f"strategy {strategy.name}: a budget of ${group.budget:,.0f} buys no partner: "
                                     f"the cheapest {group.tier} creator on {group.platform} in the roster costs "
                                     + ("nothing: there is none" if cheapest == np.inf else f"${cheapest:,.0f}"))
            except ValueError as exc:
                problems.append(scenario.locate(key, str(exc)))
    opt = scenario.optimize
    if opt is not None:
        budget = opt.budget or scenario.budget
        cheapest = min((cell_price(scenario, cell, days) for cell in cells_of(scenario)
                        for days in schedules_days(scenario)), default=np.inf)
        if not budget >= cheapest:
            problems.append(scenario.locate(("optimize",), f"a budget of ${budget:,.0f} buys no partner in any cell "
                                            f"(the cheapest costs ${cheapest:,.0f})"))
    return problems


def schedules_days(scenario: Scenario) -> list[list[int]]:
    """Posting days of every schedule the optimizer may choose."""
    schedules = scenario.optimize.schedules or scenario.strategy_grid.schedules
    return [s.days if s.days is not None else s.schedule.days() for s in schedules.values()]


def design_problems(scenario: Scenario, most: int = 20) -> list[str]:
    """:func:`budget_problems` at every point of the scenario's sweep (prices and fees may be swept): a
    problem found at every point once, others with the point they occur at; at most ``most`` lines."""
    des = design(scenario)
    found = [budget_problems(point.scenario) for point in des.points]
    everywhere = [line for line in found[0] if all(line in f for f in found[1:])]
    out = list(everywhere)
    for point, lines in zip(des.points, found, strict=True):
        words = " (at sweep point " + str(point.index) + ": " + ", ".join(
            f"{k} = {v}" for k, v in point.values) + ")"
        out += [line + words for line in lines if line not in everywhere]
    return out[:most]
