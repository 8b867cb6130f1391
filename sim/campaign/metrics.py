"""Campaign outcomes as tables: what a planner reads, in real accounts and dollars.

Kernel counts are in simulated accounts; every count reported here is multiplied by
the world's ``scale`` (one simulated account stands for ``scale`` real ones), while
fractions and rates are not. Engagement rate is per exposure (engagements /
impressions), the definition the model calibrates against (docs/model.md). The action
funnel (docs/model.md §7.7): ``engagers`` are accounts that engaged at least once,
``adopters_engaged`` / ``adopters_unengaged`` split the adopters by whether they had engaged
by the end of their adoption day; ``clickers`` are accounts that clicked through a post's call
to action at least once (a subset of the engagers, ``click_share``), ``adopters_clicked`` the
adopters that had clicked by the end of their adoption day; ``action_rate_engaged`` =
adopters_engaged / engagers, ``click_rate_reached`` = clickers / reach, ``action_rate_clicked`` =
adopters_clicked / clickers and ``action_rate_reached`` = adopted / reach are per-trial ratios of
simulated counts (NaN when the denominator is 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.campaign import kernel as ck
from sim.campaign.model import CampaignOutcome, Schedule
from sim.families.chunks import ChunkTables, strategy_column
from sim.world.levels import CreatorLevels
from sim.world.population import Population

#: Bytes per row of each table while it is held (Arrow while gathering, then pandas): eight
#: bytes per column of :func:`campaign_tables` (the memory check's estimate).
ROW_BYTES = {"runs": 32 * 8, "timeseries": 8 * 8, "partners": 6 * 8, "segments": 5 * 8}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def campaign_tables(names: Sequence[str], strategy: int, outcome: CampaignOutcome, schedule: Schedule,
                    pop: Population) -> ChunkTables:
    """Turn one chunk's kernel output for strategy number ``strategy`` of ``names`` into the run,
    time-series, partner and segment tables (rows in trial order, then day, partner or segment)."""
    scale = pop.scale
    nt = len(outcome.trials)
    tot = {name: outcome.totals[:, j] for j, name in enumerate(ck.TOTALS)}
    cost = np.full(len(outcome.trials), schedule.cost)
    eng = tot["engagements"] * scale
    adopted = tot["adopters"] * scale
    runs = pa.table({
        "strategy": strategy_column(names, strategy, nt),
        "trial": outcome.trials,
        "reach": tot["reach"] * scale,
        "impressions": tot["impressions"] * scale,
        "engagements": eng,
        "engagers": tot["engagers"] * scale,
        "adopted": adopted,
        "adopters_direct": tot["adopters_direct"] * scale,
        "adopters_reshare": tot["adopters_reshare"] * scale,
        "adopters_engaged": tot["adopters_engaged"] * scale,
        "adopters_unengaged": tot["adopters_unengaged"] * scale,
        "clickers": tot["clickers"] * scale,
        "adopters_clicked": tot["adopters_clicked"] * scale,
        "reshares": tot["reshares"] * scale,
        "discovery_impressions": tot["discovery_impressions"] * scale,
        "press_impressions": tot["press_impressions"] * scale,
        "depth": tot["depth"].astype(np.int64),
        "reach_fraction": tot["reach"] / pop.n_audience,
        "adopted_fraction": tot["adopters"] / pop.n_audience,
        "engagement_rate": _ratio(tot["engagements"], tot["impressions"]),
        "action_rate_engaged": _ratio(tot["adopters_engaged"], tot["engagers"]),
        "click_rate_reached": _ratio(tot["clickers"], tot["reach"]),
        "action_rate_clicked": _ratio(tot["adopters_clicked"], tot["clickers"]),
        "action_rate_reached": _ratio(tot["adopters"], tot["reach"]),
        "cost": cost,
        "cost_per_engagement": _ratio(cost, eng),
        "cost_per_adopter": _ratio(cost, adopted),
    })
    days = outcome.series.shape[1]
    series = {name: outcome.series[:, :, j].ravel() * scale for j, name in enumerate(ck.SERIES)}
    timeseries = pa.table({"strategy": strategy_column(names, strategy, nt * days),
                           "trial": np.repeat(outcome.trials, days),
                           "day": np.tile(np.arange(days), nt), **series})
    n_part = outcome.partners.shape[1]
    partners = pa.table({
        "strategy": strategy_column(names, strategy, nt * n_part),
        "trial": np.repeat(outcome.trials, n_part),
        "partner": np.tile(np.arange(n_part), nt),
        **{name: outcome.partners[:, :, j].ravel() * scale for j, name in enumerate(ck.PARTNER)},
    })
    n_seg = outcome.segments.shape[1]
    segments = pa.table({
        "strategy": strategy_column(names, strategy, nt * n_seg),
        "trial": np.repeat(outcome.trials, n_seg),
        "segment": pa.array(np.tile(np.asarray(pop.segments, dtype=object), nt), pa.string()),
        **{name: outcome.segments[:, :, j].ravel() * scale for j, name in enumerate(ck.SEGMENT)},
    })
    return ChunkTables(runs, timeseries, partners, segments)


def partner_table(strategy: str, schedule: Schedule, pop: Population,
                  levels: CreatorLevels | None = None) -> pd.DataFrame:
    """Who the partners of a strategy are: creator, tier, platform, followers, alignment, (with
    ``levels``) its own trust, authenticity and engagement, posts, cost (of which partnership)."""
    c = schedule.partner_creator
    own = {} if levels is None else {"trust": levels.trust[c], "authenticity": levels.authenticity[c],
                                     "engagement": levels.engagement[c]}
    return pd.DataFrame({
        "strategy": strategy,
        "partner": np.arange(len(c)),
        "creator": c,
        "handle": [pop.handle(int(x)) for x in c],
        "account": pop.creator_account(c),
        "tier": [pop.tiers[t] for t in pop.creator_tier[c]],
        "platform": [pop.platforms[p] for p in pop.creator_platform[c]],
        "followers": pop.followers_real[c],
        "alignment": pop.alignment[c],
        **own,
        "posts": schedule.partner_posts,
        "cost": schedule.partner_cost,
        "partnership_cost": schedule.partner_fee,
    })


def _mean_sem(frame: pd.DataFrame, by: list[str], cols: list[str]) -> pd.DataFrame:
    g = frame.groupby(by, sort=False)[cols]
    mean = g.mean().add_suffix("_mean")
    sem = g.sem().add_suffix("_sem")
    return pd.concat([mean, sem], axis=1).reset_index()


def _keys(frame: pd.DataFrame) -> list[str]:
    """Grouping keys of a run's rows: ``point`` (sweeps) then ``strategy``."""
    return ["point", "strategy"] if "point" in frame.columns else ["strategy"]


