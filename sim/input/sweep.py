"""Scenario blocks of a sweep: the uncertainties and their design, and a grid of strategies.

EMA Workbench's vocabulary (Kwakkel 2017, *Environmental Modelling & Software* 96:239-250):
*uncertainties* are what nobody controls (trust in micro creators, organic reach, prices);
*levers* are what the planner sets. Here the levers are the strategies: listed one by one
(``strategies``) or spanned by a ``strategy_grid`` of budgets x tier mixes x schedules. A
design over the uncertainties gives the *points*; every strategy runs at every point on the
same random numbers.

```yaml
sweep:
  design: factorial            # factorial | latin_hypercube | sobol | morris
  uncertainties:
    - {path: world.tiers.micro.trust, levels: [0.3, 0.5, 0.7]}
    - {path: rate_card, levels: [industry_midpoint, source_article]}
strategy_grid:
  budgets: [50000, 150000]
  mixes:
    micro: {micro.instagram: 0.5, micro.tiktok: 0.5}
    hybrid: {mega.instagram: 0.5, nano.instagram: 0.5}
  schedules:
    burst: {days: [0]}
    ambassador: {schedule: {start: 0, every: 7, count: 4}}
```
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.campaign.spec import PostGroup, ScheduleSpec
from sim.input import keypaths
from sim.input.schema import PositiveInt, Spec

_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$"

#: Columns of the results tables an uncertainty's label (a column too) must not shadow.
RESERVED_LABELS = frozenset({
    "point", "strategy", "trial", "outcome", "trials", "mean", "sem", "ci95_low", "ci95_high", "baseline",
    "diff_mean", "diff_sem", "diff_ci95_low", "diff_ci95_high", "cost", "reach", "impressions", "engagements",
    "adopted", "adopters_direct", "adopters_reshare", "reshares", "discovery_impressions", "depth",
    "reach_fraction", "adopted_fraction", "engagement_rate", "cost_per_engagement", "cost_per_adopter", "steps",
    "engagers", "adopters_engaged", "adopters_unengaged", "action_rate_engaged", "action_rate_reached",
    "clickers", "adopters_clicked", "click_rate_reached", "action_rate_clicked", "press_impressions",
    "on_frontier", "day", "partner", "segment", "key", "split", "rank", "within_budget", "budget", "unspent",
    "p_best", "regret_mean", "regret_max", "adopters_p10", "adopters_p50", "adopters_p90"})


class DesignKind(StrEnum):
    """How the points of a sweep are chosen.

    * ``factorial``: every combination of every uncertainty's ``levels``.
    * ``latin_hypercube``: ``samples`` points, one per stratum of every range (McKay, Beckman &
      Conover 1979).
    * ``sobol``: Saltelli's scheme for Sobol' indices, ``samples x (D + 2)`` points for D
      uncertainties (Saltelli 2002; Saltelli et al. 2010), through SALib.
    * ``morris``: ``samples`` one-at-a-time trajectories of D + 1 points on a ``levels`` grid
      (Morris 1991; Campolongo, Cariboni & Saltelli 2007), through SALib.
    * ``posterior``: ``samples`` listed points, point i taking level i of every uncertainty
      (written by ``parameters: {posterior: ..., draws: N}``: the draws of a calibrated
      posterior, :mod:`sim.input.posterior`; levels may repeat).
    """

    FACTORIAL = "factorial"
    LATIN_HYPERCUBE = "latin_hypercube"
    SOBOL = "sobol"
    MORRIS = "morris"
    POSTERIOR = "posterior"

    @property
    def sampled(self) -> bool:
        """Whether points are drawn from ranges (``low``/``high``) rather than listed levels."""
        return self not in (DesignKind.FACTORIAL, DesignKind.POSTERIOR)


class Uncertainty(Spec):
    """One uncertain value of the scenario and the values or the range it may take.

    Attributes
    ----------
    path : str
        Dotted key path of the value in the scenario (``model.trust_growth``,
        ``world.platforms.instagram.organic_reach``, ``partnership_cost.micro``, ``rate_card``).
        Every point's scenario is validated as a whole, with the usual bounds and messages.
    levels : list of number or str
        ``factorial``: the values to try (a named rate card is a string).
    low, high : float
        Sampled designs: the range, ``low < high``. A whole-number key (a count) takes the
        sampled value rounded to the nearest integer.
    name : str
        Short label for tables and figures (default: the path).
    """

    path: Annotated[str, Field(pattern=_PATH, max_length=200)]
    levels: Annotated[list[float | str], Field(min_length=1)] | None = None
    low: float | None = None
    high: float | None = None
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]+$", max_length=60)] | None = None

    @model_validator(mode="after")
    def _levels_or_range(self) -> Uncertainty:
        if (self.levels is None) == (self.low is None and self.high is None):
            raise ValueError("give either 'levels' (factorial designs) or 'low' and 'high' (sampled designs)")
        if self.levels is None and (self.low is None or self.high is None):
            raise ValueError("give both 'low' and 'high'")
        if self.low is not None and not self.low < self.high:
            raise ValueError(f"need low < high (low={self.low:g}, high={self.high:g})")
        return self

    @property
    def label(self) -> str:
        """The name used in tables: ``name`` or the path."""
        return self.name or self.path

    @property
    def keys(self) -> tuple[str, ...]:
        """The path's keys."""
        return keypaths.split(self.path)


