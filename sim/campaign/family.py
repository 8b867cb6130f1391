"""The campaign model as a family (:class:`sim.families.protocol.ModelFamily`).

Creators' posts reach their audience and its peers, who engage, grow trust, accumulate
persuasion and adopt: blocks in :mod:`sim.campaign.spec`, world arrays and schedules from
:mod:`sim.campaign.model`, trials on an engine of :data:`ENGINES`, tables in real accounts and
USD from :mod:`sim.campaign.metrics`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.base import fmt
from sim.base.rng import root_key
from sim.campaign.feasibility import design_problems
from sim.campaign.metrics import ROW_BYTES, CampaignTables, campaign_tables, partner_table
from sim.campaign.model import (
    CampaignError,
    CampaignOutcome,
    CampaignWorldArrays,
    CascadeTree,
    Prices,
    Schedule,
    build_schedule,
    compile_world,
    max_daily_posts,
)
from sim.campaign.spec import CAMPAIGN_OUTCOMES, CampaignModel
from sim.families.chunks import ChunkTables
from sim.families.protocol import Column, ModelFamily, ModuleEngine, Prepared
from sim.input.scenario import Scenario, ScenarioError
from sim.world import footprint
from sim.world.build import World
from sim.world.facts import WorldFacts
from sim.world.levels import creator_levels
from sim.world.population import Population


class CampaignEngine(ModuleEngine):
    """A campaign engine: a module with ``simulate(pop, arrays, schedule, root, trials)`` returning a
    :class:`~sim.campaign.model.CampaignOutcome`, and ``cascade_tree(pop, arrays, schedule, root,
    trial)``."""

    def simulate(self, point: Prepared, plan: Schedule, trials: np.ndarray) -> CampaignOutcome:
        """Run trials ``trials`` of the strategy with this schedule."""
        return self.module.simulate(point.world.population, point.model, plan, root_key(point.scenario.seed), trials)

    def cascade_tree(self, point: Prepared, plan: Schedule, trial: int) -> CascadeTree:
        """Who activated whom, when and through which post, in one trial."""
        return self.module.cascade_tree(point.world.population, point.model, plan, root_key(point.scenario.seed),
                                        trial)


class CudaCampaignEngine(CampaignEngine):
    """The campaign model on a CUDA GPU (:mod:`sim.campaign.cuda_kernel`): the numba engine's trials,
    identical, from the same keyed draws. Needs numba.cuda and a GPU (``pip install
    advocacy-sim[gpu]``), or numba's CUDA simulator for tests."""

    def check(self, scenario: Scenario, point: Prepared | None = None) -> None:
        """Refuse independent adoption (not ported), a machine without a usable GPU, and a world whose
        arrays and one trial's scratch do not fit in the GPU's free memory."""
        if scenario.model.adoption == "independent":
            raise ScenarioError([scenario.locate(("model", "adoption"),
                                                 self.module.INDEPENDENT_REFUSED + ": use engine numba")])
        why = self.module.unavailable()
        if why is not None:
            raise ScenarioError([scenario.locate(("engine",), f"the cuda engine cannot run here: {why}")])
        if point is not None:
            try:
                self.module.check_fits(point.world.population, point.model, point.plans)
            except self.module.DeviceMemoryError as exc:
                raise ScenarioError([scenario.locate(("world",), str(exc))]) from None


#: The engines of the campaign model, by the name a scenario's ``engine`` gives. All give the
#: same outcomes from the same keyed draws; a new engine is one entry here.
ENGINES: dict[str, CampaignEngine] = {
    "numba": CampaignEngine("sim.campaign.model"),
    "mesa": CampaignEngine("sim.campaign.agents"),
    "cuda": CudaCampaignEngine("sim.campaign.cuda_kernel"),
}


def prices(scenario: Scenario) -> Prices:
    """The scenario's rate card and partnership costs."""
    return Prices(scenario.rate_card, dict(scenario.partnership_cost))


def group_keys(scenario: Scenario, index: int) -> list[tuple]:
    """Key path of each post group of strategy number ``index``: a listed group's ``creators`` or
    ``budget`` (what decides how many partners it gets), or the grid mix it came from."""
    out = []
    for j, group in enumerate(scenario.strategy_list[index].posts):
        key = scenario.group_key(index, j)
        if key[0] == "strategies":
            key = (*key, "creators" if group.creators is not None else "budget")
        out.append(key)
    return out


def schedules(scenario: Scenario, pop: Population, arrays: CampaignWorldArrays | None = None) -> list[Schedule]:
    """Every strategy's partners and posts (``arrays``: the compiled world, for greedy selection).

    Raises
    ------
    CampaignError
        If a strategy asks for partners the world does not have, or its budget buys none.
    """
    return [build_schedule(pop, scenario.world, scenario.model, s.name, s.posts, group_keys(scenario, i),
                           prices(scenario), scenario.seed, arrays, s.max_partners)
            for i, s in enumerate(scenario.strategy_list)]


