"""Claims as comparisons of campaign arms over an assumption space, and what decides them.

A **comparison** (a claim of the source, or an effect the audit reports beside them) is a named
log-advantage ratio between two **arms** of a campaign: ``log(q(arm) / q(versus))`` for a quantity
where more is better (adopters, actions per reached account, engagements per follower) and
``log(q(versus) / q(arm))`` for a cost (cost per adopter). It is positive where the claim holds.
Arms are platform-free post groups (a tier, how many creators or whose budget, when they post);
a comparison names the platforms it is read on (``instagram``, ``tiktok``, and ``mix``, both
platforms at once), and both arms are instantiated on the same platforms (platform-matched) and,
where an arm's budget is another's (``budget_of``), at that arm's cost on each platform
(budget-matched). A comparison may price its arms with a named rate card (the source article's
prices) instead of the point's.

Each point of the assumption space (:mod:`sim.experiments.assumptions`) is one scenario: the base
campaign with the point's values written at their paths and one strategy per distinct arm
instance, run on the same root seed at every point (common random numbers) through the run
stage's :class:`~sim.execution.evaluate.PointEvaluator` (the tables :func:`sim.api.run` gives).
:func:`sim.experiments.claims.evaluate_point` returns every comparison's log advantage there.
The analyses turn the values over a Saltelli sample into, per comparison:

* Sobol first-order and total indices with bootstrap confidence intervals (SALib; Saltelli 2002,
  Saltelli et al. 2010) of the log advantage (:func:`sobol_indices`);
* the share of the space in which the claim holds (Wilson interval over the sample's independent
  A and B blocks, :func:`share_holds`);
* scenario discovery: a PRIM box over the parameters and derived features describing where the
  minority outcome lies, i.e. where the claim holds when it mostly fails and where it fails when
  it mostly holds (the EMA Workbench's ``prim``; Friedman & Fisher 1999, Bryant & Lempert 2010;
  :func:`conditions`);
* break-even values: for its most influential parameters (and named features), the value at
  which the claim holds in half of the space's campaigns with that value (a logistic fit of
  "holds" on the value; percentile bootstrap interval over points, :func:`breakeven`).

Issue 21's further claims are more ``arms`` and ``claims`` rows in the definition, nothing more.
"""

from __future__ import annotations

import ast
import math
import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from scipy import optimize, special

from sim.campaign.rate_cards import RATE_CARDS
from sim.campaign.spec import ScheduleSpec
from sim.experiments.comparison import Estimate, proportion_interval
from sim.input.schema import Spec

Label = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
#: Platforms an arm is read on: each alone, and both at once.
SINGLE = ("instagram", "tiktok")
MIX = "mix"
PlatformName = Literal["instagram", "tiktok", "mix"]
ArmRef = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(@(instagram|tiktok|mix))?$", max_length=60)]
Quantity = Literal["cost_per_adopter", "actions_per_reached", "engagements_per_follower", "adopters", "reach",
                   "cost_per_engagement", "reshare_multiplier"]
#: Quantities where less is better (the log advantage is versus over arm).
LOWER_IS_BETTER = frozenset({"cost_per_adopter", "cost_per_engagement"})
#: Tiers an arm may hire (``celebrity``: a real celebrity, 10M-500M followers, docs/model.md §7.12).
TierName = Literal["nano", "micro", "macro", "mega", "celebrity"]
#: The fewest adopters a trial mean is taken to be (half an adopter over all trials), so that a
#: point where an arm persuades nobody gives a finite, very unfavourable log advantage.
HALF = 0.5


# --------------------------------------------------------------------------- definitions