#: Most points a sweep runs, and most strategies a grid spans. Far beyond any study (a Sobol
#: design of 2**14 base samples over 10 uncertainties has 196,608 points): they keep a design
#: whose matrix or list alone would exhaust memory from being drawn or expanded at all.
MAX_POINTS = 1_000_000
MAX_GRID_STRATEGIES = 100_000


class SweepSpec(Spec):
    """The points of a sweep: a design over uncertainties.

    Attributes
    ----------
    design : DesignKind
        ``factorial`` (default), ``latin_hypercube``, ``sobol`` or ``morris``.
    samples : int
        Sampled designs: Latin hypercube points; Sobol base sample N (a power of two;
        N x (D + 2) points); Morris trajectories (r x (D + 1) points).
    morris_levels : int
        Morris: grid levels of each range (even; 4 by default).
    uncertainties : list of Uncertainty
        What varies, each once.
    outcomes : list of str
        Outcomes whose sensitivity indices are computed (Sobol and Morris designs), from the
        trial table's columns; their per-point means over trials are the model's output.
    """

    design: DesignKind = DesignKind.FACTORIAL
    samples: PositiveInt | None = None
    morris_levels: Annotated[int, Field(ge=2, le=20)] = 4
    uncertainties: Annotated[list[Uncertainty], Field(min_length=1, max_length=50)]
    outcomes: Annotated[list[str], Field(min_length=1)] = ["adopted"]

    @field_validator("design", mode="before")
    @classmethod
    def _design(cls, value):
        allowed = [d.value for d in DesignKind]
        if value not in allowed:
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("enum", "must be one of {allowed} (got {got!r})",
                                      {"allowed": ", ".join(allowed), "got": value})
        return DesignKind(value)

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        paths = [u.path for u in self.uncertainties]
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            raise ValueError(f"each uncertainty once; repeated: {', '.join(dup)}")
        labels = [u.label for u in self.uncertainties]
        if len(set(labels)) != len(labels):
            raise ValueError("uncertainty names must be distinct")
        for i, u in enumerate(self.uncertainties):
            if self.design.sampled and u.levels is not None:
                raise ValueError(f"uncertainties.{i} ({u.path}): a {self.design.value} design samples ranges; "
                                 "give low and high instead of levels")
            if not self.design.sampled and u.levels is None:
                raise ValueError(f"uncertainties.{i} ({u.path}): a {self.design.value} design needs 'levels'")
            if self.design is DesignKind.FACTORIAL and len(set(map(repr, u.levels))) != len(u.levels):
                raise ValueError(f"uncertainties.{i} ({u.path}): levels must be distinct")
            if self.design is DesignKind.POSTERIOR and len(u.levels) != self.samples:
                raise ValueError(f"uncertainties.{i} ({u.path}): a posterior design lists one level per point "
                                 f"({self.samples} points, {len(u.levels)} levels)")
        if (self.design.sampled or self.design is DesignKind.POSTERIOR) and self.samples is None:
            raise ValueError(f"a {self.design.value} design needs 'samples'")
        if self.design is DesignKind.FACTORIAL and self.samples is not None:
            raise ValueError("'samples' is for sampled designs; a factorial design runs every combination of levels")
        if self.design is DesignKind.SOBOL and self.samples & (self.samples - 1):
            raise ValueError(f"a Sobol design needs samples = a power of two (Saltelli's scheme), got {self.samples}")
        if self.design is DesignKind.MORRIS and self.morris_levels % 2:
            raise ValueError(f"morris_levels must be even, got {self.morris_levels}")
        if self.size > MAX_POINTS:  # before the design is drawn: its matrix alone may not fit in memory
            raise ValueError(f"the {self.design.value} design has {self.size:,} points; at most {MAX_POINTS:,} are "
                             "run (fewer levels or samples)")
        if self.design is not DesignKind.MORRIS and self.morris_levels != 4:
            raise ValueError("morris_levels is for the morris design")
        for a in paths:  # a block and a value inside it cannot both vary: one would overwrite the other
            for b in paths:
                if b.startswith(a + "."):
                    raise ValueError(f"uncertainties '{a}' and '{b}': one lies inside the other")
        taken = sorted(set(labels) & RESERVED_LABELS)
        if taken:
            raise ValueError(f"uncertainty name '{taken[0]}' is a column of the results tables; give it another "
                             "'name'")
        return self

    @property
    def size(self) -> int:
        """How many points the design has (computed, not drawn)."""
        d = len(self.uncertainties)
        if self.design is DesignKind.FACTORIAL:
            return math.prod(len(u.levels) for u in self.uncertainties)
        return self.samples * {DesignKind.SOBOL: d + 2, DesignKind.MORRIS: d + 1}.get(self.design, 1)