def compile_campaign(scenario: Scenario, pop: Population) -> tuple[CampaignWorldArrays, list[Schedule]]:
    """World arrays and one schedule per strategy for a campaign scenario.

    Raises
    ------
    CampaignError
        If a strategy asks for partners the world does not have, or its budget buys none.
    """
    arrays = compile_world(pop, scenario.world, scenario.model, scenario.days,
                           max_daily_posts(s.posts for s in scenario.strategy_list))
    return arrays, schedules(scenario, pop, arrays)


def _money(x: float) -> str:
    return fmt.money(x)


#: Tier names as a planner says them (the mega tier stands for the celebrity in worlds without a
#: ``celebrity`` tier, as in the claims audit and E9).
TIER_WORDS = {"nano": "nano", "micro": "micro", "macro": "macro", "mega": "celebrity (mega)", "celebrity": "celebrity"}


def tier_word(tier: str, tiers) -> str:
    """How a planner reads ``tier`` in a world of ``tiers``: ``mega`` is "celebrity (mega)" unless the
    world also has a real ``celebrity`` tier, where it is plain "mega"."""
    if tier == "mega" and "celebrity" in tiers:
        return "mega"
    return TIER_WORDS.get(tier, tier)


def tier_ranges(scenario: Scenario) -> str:
    """``nano 1,000–10,000 followers; ...; celebrity (mega) 1,000,000–3,000,000``."""
    tiers = scenario.world.tiers
    return "; ".join(f"{tier_word(t, tiers)} {spec.followers[0]:,}–{spec.followers[1]:,}" for t, spec in tiers.items())


def _days(days: list[int]) -> str:
    if len(days) == 1:
        return f"once, on day {days[0]}"
    step = {b - a for a, b in zip(days, days[1:], strict=False)}
    if len(step) == 1:
        return f"{len(days)} posts each, every {step.pop()} days from day {days[0]}"
    return f"{len(days)} posts each, on days {', '.join(map(str, days))}"


def strategy_budgets(scenario: Scenario) -> dict[str, float | None]:
    """What each strategy of a campaign scenario was given to spend (USD): its grid budget, the sum
    of its groups' budgets when every group has one, else the scenario's ``budget`` (None: unknown)."""
    grid = {g.name: g.budget for g in scenario.strategy_grid.expand()} if scenario.strategy_grid else {}
    cap = scenario.budget
    out: dict[str, float | None] = {}
    for s in scenario.strategy_list:
        if s.name in grid:
            out[s.name] = float(grid[s.name])
        elif s.posts and all(g.budget is not None for g in s.posts):
            out[s.name] = float(sum(g.budget for g in s.posts))
        else:
            out[s.name] = None if cap is None else float(cap)
    return out


def _mechanisms(scenario: Scenario) -> list[str]:
    """The mechanisms of docs/model.md §5 and §7 (issue 19) in plain words, each as the scenario sets it."""
    m, w = scenario.model, scenario.world
    out = []
    if m.alignment_weight > 0:
        out.append(f"A creator's persuasion rises with its fit with the cause: x{1 + m.alignment_weight:.2f} for a "
                   f"perfect fit, x{1 - m.alignment_weight:.2f} for none.")
    else:
        out.append("A creator's fit with the cause does not change its persuasion.")
    if m.click_share < 1:
        out.append(f"{m.click_share:.0%} of engagements are a click through to the action page.")
    if m.action_on_engagement > 0:
        of = "clicks" if m.click_share < 1 else "engagements (each a click through to act)"
        out.append(f"{m.action_on_engagement:.0%} of {of} are the action itself.")
    s = m.sources.synergy
    if s != 0:
        kind = "reinforce each other" if s > 0 else "persuade less than their sum"
        out.append(f"Posts from several distinct accounts {kind} (up to {m.sources.cap} sources).")
    if m.repetition_peak is not None:
        out.append(f"The attitude built by one creator peaks at {m.repetition_peak:g} exposures, then wears out.")
    spread = {k: v for k, v in w.dispersion.model_dump().items() if v > 0}
    if spread:
        out.append("Creators of a tier differ in " + ", ".join(spread) + ".")
    press = [f"{name} posts reach {t.press.reach:.0%} of the audience through the press"
             for name, t in w.tiers.items() if t.press is not None]
    if press:
        out.append("; ".join(press).capitalize() + ".")
    return out