class ArmPosts(Spec):
    """One post group of an arm, without a platform (the comparison supplies it).

    Give exactly one of ``creators`` (that many partners on each platform the arm is read on),
    ``budget`` (USD on the arm's platforms, split equally on the mix) or ``budget_of`` (another
    arm's cost: on each platform, what that arm spends there; ``arm@platform`` pins the platform
    whose cost is matched, split equally on the mix). ``share`` gives a budgeted group that
    fraction of it (a hybrid: a celebrity's budget split between tiers); ``variant_distance`` is
    the post group's distance from the core message (the model's dilution, docs/model.md §7.5).
    """

    tier: TierName
    creators: Annotated[int, Field(ge=1)] | None = None
    budget: Annotated[float, Field(gt=0)] | None = None
    budget_of: ArmRef | None = None
    share: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    select: Literal["random", "top_followers", "most_aligned"] = "random"
    days: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] | None = None
    schedule: ScheduleSpec | None = None
    variant_distance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0

    @model_validator(mode="after")
    def _one(self) -> ArmPosts:
        if sum(x is not None for x in (self.creators, self.budget, self.budget_of)) != 1:
            raise ValueError("give exactly one of 'creators', 'budget' or 'budget_of'")
        if self.creators is not None and self.share != 1.0:
            raise ValueError("'share' is for budgeted groups (budget or budget_of)")
        if (self.days is None) == (self.schedule is None):
            raise ValueError("give exactly one of 'days' or 'schedule'")
        return self

    @property
    def posts_per_partner(self) -> int:
        """Posts each partner makes."""
        if self.days is not None:
            return len(self.days)
        assert self.schedule is not None  # validated (_one): exactly one of days and schedule
        return self.schedule.count


class Arm(Spec):
    """A campaign arm: its post groups (one per tier, each on every platform the arm is read on).

    ``scenario`` names a scenario variant of the definition (``parameters.variants``) the arm runs
    in instead of the point's own scenario (the participation claim: the point's re-share propensity
    scaled for the arm's tier).
    """

    posts: Annotated[list[ArmPosts], Field(min_length=1, max_length=4)]
    scenario: Label | None = None


class ComparisonSpec(Spec):
    """A claim (or an effect) as a log-advantage ratio of two arms.

    Attributes
    ----------
    id : str
        Stable identifier (the ``claim`` column of every table).
    kind : {"claim", "effect"}
        A claim of the source, or an effect the audit reports beside them (the platform effect).
    published : str
        The claim as its author states it.
    reading : str
        The model quantity, in words.
    quantity : str
        ``cost_per_adopter`` or ``cost_per_engagement`` (less is better), ``actions_per_reached``,
        ``engagements_per_follower``, ``adopters``, ``reach`` (unique accounts reached) or
        ``reshare_multiplier`` (adopters over those attributed straight to a partner's post).
    arm, versus : str or list of str
        Arm names, optionally pinned to a platform (``micro_fixed@tiktok``); the claim holds where
        ``arm`` does better. A list stands for the best of its arms at the point (a hybrid against
        the better of the pure mixes; the better of two swarms against a celebrity).
    marginal_over : str, optional
        An arm whose result is subtracted from ``arm``'s first: the claim is then about what ``arm``
        adds over it (``cost_per_adopter``: extra cost over extra adopters), e.g. the second half of
        a swarm over its first half.
    over : list of str, optional
        Scenario variants (``parameters.variants``) every arm runs in, e.g. a reach shock on each
        platform in turn; ``aggregate`` then combines an arm's quantity over them.
    aggregate : {"worst", "mean"}
        Over ``over``: the worst case (least adopters, highest cost) or the mean.
    part_of : str, optional
        A claim whose log advantage this claim's is a part of (re-sharing's part of a swarm's cost
        advantage): the tables report mean(this) / mean(that) over the space.
    platforms : list
        Platforms the unpinned arms are read on, each a separate reading.
    card : str, optional
        A named rate card pricing both arms (and their budget matching); default: the point's prices.
    target : str, optional
        A target of ``calibration/targets.yaml`` whose range the result is set against: with
        ``compare: share`` the share of the space where the claim holds (a survey share), with
        ``compare: ratio`` the advantage ratio itself.
    breakeven : list of str
        Parameters or features whose break-even values are reported besides the most influential.
    """

    id: Label
    kind: Literal["claim", "effect"] = "claim"
    published: Annotated[str, Field(min_length=1)]
    reading: Annotated[str, Field(min_length=1)]
    quantity: Quantity
    arm: ArmRef | Annotated[list[ArmRef], Field(min_length=2, max_length=4)]
    versus: ArmRef | Annotated[list[ArmRef], Field(min_length=2, max_length=4)]
    marginal_over: ArmRef | None = None
    over: Annotated[list[Label], Field(min_length=1, max_length=4)] | None = None
    aggregate: Literal["worst", "mean"] = "worst"
    part_of: Label | None = None
    platforms: Annotated[list[PlatformName], Field(min_length=1)] = ["instagram", "tiktok", "mix"]
    card: str | None = None
    target: Label | None = None
    compare: Literal["share", "ratio"] | None = None
    breakeven: list[Label] = []

    @model_validator(mode="after")
    def _consistent(self) -> ComparisonSpec:
        if self.card is not None and self.card not in RATE_CARDS:
            raise ValueError(f"card: unknown rate card {self.card!r} (allowed: {', '.join(RATE_CARDS)})")
        if (self.target is None) != (self.compare is None):
            raise ValueError("give 'target' and 'compare' together")
        if len(set(self.platforms)) != len(self.platforms):
            raise ValueError("platforms must be distinct")
        if self.marginal_over is not None:
            if self.quantity not in ("cost_per_adopter", "adopters"):
                raise ValueError("marginal_over is for cost_per_adopter or adopters")
            if isinstance(self.arm, list):
                raise ValueError("marginal_over needs one arm, not a list")
        return self

    @property
    def arms(self) -> tuple[str, ...]:
        """The arm references of ``arm`` (one, or the list's)."""
        return tuple(self.arm) if isinstance(self.arm, list) else (self.arm,)

    @property
    def versuses(self) -> tuple[str, ...]:
        """The arm references of ``versus``."""
        return tuple(self.versus) if isinstance(self.versus, list) else (self.versus,)

    def readings(self) -> list[tuple[str, str | tuple[str, ...], str | tuple[str, ...]]]:
        """``(platform label, arm instance(s), versus instance(s))`` per reading: pinned arms keep their
        platform; a list gives a tuple of instances (and ``marginal_over`` is read on the arm's platform).
        A reading whose every reference is pinned is labelled ``<arm platform>_vs_<versus platform>``."""
        refs = [*self.arms, *self.versuses]
        pinned = all("@" in r for r in refs)

        def at(ref: str, platform: str) -> str:
            return ref if "@" in ref else f"{ref}@{platform}"

        out = []
        for platform in (["pinned"] if pinned else self.platforms):
            a = tuple(at(r, platform) for r in self.arms)
            b = tuple(at(r, platform) for r in self.versuses)
            label = f"{a[0].split('@')[1]}_vs_{b[0].split('@')[1]}" if pinned else platform
            out.append((label, a if isinstance(self.arm, list) else a[0], b if isinstance(self.versus, list) else b[0]))
        return out

    def marginal_instance(self, arm_instance: str) -> str | None:
        """The ``marginal_over`` arm on ``arm_instance``'s platform (None without one)."""
        if self.marginal_over is None:
            return None
        if "@" in self.marginal_over:
            return self.marginal_over
        return f"{self.marginal_over}@{arm_instance.split('@')[1]}"