def partner_report(partners: pd.DataFrame, roster: pd.DataFrame) -> pd.DataFrame:
    """Per (point,) partner: mean (and standard error) per trial of impressions, engagements and
    adopters attributed to it, and cost per engagement and per adopter at those means."""
    keys = _keys(partners)
    stats = _mean_sem(partners, [*keys, "partner"], list(ck.PARTNER))
    out = roster.merge(stats, on=[*keys, "partner"], how="left")
    out["cost_per_engagement"] = _ratio(out["cost"], out["engagements_mean"])
    out["cost_per_adopter"] = _ratio(out["cost"], out["adopters_mean"])
    return out


def split_report(partners: pd.DataFrame, roster: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Long table of splits: by tier, by platform, by tier x platform (impressions, engagements,
    engagement rate per exposure, adopters), and by audience segment (reach, adopters)."""
    keys = _keys(partners)
    joined = partners.merge(roster[[*keys, "partner", "tier", "platform"]], on=[*keys, "partner"])
    rows = []
    for dims in (["tier"], ["platform"], ["tier", "platform"]):
        per_trial = joined.groupby([*keys, "trial", *dims], sort=False)[list(ck.PARTNER)].sum().reset_index()
        per_trial["engagement_rate"] = _ratio(per_trial["engagements"], per_trial["impressions"])
        stats = _mean_sem(per_trial, [*keys, *dims], [*ck.PARTNER, "engagement_rate"])
        stats.insert(len(keys), "split", "x".join(dims))
        stats.insert(len(keys) + 1, "key", stats[dims].astype(str).agg("/".join, axis=1))
        rows.append(stats.drop(columns=dims))
    seg = _mean_sem(segments, [*keys, "segment"], list(ck.SEGMENT))
    seg.insert(len(keys), "split", "segment")
    seg = seg.rename(columns={"segment": "key"})
    rows.append(seg)
    return pd.concat(rows, ignore_index=True)


@dataclass(frozen=True, eq=False)
class CampaignTables:
    """A campaign run's tables beyond the trial table (each with a ``point`` column in sweeps).

    Attributes
    ----------
    timeseries : DataFrame
        Per (strategy, trial, day): new reach, engagements, engagers, adopters (real accounts).
    partners : DataFrame
        Per (strategy, trial, partner): impressions, engagements and adopters attributed to it.
    segments : DataFrame
        Per (strategy, trial, audience segment): reach and adopters.
    roster : DataFrame
        Who each strategy's partners are (creator, tier, platform, followers, posts, cost).
    trees : DataFrame or None
        With the scenario's ``cascade_trees``: one row per adopter of the chosen trials (account,
        day, parent, post, partner, generation).
    """

    timeseries: pd.DataFrame
    partners: pd.DataFrame
    segments: pd.DataFrame
    roster: pd.DataFrame
    trees: pd.DataFrame | None = None

    def partner_report(self) -> pd.DataFrame:
        """Per partner: mean attributed impressions, engagements, adopters, and costs per outcome."""
        return partner_report(self.partners, self.roster)

    def split_report(self) -> pd.DataFrame:
        """Outcomes split by tier, platform, tier x platform and audience segment."""
        return split_report(self.partners, self.roster, self.segments)