class CampaignFamily(ModelFamily):
    """The campaign model on a creator-audience world; posts of chosen partners are the plans."""

    name = "campaign"
    models = (CampaignModel,)
    outcomes = CAMPAIGN_OUTCOMES
    engines = ENGINES
    headline = (Column("cost", "cost (USD)", "{:,.0f}"), Column("reach", "reach", "{:,.0f}"),
                Column("engagements", "engagements", "{:,.0f}"), Column("engagers", "engagers", "{:,.0f}"),
                Column("adopted", "adopters ± 95% CI"), Column("adopters_engaged", "of whom engaged", "{:,.0f}"),
                Column("cost_per_adopter", "USD/adopter", "{:,.2f}"), Column("depth", "depth", "{:.2f}"))

    def compile(self, scenario: Scenario, world: World) -> CampaignWorldArrays:
        """The model laid onto the population (reach, trust, engagement, thresholds, power tables)."""
        return compile_world(world.population, scenario.world, scenario.model, scenario.days,
                             max_daily_posts(s.posts for s in scenario.strategy_list))

    def plan(self, scenario: Scenario, world: World, compiled: CampaignWorldArrays) -> tuple[Schedule, ...]:
        """Every strategy's partners and posts (greedy selection runs here, once)."""
        try:
            return tuple(schedules(scenario, world.population, compiled))
        except CampaignError as exc:
            raise ScenarioError([scenario.locate(exc.key, str(exc))]) from None

    def tabulate(self, point: Prepared, plan: Schedule, names: Sequence[str], strategy: int,
                 outcome: CampaignOutcome) -> ChunkTables:
        """The chunk's trial, time-series, partner and segment tables."""
        return campaign_tables(names, strategy, outcome, plan, point.world.population)

    def describe(self, scenario: Scenario, facts: WorldFacts) -> list[str]:
        """The people, platforms and creators; the campaign's rules; the prices."""
        world = scenario.world
        a = facts.audience
        plats = ", ".join(f"{name} (a post reaches {p.organic_reach:.0%} of followers"
                          + (f", and non-followers up to {p.discovery:g}x its followers" if p.discovery else "")
                          + ")" for name, p in world.platforms.items())
        counts = world.tier_counts()
        tiers = "; ".join(f"{counts[name]:,} {name} creators ({spec.followers[0]:,}-{spec.followers[1]:,} followers)"
                          for name, spec in world.tiers.items())
        if world.creators is not None:
            tiers += f" (the planner's roster, {os.path.basename(world.creators.roster)})"
        out = [f"The world: {fmt.count(a.real_accounts)} people (simulated as {facts.accounts:,} accounts, "
               f"each standing for {fmt.param(a.scale)}) on {plats}. Creators: {tiers}."]
        m = scenario.model
        rule = ("adopts when the persuasion they accumulate, decaying by "
                f"{m.conviction_decay:.0%} a day, crosses a personal threshold" if m.adoption == "threshold"
                else "may adopt at each exposure, independently")
        out.append(f"The campaign runs {scenario.days} days. Someone who sees a post engages with a tier- and "
                   f"platform-specific probability, and {rule}. Trust in a creator grows by {m.trust_growth:.0%} "
                   f"of the gap to {m.trust_ceiling:.0%} per exposure; fatigue {m.fatigue:.0%} per exposure. "
                   f"{m.reshare:.0%} of adopters re-share once to their friends.")
        out.append(" ".join(_mechanisms(scenario)))
        card = "; ".join(f"{plat}: " + ", ".join(f"{t} {_money(v)}" for t, v in tiers_.items() if t in world.tiers)
                         for plat, tiers_ in (scenario.rate_card or {}).items() if plat in world.platforms)
        if world.creators is not None:  # a roster's creators bring their own prices; a card is not used
            card = "each creator's own (the roster's price_per_post)"
        fees = ", ".join(f"{t} {_money(v)}" for t, v in scenario.partnership_cost.items()) or "none"
        out.append(f"Prices per post: {card}. Fixed cost per partner (finding, vetting, contracting, "
                   f"managing): {fees}.")
        return out

    def size_axis(self, facts: WorldFacts) -> tuple[float, str]:
        """The audience in real people; adopters without the partners."""
        return facts.audience.real_accounts, "sign-ups per trial (people; partners not counted)"

    def budgets(self, scenario: Scenario) -> dict[str, float | None]:
        """Each strategy's grid budget, or the sum of its groups' budgets, else the scenario's ``budget``."""
        return strategy_budgets(scenario)

    def describe_plan(self, scenario: Scenario, strategy: str, detail: CampaignTables | None) -> str:
        """Who a strategy hires (counts from the run's partners), where, for how much, and when."""
        found = next((s for s in scenario.strategy_list if s.name == strategy), None)
        if found is None or not found.posts:
            return ""
        hired: Counter = Counter()
        roster = detail.roster if detail is not None else None
        if roster is not None and len(roster):
            sub = roster[roster["strategy"] == strategy]
            if "point" in sub.columns and len(sub):
                sub = sub[sub["point"] == sub["point"].min()]
            hired = Counter(zip(sub["tier"], sub["platform"], strict=True))
        parts = []
        for g in found.posts:
            word = tier_word(g.tier, scenario.world.tiers)
            who = f"{word} creators on {g.platform}"
            n = hired.get((g.tier, g.platform))
            n = n if n is not None else g.creators
            if n is not None:
                who = f"{n:,} {who}" if n != 1 else f"1 {word} creator on {g.platform}"
            money = f" for {fmt.money(g.budget)}" if g.budget is not None else ""
            parts.append(f"{who}{money}, {_days(g.post_days())}")
        return "; ".join(parts)

    def terms(self, scenario: Scenario) -> list[str]:
        """Creator tiers with their follower ranges ("celebrity" is the mega tier where no celebrity tier exists)."""
        return [f"Creator tiers by followers: {tier_ranges(scenario)}."]

    def feasibility(self, scenario: Scenario) -> list[str]:
        """Budgets that buy nobody, or more creators than the world has, at any sweep point
        (:func:`sim.campaign.feasibility.design_problems`)."""
        return design_problems(scenario)

    def scratch_slots(self, scenario: Scenario) -> float:
        """One slot per follower of each partner of the largest strategy (a budget buys as many
        partners as it pays for at the card's prices plus partnership costs)."""
        world = scenario.world
        followers = footprint.expected_followers(world)
        counts = world.tier_counts()
        roster = world.roster() is not None
        slots = 0.0
        for strategy in scenario.strategy_list:
            total = 0.0
            for g in strategy.posts or []:
                count = g.creators
                if count is None and roster:  # prices per creator: bounded by the tier's count
                    count = counts[g.tier]
                elif count is None:  # a budget: as many partners as it buys (posts at the card + partnership)
                    price = scenario.rate_card[g.platform][g.tier] if g.paid else 0.0
                    each = price * len(g.post_days()) + scenario.partnership_cost.get(g.tier, 0.0)
                    count = g.budget / each if each > 0 else 0
                total += min(count, counts[g.tier]) * followers[g.tier]
            slots = max(slots, total)
        return slots

    def result_tables(self, scenario: Scenario, points: Sequence[Prepared]) -> list[tuple[int, int]]:
        """Rows per (point, strategy, trial), per day, per partner and per audience segment."""
        runs = len(points) * len(scenario.strategy_list) * scenario.trials
        partners = sum(len(plan.partner_creator) for p in points for plan in p.plans)
        segments = len(points[0].world.population.segments) if points else 0
        return [(runs, ROW_BYTES["runs"]), (runs * scenario.days, ROW_BYTES["timeseries"]),
                (scenario.trials * partners, ROW_BYTES["partners"]), (runs * segments, ROW_BYTES["segments"])]

    def detail(self, points: Sequence[Prepared], tables: Mapping[str, pd.DataFrame], sweep: bool) -> CampaignTables:
        """The per-day, per-partner and per-segment tables, the roster and the cascade trees."""
        return CampaignTables(timeseries=tables["timeseries"], partners=tables["partners"],
                              segments=tables["segments"], roster=_roster(points, sweep),
                              trees=_cascade_trees(points, sweep) if points[0].scenario.cascade_trees else None)