# --------------------------------------------------------------------------- arm instances

@dataclass(frozen=True)
class Group:
    """One resolved post group: tier, platform, partners, posts per partner, selection and timing."""

    tier: str
    platform: str
    creators: int
    posts: int
    select: str
    days: tuple[int, ...] | None
    schedule: tuple[int, int, int] | None
    variant_distance: float = 0.0

    def post_group(self) -> dict:
        """The scenario's ``posts`` entry."""
        out = {"tier": self.tier, "platform": self.platform, "creators": self.creators, "select": self.select,
               "variant_distance": self.variant_distance}
        if self.days is not None:
            out["days"] = list(self.days)
        else:
            assert self.schedule is not None  # built from an ArmPosts: days or a schedule
            out["schedule"] = dict(zip(("start", "every", "count"), self.schedule, strict=True))
        return out


@dataclass(frozen=True)
class Prices:
    """USD per post (platform -> tier) and per partner (tier) at a point, or under a named card."""

    per_post: dict[str, dict[str, float]]
    partnership: dict[str, float]

    def unit(self, tier: str, platform: str, posts: int) -> float:
        """What one partner of ``tier`` on ``platform`` posting ``posts`` times costs."""
        return self.per_post[platform][tier] * posts + self.partnership.get(tier, 0.0)


def platforms_of(platform: str) -> tuple[str, ...]:
    """The single platforms an instance platform stands for."""
    return SINGLE if platform == MIX else (platform,)