# --------------------------------------------------------------------------- strategy grid

_MIX_KEY = re.compile(r"^(nano|micro|macro|mega|celebrity)\.([A-Za-z0-9_]+)$")


class GridSchedule(Spec):
    """When a grid strategy's partners post: ``days`` or a ``schedule`` (as in a post group)."""

    days: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] | None = None
    schedule: ScheduleSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> GridSchedule:
        if (self.days is None) == (self.schedule is None):
            raise ValueError("give exactly one of 'days' or 'schedule'")
        return self


Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=30)]


@dataclass(frozen=True)
class GridStrategy:
    """One strategy of a grid: its name, where in the grid it is, and its post groups."""

    name: str
    mix: str
    schedule: str
    budget: float
    posts: tuple[PostGroup, ...]


class StrategyGrid(Spec):
    """Strategies spanned by budgets x tier mixes x schedules (the planner's levers).

    Strategy ``<mix>.<schedule>.<budget>`` (e.g. ``micro.ambassador.150k``) spends ``share x
    budget`` on each ``tier.platform`` of its mix, choosing as many partners as that buys
    (post price x posts + partnership cost each) with ``select``.

    Attributes
    ----------
    budgets : list of float
        Total USD of a strategy, each > 0.
    mixes : dict
        Name -> ``{"tier.platform": share}``, shares > 0 summing to 1.
    schedules : dict
        Name -> :class:`GridSchedule`.
    select : str
        How partners are chosen in every group (see :class:`sim.campaign.spec.PostGroup`).
    max_partners : int or None
        The most partners any grid strategy hires (its groups in mix order); money it leaves
        unspent is reported (``unspent`` in ``strategies.csv``).
    """

    budgets: Annotated[list[Annotated[float, Field(gt=0)]], Field(min_length=1)]
    mixes: Annotated[dict[Name, Annotated[dict[str, Annotated[float, Field(gt=0, le=1)]], Field(min_length=1)]],
                     Field(min_length=1)]
    schedules: Annotated[dict[Name, GridSchedule], Field(min_length=1)]
    select: Literal["random", "top_followers", "most_aligned", "greedy"] = "top_followers"
    max_partners: Annotated[PositiveInt | None, Field(exclude_if=lambda v: v is None)] = None

    @model_validator(mode="after")
    def _mixes(self) -> StrategyGrid:
        for name, mix in self.mixes.items():
            for key in mix:
                if not _MIX_KEY.match(key):
                    raise ValueError(f"mixes.{name}: '{key}' is not tier.platform (tiers: nano, micro, macro, mega, "
                                     "celebrity)")
            total = sum(mix.values())
            if abs(total - 1.0) > 1e-9:
                raise ValueError(f"mixes.{name}: shares must sum to 1 (they sum to {total:.6g})")
        if len(set(self.budgets)) != len(self.budgets):
            raise ValueError("budgets must be distinct")
        size = len(self.budgets) * len(self.mixes) * len(self.schedules)
        if size > MAX_GRID_STRATEGIES:  # checked before the grid is expanded
            raise ValueError(f"the grid spans {size:,} strategies ({len(self.budgets):,} budgets x {len(self.mixes):,} "
                             f"mixes x {len(self.schedules):,} schedules); at most {MAX_GRID_STRATEGIES:,}")
        return self

    def expand(self) -> list[GridStrategy]:
        """The grid's strategies in grid order (budget, then mix, then schedule)."""
        out = []
        for budget in self.budgets:
            for mix_name, mix in self.mixes.items():
                for sched_name, sched in self.schedules.items():
                    groups = []
                    for key, share in mix.items():
                        tier, platform = key.split(".")
                        when = {"days": sched.days} if sched.days is not None else {"schedule": sched.schedule}
                        groups.append(PostGroup(tier=tier, platform=platform, budget=share * budget,
                                                select=self.select, **when))
                    out.append(GridStrategy(f"{mix_name}.{sched_name}.{budget_label(budget)}", mix_name,
                                            sched_name, budget, tuple(groups)))
        return out


def budget_label(usd: float) -> str:
    """``50000`` -> ``50k``, ``1500000`` -> ``1.5M``, ``750`` -> ``750``: short, exact when it can be."""
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if usd >= div:
            v = usd / div
            text = f"{v:.3f}".rstrip("0").rstrip(".")
            if float(text) * div == usd:
                return f"{text}{unit}"
    return f"{usd:.2f}".rstrip("0").rstrip(".").replace(".", "_")