def _with_point(frame: pd.DataFrame, index: int, sweep: bool) -> pd.DataFrame:
    return frame.assign(point=index)[["point", *frame.columns]] if sweep else frame


def _roster(points: Sequence[Prepared], sweep: bool) -> pd.DataFrame:
    """Every strategy's partners (at every point of a sweep)."""
    frames = [_with_point(pd.concat([partner_table(s.name, plan, p.world.population,
                                                   creator_levels(p.world.population, p.scenario.world))
                                     for s, plan in zip(p.scenario.strategy_list, p.plans, strict=True)],
                                    ignore_index=True), i, sweep)
              for i, p in enumerate(points)]
    return pd.concat(frames, ignore_index=True)


def _cascade_trees(points: Sequence[Prepared], sweep: bool) -> pd.DataFrame:
    """The cascade trees the scenario asks for, one row per adopter, for every strategy (and point)."""
    frames = []
    for index, point in enumerate(points):
        scenario = point.scenario
        engine = FAMILY.engine(scenario)
        for strategy, plan in zip(scenario.strategy_list, point.plans, strict=True):
            for trial in scenario.cascade_trees:
                tree = engine.cascade_tree(point, plan, trial)
                frame = pd.DataFrame({
                    "strategy": strategy.name, "trial": trial, "account": tree.account, "day": tree.day,
                    "parent": tree.parent, "post": tree.post, "partner": tree.partner,
                    "generation": tree.generation, "parent_is_partner": tree.generation == 1})
                frames.append(_with_point(frame, index, sweep))
    return pd.concat(frames, ignore_index=True)


#: The campaign family.
FAMILY = CampaignFamily()