class Planner:
    """Resolves arm instances (``arm@platform``) into post groups and costs under given prices.

    Parameters
    ----------
    arms : dict of str to Arm
    prices : Prices
        The prices budget matching and costs use.
    """

    def __init__(self, arms: dict[str, Arm], prices: Prices) -> None:
        self.arms = arms
        self.prices = prices
        self._memo: dict[str, tuple[Group, ...]] = {}

    def groups(self, instance: str, _stack: tuple[str, ...] = ()) -> tuple[Group, ...]:
        """The post groups of ``arm@platform``.

        Raises
        ------
        ValueError
            On an unknown arm, a budget loop, or a budget that buys no partner.
        """
        if instance in self._memo:
            return self._memo[instance]
        if instance in _stack:
            raise ValueError(f"budget_of loop: {' -> '.join((*_stack, instance))}")
        name, platform = instance.split("@")
        if name not in self.arms:
            raise ValueError(f"unknown arm {name!r} (arms: {', '.join(self.arms)})")
        out = []
        for g in self.arms[name].posts:
            sched = None if g.schedule is None else (g.schedule.start, g.schedule.every, g.schedule.count)
            days = None if g.days is None else tuple(g.days)
            singles = platforms_of(platform)
            for k in singles:
                if g.creators is not None:
                    n = g.creators
                else:
                    budget = g.share * self._budget(g, platform, k, (*_stack, instance))
                    unit = self.prices.unit(g.tier, k, g.posts_per_partner)
                    # a budget that is an exact multiple of the price buys that many (not one fewer)
                    n = int(math.floor(budget / unit * (1 + 1e-12)))
                    if n < 1:
                        raise ValueError(f"{instance}: a budget of ${budget:,.0f} buys no {g.tier} partner on {k} "
                                         f"(${unit:,.0f} each)")
                out.append(Group(g.tier, k, n, g.posts_per_partner, g.select, days, sched, g.variant_distance))
        self._memo[instance] = tuple(out)
        return self._memo[instance]

    def _budget(self, spec: ArmPosts, platform: str, single: str, stack: tuple[str, ...] = ()) -> float:
        """The whole budget a budgeted group draws on, on the single platform ``single`` of ``platform``."""
        n = len(platforms_of(platform))
        if spec.budget is not None:
            return spec.budget / n
        ref = spec.budget_of
        assert ref is not None  # a budgeted group (no creators): validated to have budget or budget_of
        if "@" in ref:
            return self.cost(ref, stack) / n
        return sum(self._group_cost(r) for r in self.groups(f"{ref}@{platform}", stack)
                   if r.platform == single)

    def _group_cost(self, g: Group) -> float:
        return g.creators * self.prices.unit(g.tier, g.platform, g.posts)

    def cost(self, instance: str, _stack: tuple[str, ...] = ()) -> float:
        """USD an arm instance spends (posts at the planner's prices plus partnership costs)."""
        return sum(self._group_cost(g) for g in self.groups(instance, _stack))

    def budgets(self, instance: str) -> list[tuple[float, float, float]]:
        """``(budget, spent, one partner's price)`` of each budget-matched group of an instance (empty
        when none is): a matched group spends at most its budget and less than one partner below it."""
        name, platform = instance.split("@")
        singles = platforms_of(platform)
        specs = [p for p in self.arms[name].posts for _ in singles]
        out = []
        for spec, g in zip(specs, self.groups(instance), strict=True):
            if spec.creators is not None:
                continue
            budget = spec.share * self._budget(spec, platform, g.platform)
            out.append((budget, self._group_cost(g), self.prices.unit(g.tier, g.platform, g.posts)))
        return out


# --------------------------------------------------------------------------- derived features

_OPS: dict[type, Callable] = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                              ast.Div: operator.truediv}


_CALLS: dict[str, Callable] = {"min": np.minimum, "max": np.maximum}


def feature(expression: str, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Evaluate an arithmetic expression (names, numbers, + - * /, parentheses, ``min(a, b)`` and
    ``max(a, b)``) over named columns.

    Raises
    ------
    ValueError
        On anything else (other calls, attributes, unknown names), so a definition cannot run code.
    """
    def ev(node):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALLS
                and len(node.args) == 2 and not node.keywords):
            return _CALLS[node.func.id](ev(node.args[0]), ev(node.args[1]))
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in columns:
                raise ValueError(f"unknown name {node.id!r} (known: {', '.join(columns)})")
            return np.asarray(columns[node.id], dtype=np.float64)
        raise ValueError(f"only names, numbers, + - * / and parentheses are allowed, not {ast.dump(node)[:40]}")

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {exc.msg}") from None
    return ev(tree)


def names_in(expression: str) -> set[str]:
    """The column names an expression reads (empty if it does not parse)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in _CALLS}


# --------------------------------------------------------------------------- analyses

def _clip(v: float, lo: float, hi: float) -> float:
    return float(min(max(v, lo), hi))


def blocks(n_base: int, d: int) -> np.ndarray:
    """Row indices of the A and B blocks of SALib's Saltelli sample (no second order):
    each base row is A, AB_1 .. AB_D, B, so A and B are rows ``i (D + 2)`` and ``i (D + 2) + D + 1``."""
    i = np.arange(n_base) * (d + 2)
    return np.sort(np.concatenate([i, i + d + 1]))


def sobol_indices(y: np.ndarray, names: list[str], seed: int, resamples: int = 500) -> pd.DataFrame:
    """First-order and total Sobol indices of ``y`` over a Saltelli sample, with 95% bootstrap half-widths.

    Parameters
    ----------
    y : float64[N (D + 2)]
        The output at the sample's points, in SALib's order.
    names : list of str
        The D parameters.
    seed : int
        Of SALib's bootstrap (positive).

    Returns
    -------
    DataFrame
        ``parameter, S1, S1_conf, ST, ST_conf`` (``*_conf``: half-width of the 95% interval; NaN
        where the output does not vary).
    """
    from SALib.analyze import sobol

    y = np.asarray(y, dtype=np.float64)
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    if not np.isfinite(y).all() or np.ptp(y) == 0:
        nan = np.full(len(names), np.nan)
        return pd.DataFrame({"parameter": names, "S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        si = sobol.analyze(problem, y, calc_second_order=False, num_resamples=resamples, conf_level=0.95,
                           seed=seed)
    return pd.DataFrame({"parameter": names, "S1": si["S1"], "S1_conf": si["S1_conf"], "ST": si["ST"],
                         "ST_conf": si["ST_conf"]})


def share_holds(advantage: np.ndarray, rows: np.ndarray, level: float = 0.95) -> Estimate:
    """Share of the space where the log advantage is positive, Wilson interval over ``rows``."""
    a = np.asarray(advantage)[rows]
    return proportion_interval(int((a > 0).sum()), len(a), level)


@dataclass(frozen=True)
class Box:
    """A PRIM box: where the minority outcome of a comparison lies.

    Attributes
    ----------
    outcome : {"holds", "fails"}
        What the box describes (the rarer outcome).
    limits : list of (str, float or None, float or None, float)
        ``(feature, lower, upper, qp)`` per restricted dimension; None where the box is open on
        that side; qp: the restriction's quasi-p-value (EMA Workbench).
    coverage, density, mass : float
        Share of the outcome's points inside the box; share of the box's points with the
        outcome; share of all points inside.
    """

    outcome: str
    limits: tuple[tuple[str, float | None, float | None, float], ...]
    coverage: float
    density: float
    mass: float

    def text(self, fmt: Callable[[str, float], str] | None = None) -> str:
        """``mega_trust < 0.41 and tiktok_discovery > 0.62`` (restrictions with qp < 0.05)."""
        f = fmt or (lambda _name, v: f"{v:.3g}")
        parts = []
        for name, lo, hi, _qp in self.limits:
            if lo is not None and hi is not None:
                parts.append(f"{f(name, lo)} < {name} < {f(name, hi)}")
            elif lo is not None:
                parts.append(f"{name} > {f(name, lo)}")
            elif hi is not None:
                parts.append(f"{name} < {f(name, hi)}")
        return " and ".join(parts) if parts else "(no restriction)"


def conditions(x: pd.DataFrame, holds: np.ndarray, threshold: float = 0.8, mass_min: float = 0.05,
               significance: float = 0.05, max_dims: int = 3, min_trim: float = 0.1) -> Box | None:
    """Scenario discovery: PRIM's box around the rarer outcome (EMA Workbench ``prim``).

    Parameters
    ----------
    x : DataFrame
        Parameters and derived features of every point.
    holds : bool[points]
    threshold : float
        Density the box aims for; the box chosen is the one on the peeling trajectory, among those
        restricting at most ``max_dims`` dimensions, with the largest coverage among those at
        least this dense (the densest if none is). Few dimensions keep the box readable, the
        usual trade in scenario discovery (Bryant & Lempert 2010).
    mass_min : float
        Smallest share of points a box may hold.
    significance : float
        Restrictions with a quasi-p-value above it are left out of the description.
    max_dims : int
        Most dimensions a chosen box restricts.
    min_trim : float
        Restrictions that cut less than this share of a dimension's sampled range are left out
        of the description (peeling's small trims at the edges).

    Returns
    -------
    Box or None
        None when one outcome has fewer than 5 points (nothing to describe), or no restriction of
        the box is significant (no simple condition separates the outcomes).
    """
    holds = np.asarray(holds, dtype=bool)
    rare_is_holds = holds.mean() < 0.5
    y = holds if rare_is_holds else ~holds
    if y.sum() < 5 or (~y).sum() < 5:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        finder = prim.Prim(x.reset_index(drop=True), y, threshold=threshold, mass_min=mass_min)
        box = finder.find_box()
    traj = box.peeling_trajectory
    traj = traj[(traj.res_dim >= 1) & (traj.res_dim <= max_dims)] if (traj.res_dim.between(1, max_dims)).any() else traj
    dense = traj[traj.density >= threshold]
    pick = int(dense.loc[dense.coverage.idxmax(), "id"]) if len(dense) else int(traj.loc[traj.density.idxmax(), "id"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats, lims = box.inspect(pick, style="data")[0]
    limits = []
    lo_data, hi_data = x.min(), x.max()
    for name in lims.index:
        row = lims.loc[name]
        values = row.to_numpy()
        lo, hi = float(values[0]), float(values[1])
        qps = [float(v) for v in values[2:] if v == v]
        qp = min(qps) if qps else float("nan")
        if qp == qp and qp > significance:
            continue
        span = float(hi_data[name] - lo_data[name]) or 1.0
        if (min(hi, hi_data[name]) - max(lo, lo_data[name])) / span > 1 - min_trim:
            continue
        limits.append((str(name), None if lo <= lo_data[name] else lo, None if hi >= hi_data[name] else hi, qp))
    if not limits:
        return None
    return Box("holds" if rare_is_holds else "fails", tuple(limits), float(stats["coverage"]),
               float(stats["density"]), float(stats["mass"]))


def _logistic(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of P(y) = expit(b0 + b1 z) on standardised z, a tiny ridge keeping them finite
    when the classes are separated; returned on x's scale."""
    m, s = float(x.mean()), float(x.std()) or 1.0
    z = (x - m) / s

    def nll(b):
        eta = b[0] + b[1] * z
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 1e-3 * b[1] ** 2)

    def grad(b):
        p = special.expit(b[0] + b[1] * z)
        return np.array([np.sum(p - y), np.sum((p - y) * z) + 2e-3 * b[1]])

    res = optimize.minimize(nll, np.zeros(2), jac=grad, method="BFGS")
    b0, b1 = res.x
    return float(b0 - b1 * m / s), float(b1 / s)


def breakeven(x: np.ndarray, holds: np.ndarray, seed: int, resamples: int = 200,
              level: float = 0.95) -> Estimate | None:
    """The value of ``x`` at which the claim holds in half of the campaigns with that value.

    A logistic fit of ``holds`` on ``x`` (P = expit(b0 + b1 x), break-even -b0 / b1) over the
    space's independent points, with a percentile bootstrap interval over points. None when the
    fitted break-even lies outside the sampled range of ``x`` (the claim holds, or fails, at every
    value in it), the slope is not distinguishable from 0 (a bootstrap interval of the slope
    covering 0), or the interval spans the whole range.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(holds, dtype=np.float64)
    if y.min() == y.max() or np.ptp(x) == 0:
        return None
    b0, b1 = _logistic(x, y)
    rng = np.random.default_rng(seed)
    values: list[float] = []
    slopes: list[float] = []
    for _ in range(resamples):
        i = rng.integers(0, len(x), len(x))
        if y[i].min() == y[i].max():
            continue
        c0, c1 = _logistic(x[i], y[i])
        slopes.append(c1)
        values.append(-c0 / c1 if c1 != 0 else np.nan)
    slope_draws = np.asarray(slopes)
    q = (1 - level) / 2
    if not len(slope_draws) or (np.quantile(slope_draws, q) <= 0 <= np.quantile(slope_draws, 1 - q)):
        return None
    value = -b0 / b1
    if not x.min() <= value <= x.max():
        return None
    # a resample whose break-even falls outside the sampled range counts at that range's edge
    v = np.clip(np.nan_to_num(np.asarray(values), nan=value), x.min(), x.max())
    low, high = float(np.quantile(v, q)), float(np.quantile(v, 1 - q))
    if low <= x.min() and high >= x.max():
        return None  # the interval is the whole range: the data do not place the flip
    return Estimate(value, low, high)
