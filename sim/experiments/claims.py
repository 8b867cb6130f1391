"""The source article's claims, each with the conditions under which it holds in the model.

The source (JCI Worldwide blog, 2024; docs/calibration.md §1.2) makes claims about micro- and
nano-influencers against celebrities. Each is read as a comparison of two campaign arms
(:mod:`sim.experiments.audit`): a log-advantage ratio, positive where the claim holds, between
platform-matched and budget-matched arms (the swarm gets what the celebrity costs on each
platform). The audit evaluates every comparison over the **assumption space** of
``calibration/assumptions.yaml`` (every parameter no calibration identifies, with its range and
source, and the calibrated parameters drawn jointly from the fitted set's posterior, one factor of
the design): a Saltelli sample of ``N (F + 2)`` points over the F factors, each one scenario run
on common random numbers. Per comparison and platform it reports
the share of the space where the claim holds, Sobol indices of the log advantage, a PRIM box of
where the claim holds (or fails), and break-even values of its most influential parameters.

What is a check and what is not (docs/experiments.md, "Verification, validation, findings"):

* **verification** (gates CI): every budget-matched arm spends its budget to within one partner's
  price at every point; the audit's own cost accounting equals the runner's; every point ran.
* **findings** (never checks): each claim's verdict. ``supported`` where it holds in more than
  90% of the space (the Wilson interval's lower end), ``not supported`` where it holds in less
  than 10%, else ``depends on`` its most influential parameters; a claim stated as a share (the
  source's "56% of marketers") is set against that share's published range instead, and is not
  supported as stated when the model's share lies outside it; a claim stated as a ratio of a
  published size (Bradley-Terry's 1.50-2.03) gets its direction's verdict, then the same rule on
  the share of the space where the ratio lies within that size. No verdict can fail a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from matplotlib.figure import Figure
from pydantic import Field, model_validator

from sim.base.rng import Stream
from sim.campaign.rate_cards import RATE_CARDS
from sim.execution.evaluate import PointEvaluator
from sim.execution.prepare import prepare
from sim.experiments.assumptions import CALIBRATED, AssumptionError, Space, space
from sim.experiments.audit import (
    HALF,
    LOWER_IS_BETTER,
    Arm,
    Box,
    ComparisonSpec,
    Planner,
    Prices,
    blocks,
    breakeven,
    conditions,
    feature,
    names_in,
    share_holds,
    sobol_indices,
)
from sim.experiments.comparison import Check, Estimate, Finding, Kind, proportion_interval
from sim.experiments.report import Report, Steps, Workspace, pieces
from sim.experiments.schema import ExperimentSpec
from sim.experiments.seeds import replicate_seed
from sim.input import keypaths
from sim.input.design import Value, apply, design_seed
from sim.input.scenario import Scenario, load_scenario
from sim.input.schema import PositiveInt, Spec
from sim.input.sweep import MAX_POINTS

ROOT = Path(__file__).resolve().parents[2]
Label = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]

SUPPORTED, NOT_SUPPORTED, DEPENDS = "supported", "not supported", "depends on"
#: Scenario discovery looks at this many most influential parameters (total index), besides the
#: features a claim names.
SCOUT = 6
#: A claim is supported where it holds in more than this share of the space (the Wilson
#: interval's lower end), not supported where in less than 1 minus it.
WIDE = 0.9


class Parameters(Spec):
    """The base campaign, the assumption space, the arms and the comparisons.

    Attributes
    ----------
    scenario : str
        The base campaign (world, model, prices); its strategies are replaced by the arms.
    assumptions : str
        The assumption space (``calibration/assumptions.yaml``).
    fixed : dict
        Assumptions left at the base scenario's values, each with the reason.
    arms : dict of str to Arm
    claims : list of ComparisonSpec
    variants : dict of str to dict
        Scenario variants some arms or claims run in: each the point's scenario with more values
        written at their key paths, a value being a number, a mapping (a platform's ``shock``
        block) or an expression over the space's parameters (``min(reshare *
        participation_micro, 1)``; :func:`~sim.experiments.audit.feature`). Assumptions whose path
        starts with ``audit.`` are written nowhere else: variants and features read them by name.
    features : dict of str to str
        Derived quantities (arithmetic of parameter names) offered to scenario discovery and
        break-even besides the parameters, e.g. ``mega_trust * mega_authenticity / (micro_trust *
        micro_authenticity)``.
    targets : str
        The targets file claims with a ``target`` read their published range from.
    level : float
        Of every interval.
    density : float
        Density PRIM's box aims for.
    top : int
        Break-even values are reported for this many most influential parameters (total index)
        of each comparison, besides those it names.
    """

    scenario: str = "experiments/source_claims/campaigns.yaml"
    assumptions: str = "calibration/assumptions.yaml"
    fixed: dict[Label, Annotated[str, Field(min_length=5)]] = {}
    arms: dict[Label, Arm]
    claims: Annotated[list[ComparisonSpec], Field(min_length=1)]
    variants: dict[Label, dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")],
                               int | float | str | dict[str, int | float | str]]] = {}
    features: dict[Label, Annotated[str, Field(min_length=1, max_length=300)]] = {}
    targets: str = "calibration/targets.yaml"
    level: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    density: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.8
    top: Annotated[int, Field(ge=1, le=5)] = 2

    @model_validator(mode="after")
    def _consistent(self) -> Parameters:
        ids = [c.id for c in self.claims]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"claim ids must be distinct; repeated: {', '.join(dup)}")
        for c in self.claims:
            for ref in (*c.arms, *c.versuses, *([c.marginal_over] if c.marginal_over else [])):
                if ref.split("@")[0] not in self.arms:
                    raise ValueError(f"claim {c.id}: unknown arm {ref!r} (arms: {', '.join(self.arms)})")
            for v in c.over or ():
                if v not in self.variants:
                    raise ValueError(f"claim {c.id}: over names unknown variant {v!r} (variants: "
                                     f"{', '.join(self.variants) or 'none'})")
            if c.over and any(self.arms[r.split("@")[0]].scenario for r in (*c.arms, *c.versuses)):
                raise ValueError(f"claim {c.id}: an arm with its own scenario cannot also run over variants")
            if c.part_of is not None and c.part_of not in ids:
                raise ValueError(f"claim {c.id}: part_of names unknown claim {c.part_of!r}")
        for name, arm in self.arms.items():
            if arm.scenario is not None and arm.scenario not in self.variants:
                raise ValueError(f"arm {name}: scenario names unknown variant {arm.scenario!r} (variants: "
                                 f"{', '.join(self.variants) or 'none'})")
        for name, arm in self.arms.items():
            for g in arm.posts:
                if g.budget_of is not None and g.budget_of.split("@")[0] not in self.arms:
                    raise ValueError(f"arm {name}: budget_of names unknown arm {g.budget_of!r}")
        return self


class Sizes(Spec):
    """How big: Saltelli base sample N (a power of two), trials per point, the audience, workers.

    Attributes
    ----------
    base_samples : int
        N; the sample has N (D + 2) points.
    trials : int
        Trials per point (every point on the same root seed).
    audience : int, optional
        Simulated audience accounts (``world.audience.peers.n``) and ``communities`` their groups.
    replicate_worlds : int
        Further worlds (root seeds) on which the sample's A block is run again, to show how far a
        point's outcome depends on which creators the world happens to have.
    batch : int
        Points per finished piece (a killed run resumes from the last).
    workers : int
        Points run at once (threads; the kernel releases the GIL).
    """

    base_samples: Annotated[int, Field(ge=2, le=MAX_POINTS)]  # a sweep's limit; N (D + 2) is checked too
    trials: PositiveInt
    audience: PositiveInt | None = None
    communities: PositiveInt | None = None
    replicate_worlds: Annotated[int, Field(ge=0, le=4)] = 0
    batch: PositiveInt = 64
    workers: PositiveInt = 2

    @model_validator(mode="after")
    def _power_of_two(self) -> Sizes:
        if self.base_samples & (self.base_samples - 1):
            raise ValueError(f"base_samples must be a power of two (Saltelli's scheme), got {self.base_samples}")
        return self

    def points(self, factors: int) -> int:
        """Points run over ``factors`` design factors (parameters, the calibrated ones drawn jointly
        counting as one): the sample's N (F + 2), and N more per replicate world."""
        return self.base_samples * (factors + 2 + self.replicate_worlds)


class Definition(ExperimentSpec):
    """Claims-audit definition."""

    experiment: Literal["claims"]
    parameters: Parameters
    full: Sizes
    quick: Sizes


# --------------------------------------------------------------------------- inputs

def _path(name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() or p.exists() else ROOT / p


@lru_cache(maxsize=4)
def _base(path: str) -> Scenario:
    return load_scenario(_path(path))


def _tiers_platforms(p: Parameters) -> tuple[set[str], set[str]]:
    tiers: set[str] = {g.tier for arm in p.arms.values() for g in arm.posts}
    platforms = {"instagram", "tiktok"}
    return tiers, platforms


#: First key of an assumption's path that the audit reads by name and writes into no scenario
#: (a platform shock's size, a tier's re-share multiplier): variants and features use it.
AUDIT = "audit"


def _variant_names(p: Parameters) -> set[str]:
    """Parameter names the variants' expressions read."""
    out: set[str] = set()
    for values in p.variants.values():
        for v in values.values():
            for x in (v.values() if isinstance(v, dict) else [v]):
                if isinstance(x, str):
                    out |= names_in(x)
    return out


def relevant(p: Parameters, full: Space) -> tuple[Space, dict[str, str]]:
    """The dimensions the arms can read, and every left-out one with the reason."""
    tiers, platforms = _tiers_platforms(p)
    used = _variant_names(p) | {n for e in p.features.values() for n in names_in(e)}
    keep, left = [], {}
    for d in full.dimensions:
        k = d.keys
        if d.name in p.fixed:
            left[d.name] = p.fixed[d.name]
        elif k[0] == AUDIT and d.name not in used:
            left[d.name] = "no variant or feature of the audit reads it"
        elif k[:2] == ("world", "tiers") and k[2] not in tiers:
            left[d.name] = f"no arm uses {k[2]} creators"
        elif k[0] == "partnership_cost" and k[1] not in tiers:
            left[d.name] = f"no arm uses {k[1]} creators"
        elif k[0] == "rate_card" and (k[1] not in platforms or k[2] not in tiers):
            left[d.name] = f"no arm posts {k[2]} on {k[1]}"
        else:
            keep.append(d.name)
    return full.subset(keep), left


def workspace_key(spec: Definition, sizes: Sizes) -> str:
    """What a run's finished points depend on: the files, seed, sizes, arms and what each claim compares
    (not its wording), so that rewording a claim reuses them."""
    import hashlib
    import json

    p = spec.parameters
    files = {}
    for name in (p.scenario, p.assumptions):
        files[name] = hashlib.sha256(_path(name).read_bytes()).hexdigest()
    try:
        full = space(p.assumptions)
        files["fitted"] = hashlib.sha256(full.fitted_set.read_bytes()).hexdigest()
        if full.posterior is not None:
            files["posterior"] = hashlib.sha256(full.posterior.path.read_bytes()).hexdigest()
    except AssumptionError:
        files["fitted"] = ""
    claims = [c.model_dump(mode="json", include={"id", "quantity", "arm", "versus", "platforms", "card",
                                                         "marginal_over", "over", "aggregate"})
              for c in p.claims]
    return json.dumps({"seed": spec.seed, "sizes": sizes.model_dump(mode="json", exclude={"workers"}), "files": files,
                       "fixed": sorted(p.fixed), "arms": {k: v.model_dump(mode="json") for k, v in p.arms.items()},
                       "variants": p.variants,
                       "claims": claims}, sort_keys=True)


def input_problems(spec: Definition) -> list[str]:
    """Problems with the files the definition names (assumptions, scenario, targets), before anything runs."""
    p = spec.parameters
    problems = []
    try:
        full = space(p.assumptions)
    except AssumptionError as exc:
        return list(exc.problems)
    unknown = sorted(set(p.fixed) - set(full.names))
    if unknown:
        problems.append(f"parameters.fixed: {', '.join(unknown)} not in {p.assumptions} (has {', '.join(full.names)})")
    d = len(relevant(p, full)[0].factors)
    for which in ("full", "quick"):
        sizes = getattr(spec, which)
        if sizes.points(d) > MAX_POINTS:  # before the sample is drawn: a sweep's limit
            problems.append(f"{which}.base_samples: {sizes.base_samples:,} x ({d} factors + 2"
                            f"{f' + {sizes.replicate_worlds} replicate worlds' if sizes.replicate_worlds else ''}) "
                            f"= {sizes.points(d):,} points; at most {MAX_POINTS:,} are run")
    names = set(full.names)
    for name, expr in p.features.items():
        try:
            feature(expr, {n: np.ones(1) for n in names})
        except ValueError as exc:
            problems.append(f"parameters.features.{name}: {exc}")
    known = names | set(p.features)
    for i, c in enumerate(p.claims):
        bad = [b for b in c.breakeven if b not in known]
        if bad:
            problems.append(f"parameters.claims.{i}.breakeven: {', '.join(bad)} is neither a parameter nor a feature")
    if any(c.target for c in p.claims):
        from sim.calibration.targets import TargetsError, load_targets

        try:
            targets = {t.name for t in load_targets(_path(p.targets)).items}
        except (TargetsError, OSError) as exc:
            problems.append(f"parameters.targets: {exc}")
        else:
            for i, c in enumerate(p.claims):
                if c.target and c.target not in targets:
                    problems.append(f"parameters.claims.{i}.target: {c.target} is not a target of {p.targets}")
    try:
        base = _base(p.scenario)
    except Exception as exc:  # noqa: BLE001 -- reported as an input problem, whatever went wrong
        problems.append(f"parameters.scenario: {exc}")
    else:
        dims = relevant(p, full)[0]
        problems += unwritable(base, dims, full.source, p.scenario)
        problems += unwritable_variants(p, base, dims)
    return problems


def variant_values(p: Parameters, name: str, columns: dict[str, float]) -> dict[tuple[str, ...], object]:
    """Variant ``name``'s values at a point (``columns``: the point's parameter values by name), by key path."""
    def value(v):
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, str):
            return float(feature(v, {n: np.asarray(x) for n, x in columns.items()}))
        return v

    return {keypaths.split(path): value(v) for path, v in p.variants[name].items()}


def unwritable_variants(p: Parameters, base, dims: Space) -> list[str]:
    """Variants whose expressions name unknown parameters, or whose values the scenario refuses at either
    corner of the space, one line each (``parameters.variants.NAME: problem``)."""
    out = []
    corners = [dims.values(np.full((1, len(dims.factors)), u))[0] for u in (0.0, 1.0)]
    for name in p.variants:
        for corner in corners:
            columns = dict(zip(dims.names, map(float, corner), strict=True))
            try:
                values = variant_values(p, name, columns)
                over = _written(dims, corner, base)
                apply(base, {**over, **values})
            except (ValueError, KeyError, TypeError) as exc:
                out.append(f"parameters.variants.{name}: {exc}")
                break
    return out


def unwritable(base, dims: Space, source: Path, scenario: str) -> list[str]:
    """Dimensions whose range the base scenario cannot take: a path its schema does not have, or an end
    of the range it refuses, as ``assumptions.yaml:LINE: assumptions.I.path: problem`` (one line per
    dimension). Both ends of every dimension are written at once first (two validations when all is
    well), so a range the schema refuses is found before any point runs."""
    data = base.model_dump(mode="python")
    # Both corners of the factors' unit cube: a jointly drawn (calibrated) group's column picks a
    # whole posterior draw, so its members are written as a draw, never one by one.
    corners = {u: dims.values(np.full((1, len(dims.factors)), u))[0] for u in (0.0, 1.0)}
    column = {d.name: i for i, d in enumerate(dims.dimensions)}

    def written(d, u: float) -> dict:
        if d.keys[0] == AUDIT:
            return {}  # read by the audit's variants, written into no scenario
        v = float(corners[u][column[d.name]])
        return {d.keys: v / float(keypaths.get(data, keypaths.split(d.per))) if d.per is not None else v}

    def refused(items) -> str | None:
        try:
            apply(base, {k: v for d, u in items for k, v in written(d, u).items()})
        except (ValueError, KeyError, TypeError) as exc:
            return str(exc)
        return None

    if refused([(d, 0.0) for d in dims.dimensions]) is None and refused([(d, 1.0) for d in dims.dimensions]) is None:
        return []
    from sim.experiments.assumptions import AssumptionError
    from sim.input.strict import read_document

    doc = read_document(source, AssumptionError)
    index = {a.get("name"): i for i, a in enumerate(doc.data.get("assumptions") or []) if isinstance(a, dict)}
    out = []
    for d in dims.dimensions:
        for u in (0.0, 1.0):
            end = float(corners[u][column[d.name]])
            why = refused([(d, u)])
            if why is None:
                continue
            where, line = f"fitted: {d.name}", doc.lines.get(("fitted",), 1)
            if d.name in index:
                at = ("assumptions", index[d.name], "path")
                where, line = keypaths.dotted(at), doc.lines.get(at, 1)
            out.append(f"{source}:{line}: {where}: {d.path} = {end:g} is refused by {scenario} ({why})")
            break
    return out


def _target(p: Parameters, name: str):
    from sim.calibration.targets import load_targets

    return {t.name: t for t in load_targets(_path(p.targets)).items}[name]


# --------------------------------------------------------------------------- one point

@dataclass(frozen=True)
class Context:
    """What every point of a run shares."""

    spec: Definition
    sizes: Sizes
    dims: Space
    base: Scenario  # at the run's sizes
    instances: tuple[Key, ...]  # (arm@platform, card, variant) triples every point needs

    @property
    def readings(self) -> list[tuple[ComparisonSpec, str, str | tuple[str, ...], str | tuple[str, ...]]]:
        """``(claim, platform label, arm instance(s), versus instance(s))`` of every reading."""
        return [(c, label, a, b) for c in self.spec.parameters.claims for label, a, b in c.readings()]


#: An arm instance as run: ``(arm@platform, rate card or None, scenario variant or None)``.
Key = tuple[str, str | None, str | None]


def column(claim: str, label: str) -> str:
    """The points table's column of one reading's log advantage."""
    return f"{claim}|{label}"


def _tuple(x: str | tuple[str, ...]) -> tuple[str, ...]:
    return x if isinstance(x, tuple) else (x,)


def keys_of(p: Parameters, c: ComparisonSpec, instance: str) -> list[Key]:
    """The runs one arm instance of a claim needs: one per variant the claim runs over, or one in the
    arm's own variant (None: the point's scenario)."""
    if c.over:
        return [(instance, c.card, v) for v in c.over]
    return [(instance, c.card, p.arms[instance.split("@")[0]].scenario)]


def context(spec: Definition, sizes: Sizes) -> Context:
    """The run's shared inputs: the relevant dimensions and the base scenario at these sizes."""
    p = spec.parameters
    dims, _ = relevant(p, space(p.assumptions))
    base = _base(p.scenario)
    values: dict[tuple[str, ...], Value] = {("trials",): sizes.trials}
    if sizes.audience is not None:
        values[("world", "audience", "peers", "n")] = sizes.audience
    if sizes.communities is not None:
        values[("world", "audience", "peers", "count")] = sizes.communities
    base, _ = apply(base, values)
    needed: list[Key] = []
    for c in p.claims:
        for _label, a, b in c.readings():
            insts = [*_tuple(a), *_tuple(b)]
            if c.marginal_over is not None:
                marginal = c.marginal_instance(_tuple(a)[0])
                assert marginal is not None  # there is one with marginal_over
                insts.append(marginal)
            for inst in insts:
                for key in keys_of(p, c, inst):
                    if key not in needed:
                        needed.append(key)
    return Context(spec, sizes, dims, base, tuple(needed))


def prices_at(ctx: Context, overrides: dict[tuple[str, ...], float], card: str | None) -> Prices:
    """The point's prices (its rate card and partnership costs), or ``card``'s posts with the point's fees."""
    rate_card = ctx.base.rate_card
    assert rate_card is not None  # the claims' base scenario prices posts by a rate card
    per_post: dict[str, dict[str, float]] = {k: {t: x for t, x in v.items()} for k, v in rate_card.items()}
    fees: dict[str, float] = {t: x for t, x in ctx.base.partnership_cost.items()}
    for keys, v in overrides.items():
        if keys[0] == "rate_card":
            per_post[keys[1]][keys[2]] = float(v)
        elif keys[0] == "partnership_cost":
            fees[keys[1]] = float(v)
    if card is not None:
        per_post = RATE_CARDS[card].as_dict()
    return Prices(per_post, fees)


def _written(dims: Space, values: np.ndarray, base) -> dict[tuple[str, ...], float]:
    data = base.model_dump(mode="python")
    out = {}
    for d, v in zip(dims.dimensions, values, strict=True):
        if d.keys[0] == AUDIT:
            continue  # read by name (variants, features), written nowhere
        v = float(v)
        if d.per is not None:
            v = v / float(keypaths.get(data, keypaths.split(d.per)))
        out[d.keys] = v
    return out


def overrides_at(ctx: Context, values: np.ndarray) -> dict[tuple[str, ...], float]:
    """The point's values at their scenario paths (divided by ``per`` where given); ``audit.*``
    parameters are left out (variants read them by name)."""
    return _written(ctx.dims, values, ctx.base)


def plan(ctx: Context, values: np.ndarray) -> tuple[dict, dict[str | None, list[dict]], dict[Key, dict]]:
    """The point's overrides, strategies per scenario variant (None: the point's own scenario), and per
    arm instance as run its strategy name, cost and budget.

    Raises
    ------
    ValueError
        If an arm's budget buys no partner at this point.
    """
    over = overrides_at(ctx, values)
    planners: dict[str | None, Planner] = {}
    strategies: dict[str | None, dict[tuple, str]] = {}
    info: dict[Key, dict] = {}
    for inst, card, variant in ctx.instances:
        planner = planners.setdefault(card, Planner(ctx.spec.parameters.arms, prices_at(ctx, over, card)))
        groups = planner.groups(inst)
        mine = strategies.setdefault(variant, {})
        name = mine.setdefault(tuple(groups), f"s{len(mine)}")
        info[(inst, card, variant)] = {"strategy": name, "cost": planner.cost(inst), "budgets": planner.budgets(inst)}
    posts = {v: [{"name": name, "posts": [g.post_group() for g in key]} for key, name in mine.items()]
             for v, mine in strategies.items()}
    return over, posts, info


def scenario_at(ctx: Context, values: np.ndarray, over: dict, variant: str | None, posts: list[dict], seed: int):
    """The scenario a point runs in one variant: its values, the variant's, the strategies and the seed."""
    extra = {}
    if variant is not None:
        extra = variant_values(ctx.spec.parameters, variant, dict(zip(ctx.dims.names, map(float, values), strict=True)))
    scenario, _ = apply(ctx.base, {**over, **extra, ("strategies",): posts, ("seed",): seed})
    return scenario


def _best(values: list[float], lower_is_better: bool) -> float:
    return min(values) if lower_is_better else max(values)


def arm_quantity(q: dict[Key, dict[str, float]], raw: dict[Key, dict[str, float]], keys: list[Key], quantity: str,
                 aggregate: str, marginal: str | None, floor: float) -> float:
    """One arm instance's quantity at a point from its runs ``keys`` (one per variant it runs in).

    ``q``: each run's quantities (adopters, reach and engagements floored at ``floor``); ``raw``: each
    run's cost and unfloored adopters. With ``marginal`` (another arm instance, run in the same
    variants) the quantity is what the arm adds over it: extra cost over extra adopters
    (``cost_per_adopter``) or extra adopters, the extra adopters floored at ``floor``. Over several
    variants the runs' quantities are combined: ``worst`` (the fewest adopters, the highest cost)
    or ``mean``.
    """
    lower = quantity in LOWER_IS_BETTER
    per = []
    for key in keys:
        if marginal is None:
            per.append(q[key][quantity])
            continue
        base = (marginal, key[1], key[2])
        extra = max(raw[key]["adopters"] - raw[base]["adopters"], floor)
        per.append((raw[key]["cost"] - raw[base]["cost"]) / extra if quantity == "cost_per_adopter" else extra)
    if len(per) == 1:
        return per[0]
    if aggregate == "worst":
        return max(per) if lower else min(per)
    return float(np.mean(per))


def budget_gap(a: dict, b: dict) -> float:
    """How far two arm instances' costs differ beyond what budget matching allows (USD; <= 0 when they are
    matched): |cost a - cost b| less one partner's price of every budget-matched group of either
    (each spends its budget to within one partner). ``-inf`` where neither has a budgeted group (arms
    of fixed partner counts, compared as they are)."""
    units = [u for _, _, u in a["budgets"]] + [u for _, _, u in b["budgets"]]
    if not units:
        return -math.inf
    return abs(a["cost"] - b["cost"]) - sum(units)


def _followers_in_audience(ev, strategy: str) -> float:
    """Real followers of a strategy's partners who are in the modelled audience: each creator's followers
    times its tier's ``audience_share``, or its simulated followers times the scale where the world capped
    them at its platform's audience (a celebrity's worldwide followers are not the audience its
    engagements are counted in)."""
    pop = ev.point.world.population
    world = ev.point.scenario.world
    chosen = ev.plan(strategy).partner_creator
    share = np.array([world.tiers[t].audience_share for t in pop.tiers])[pop.creator_tier[chosen]]
    wanted = pop.followers_real[chosen] * share
    return float(np.minimum(wanted, pop.followers_sim[chosen] * world.scale + world.scale / 2).sum())


def evaluate_point(ctx: Context, values: np.ndarray, seed: int, evaluator: PointEvaluator | None = None) -> dict:
    """Run one point: every arm instance in every scenario variant it needs, then every reading's log advantage.

    Each variant's scenario runs all its trials through ``evaluator`` (the run stage's
    :class:`~sim.execution.evaluate.PointEvaluator`: the tables :func:`sim.api.run` would give,
    tested), which keeps the worlds it builds: points (and variants) that differ only in what the
    world builder does not read (the model, trust, reach, shocks, prices: most of a Saltelli
    block's rows) share one.

    Parameters
    ----------
    evaluator : PointEvaluator, optional
        Shared by the points of a group (one thread); default: a new one for this point.

    Returns
    -------
    dict
        ``column(claim, platform)`` -> log advantage, and the point's verification numbers:
        ``budget_excess`` (most any budget-matched group spends above its budget, USD; <= 0),
        ``budget_slack`` (most any leaves unspent, in units of one of its partners' price; < 1),
        ``cost_gap`` (largest |audit cost - runner cost| of arms priced at the point's card), and
        ``floored`` (arm instances whose mean adopters were raised to half an adopter; reach and
        engagements are floored the same way, uncounted).
    """
    over, posts, info = plan(ctx, values)
    ev = evaluator or PointEvaluator()
    means: dict[str | None, pd.DataFrame] = {}
    followers: dict[str | None, dict[str, float]] = {}
    for variant, strategies in posts.items():
        out_ = ev.evaluate(scenario_at(ctx, values, over, variant, strategies, seed))
        table = pa.concat_tables([t.runs for t in out_.tables.values()]).to_pandas()
        # strategy as strings, as in Results.table: pandas sums a categorical key's groups in another
        # order, which moves the means in their last bits
        table["strategy"] = table["strategy"].astype("string")
        means[variant] = table.groupby("strategy", observed=True)[
            ["cost", "reach", "engagements", "adopted", "adopters_direct"]].mean()
        followers[variant] = {name: _followers_in_audience(out_, name) for name in out_.tables}
    trials = ctx.sizes.trials
    floor = HALF / trials
    q: dict[Key, dict[str, float]] = {}
    raw: dict[Key, dict[str, float]] = {}
    excess, slack, gap, floored = -math.inf, 0.0, 0.0, 0
    for key, meta in info.items():
        inst, card, variant = key
        m = means[variant].loc[meta["strategy"]]
        adopted = float(m["adopted"])
        if adopted < floor:
            adopted, floored = floor, floored + 1
        reach = max(float(m["reach"]), floor)
        # an arm whose partners engage nobody (a creator drawn near zero engagement by
        # world.dispersion.engagement, in a small world) is taken to have half an engagement, as adopters
        engagements = max(float(m["engagements"]), floor)
        direct = max(float(m["adopters_direct"]), floor)
        cost = meta["cost"]
        if card is None:
            gap = max(gap, abs(cost - float(m["cost"])))
        for budget, spent, unit in meta["budgets"]:
            excess = max(excess, spent - budget)
            slack = max(slack, (budget - spent) / unit)
        raw[key] = {"cost": cost, "adopters": float(m["adopted"])}
        q[key] = {"cost_per_adopter": cost / adopted, "actions_per_reached": adopted / reach,
                  "engagements_per_follower": engagements / float(followers[variant][meta["strategy"]]),
                  "adopters": adopted, "reach": reach, "cost_per_engagement": cost / engagements,
                  "reshare_multiplier": adopted / direct}
    out = {"budget_excess": excess if excess > -math.inf else 0.0, "budget_slack": slack, "cost_gap": gap,
           "floored": floored}
    p = ctx.spec.parameters
    unequal = -math.inf
    for c, label, a, b in ctx.readings:
        lower = c.quantity in LOWER_IS_BETTER
        qa = _best([arm_quantity(q, raw, keys_of(p, c, i), c.quantity, c.aggregate, c.marginal_instance(i), floor)
                    for i in _tuple(a)], lower)
        qb = _best([arm_quantity(q, raw, keys_of(p, c, i), c.quantity, c.aggregate, None, floor)
                    for i in _tuple(b)], lower)
        out[column(c.id, label)] = math.log(qb / qa) if lower else math.log(qa / qb)
        for i in _tuple(a):
            for j in _tuple(b):
                unequal = max(unequal, budget_gap(info[keys_of(p, c, i)[0]], info[keys_of(p, c, j)[0]]))
    out["budget_unequal"] = unequal if unequal > -math.inf else 0.0
    for (inst, card, variant), v in q.items():
        tag = f"{inst}{'|' + card if card else ''}{'|' + variant if variant else ''}"
        out[f"adopters|{tag}"] = v["adopters"]
    return out


# --------------------------------------------------------------------------- the run

def sample(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Saltelli's sample in the factors' unit cube (SALib, scrambled Sobol' sequence; stream DESIGN) and
    the parameters' values there (float64[N (F + 2), D]: a group's coordinate picks a posterior draw)."""
    from SALib.sample import sobol

    d = len(ctx.dims.factors)
    problem = {"num_vars": d, "names": ctx.dims.factors, "bounds": [[0.0, 1.0]] * d}
    unit = sobol.sample(problem, ctx.sizes.base_samples, calc_second_order=False, scramble=True,
                        seed=design_seed(ctx.spec.seed))
    return unit, ctx.dims.values(unit)


def world_seed(spec: Definition, world: int) -> int:
    """Root seed of world ``world`` (stream CLAIMS); every point of a world shares it."""
    return replicate_seed(spec.seed, int(Stream.CLAIMS), world)


def groups(rows: np.ndarray, block: int, workers: int) -> list[np.ndarray]:
    """``rows`` cut into runs of consecutive rows of one Saltelli block (``block`` = D + 2 rows), each
    at most ``ceil(block / workers)`` long, so that every worker gets a share of a block.

    A group's points run in one thread on one :class:`PointEvaluator`: a block's A row and its
    AB_j rows for the parameters the world builder does not read build one world between them.
    """
    size = max(1, math.ceil(block / workers))
    out: list[list[int]] = []
    for r in map(int, rows):
        last = out[-1][-1] if out else None
        if last is None or r != last + 1 or r // block != last // block or len(out[-1]) >= size:
            out.append([r])
        else:
            out[-1].append(r)
    return [np.asarray(g) for g in out]


def _batch(ctx: Context, values: np.ndarray, rows: np.ndarray, world: int) -> pd.DataFrame:
    seed = world_seed(ctx.spec, world)

    def work(group: np.ndarray) -> list[dict]:
        evaluator = PointEvaluator()  # its worlds are dropped with the group
        return [evaluate_point(ctx, values[i], seed, evaluator) for i in group]

    parts = groups(rows, len(ctx.dims.factors) + 2, ctx.sizes.workers)
    if ctx.sizes.workers > 1:
        with ThreadPoolExecutor(ctx.sizes.workers) as pool:
            results = [r for done in pool.map(work, parts) for r in done]
    else:
        results = [r for g in parts for r in work(g)]
    return pd.DataFrame(results).assign(point=rows, world=world)


def check_pools(ctx: Context, values: np.ndarray) -> list[str]:
    """Arm instances at some point of the sample that would hire more creators than the world has."""
    prep = prepare(ctx.base)
    pop = prep.world.population
    assert pop is not None  # the claims' base scenario is a campaign (creator_audience) world
    pool: dict[tuple[str, str], int] = {}
    for t, tier in enumerate(pop.tiers):
        for k, platform in enumerate(pop.platforms):
            pool[(tier, platform)] = int(((pop.creator_tier == t) & (pop.creator_platform == k)).sum())
    worst: dict[tuple[str, str], tuple[int, int]] = {}
    problems = []
    for i in range(len(values)):
        try:
            _over, posts, _info = plan(ctx, values[i])
        except ValueError as exc:
            problems.append(f"point {i}: {exc}")
            continue
        for s in (x for strategies in posts.values() for x in strategies):
            for g in s["posts"]:
                key = (g["tier"], g["platform"])
                if g["creators"] > worst.get(key, (0, -1))[0]:
                    worst[key] = (g["creators"], i)
    for key, (n, i) in sorted(worst.items()):
        if n > pool.get(key, 0):
            problems.append(f"{ctx.spec.parameters.scenario}: world.tiers.{key[0]}: point {i} hires {n} {key[0]} "
                            f"creators on {key[1]}, the world has {pool.get(key, 0)}: raise the tier's count")
    return problems[:10]


def run_points(ctx: Context, ws: Workspace, steps: Steps) -> tuple[np.ndarray, pd.DataFrame]:
    """Every point of the sample (and the A block on the replicate worlds), in resumable batches."""
    unit, values = sample(ctx)
    problems = check_pools(ctx, values)
    if problems:
        raise ValueError("the base campaign cannot run every point of the space:\n" + "\n".join(problems))
    n = len(values)
    a_rows = np.arange(ctx.sizes.base_samples) * (len(ctx.dims.factors) + 2)
    units: dict[str, Callable[[], pd.DataFrame]] = {}
    for b0 in range(0, n, ctx.sizes.batch):
        rows = np.arange(b0, min(b0 + ctx.sizes.batch, n))
        units[f"w0_{b0}"] = partial(_batch, ctx, values, rows, 0)
    for w in range(1, ctx.sizes.replicate_worlds + 1):
        for b0 in range(0, len(a_rows), ctx.sizes.batch):
            rows = a_rows[b0:b0 + ctx.sizes.batch]
            units[f"w{w}_{b0}"] = partial(_batch, ctx, values, rows, w)
    return values, pieces(ws, steps, units)


# --------------------------------------------------------------------------- analysis

@dataclass(frozen=True)
class Reading:
    """One comparison on one platform: what the audit concludes."""

    claim: ComparisonSpec
    platform: str
    share: Estimate
    median_ratio: Estimate
    indices: pd.DataFrame
    box: Box | None
    breakevens: tuple[tuple[str, Estimate | None], ...]
    verdict: str
    agreement: float
    target: tuple[float, float] | None
    in_target: float


def _median(x: np.ndarray, level: float) -> Estimate:
    from scipy import stats

    v = np.sort(np.asarray(x, dtype=np.float64))
    med = float(np.median(v))
    if len(v) < 3:
        return Estimate(med, float(v.min()), float(v.max()))
    ci = stats.quantile_test(v, q=med, p=0.5).confidence_interval(confidence_level=level)
    lo, hi = float(ci.low), float(ci.high)
    return Estimate(med, lo if math.isfinite(lo) else float(v.min()), hi if math.isfinite(hi) else float(v.max()))


def _verdict(c: ComparisonSpec, share: Estimate, indices: pd.DataFrame, target,
             in_target: Estimate | None = None) -> str:
    """A reading's verdict (a finding). A share claim is set against its published share; a ratio
    claim with a published size (``in_target``: the share of the space where the advantage ratio
    lies within it) gets its direction's verdict and then the size's, by the same 90% / 10% rule."""
    if c.compare == "share" and target is not None:
        lo, hi = target
        shown = f"holds in {share.value:.0%} ({share.low:.0%}-{share.high:.0%}) of the space"
        if share.high >= lo and share.low <= hi:
            return f"{SUPPORTED} as stated: {shown}, consistent with the published {lo:.0%}-{hi:.0%}"
        side = "more" if share.low > hi else "less"
        return f"{NOT_SUPPORTED} as stated: {shown}, {side} than the published {lo:.0%}-{hi:.0%}"
    if share.low > WIDE:
        direction = SUPPORTED
    elif share.high < 1 - WIDE:
        direction = NOT_SUPPORTED
    else:
        top = indices.sort_values("ST", ascending=False).parameter.head(2).tolist()
        direction = f"{DEPENDS} {' and '.join('the calibrated parameters' if t == CALIBRATED else t for t in top)}"
    if c.compare != "ratio" or target is None or in_target is None:
        return direction
    lo, hi = target
    shown = (f"the ratio lies within the published {lo:g}-{hi:g} in {in_target.value:.0%} "
             f"({in_target.low:.0%}-{in_target.high:.0%}) of the space")
    if in_target.low > WIDE:
        return f"{direction} in direction; {SUPPORTED} as stated: {shown}"
    if in_target.high < 1 - WIDE:
        return f"{direction} in direction; {NOT_SUPPORTED} as stated: {shown}"
    return f"{direction} in direction; as stated, {shown}"


def analyse(ctx: Context, values: np.ndarray, frame: pd.DataFrame) -> list[Reading]:
    """Every reading's share, indices, conditions, break-evens and verdict."""
    p = ctx.spec.parameters
    names = ctx.dims.names
    factors = ctx.dims.factors
    d = len(factors)
    main = frame[frame.world == 0].sort_values("point")
    rows = blocks(ctx.sizes.base_samples, d)
    cols = {n: values[:, i] for i, n in enumerate(names)}
    feats = {n: feature(e, cols) for n, e in p.features.items()}
    x = pd.DataFrame({**cols, **feats})
    seed = design_seed(ctx.spec.seed) + 1
    out = []
    for c, label, _a, _b in ctx.readings:
        y = main[column(c.id, label)].to_numpy(np.float64)
        holds = y > 0
        share = share_holds(y, rows, p.level)
        idx = sobol_indices(y, factors, seed)
        # scenario discovery over the most influential factors (a group: all its parameters) and the
        # claim's named features
        top = idx.dropna().sort_values("ST", ascending=False).parameter.head(SCOUT).tolist()
        scout = list(dict.fromkeys([*(m for f in top for m in ctx.dims.members(f)), *c.breakeven]))
        box = conditions(x[scout], holds, threshold=p.density)
        ranked = idx.dropna().sort_values("ST", ascending=False).parameter.head(p.top).tolist()
        ranked = [_representative(ctx.dims, f, x, y, rows) for f in ranked]
        wanted = list(dict.fromkeys([*ranked, *c.breakeven]))
        bes = tuple((n, breakeven(x[n].to_numpy()[rows], holds[rows], seed)) for n in wanted)
        target = None
        in_target = float("nan")
        size: Estimate | None = None
        if c.target:
            t = _target(p, c.target)
            target = (t.range[0], t.range[1] if t.range[1] is not None else math.inf)
            if c.compare == "ratio":
                ratio = np.exp(y[rows])
                inside = (ratio >= target[0]) & (ratio <= target[1])
                in_target = float(inside.mean())
                size = proportion_interval(int(inside.sum()), len(inside), p.level)
        agree = float("nan")
        reps = frame[frame.world > 0]
        if len(reps):
            a_rows = np.arange(ctx.sizes.base_samples) * (d + 2)
            base_holds = pd.Series(holds, index=main.point.to_numpy())
            same = [((g.set_index("point")[column(c.id, label)] > 0) == base_holds.loc[g.point.to_numpy()].to_numpy())
                    .mean() for _, g in reps.groupby("world")]
            agree = float(np.mean(same)) if same and len(a_rows) else float("nan")
        out.append(Reading(c, label, share, _median(np.exp(y[rows]), p.level), idx, box, bes,
                           _verdict(c, share, idx, target, size), agree, target, in_target))
    return out


def _representative(dims: Space, factor: str, x: pd.DataFrame, y: np.ndarray, rows: np.ndarray) -> str:
    """A factor's parameter for a break-even value: itself, or the member of a group whose values are
    the most rank-correlated with the log advantage over the independent points (a group has no one
    value to break even at; its most telling member has)."""
    members = dims.members(factor)
    if len(members) == 1:
        return members[0]
    from scipy import stats

    def strength(m: str) -> float:
        rho = stats.spearmanr(x[m].to_numpy()[rows], y[rows]).statistic
        return abs(rho) if rho == rho else -1.0

    return max(members, key=strength)


def _fmt(name: str, v: float) -> str:
    if name.startswith(("price_", "partnership_")) or name == "audience_size":
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _sentence(text: str) -> str:
    """The text with its first letter upper-case and the rest as written (``str.capitalize`` would
    lower-case names such as PRIM)."""
    return text[:1].upper() + text[1:]


def condition_text(r: Reading, density: float = 0.8) -> str:
    """``holds when ...`` / ``holds except when ...`` from the reading's PRIM box; what is left when
    no box of at most three parameters separates the outcomes, or one outcome is (nearly) everywhere."""
    if r.share.low > 0.97 or r.share.high < 0.03:
        return "holds throughout the space" if r.share.value >= 0.5 else "fails throughout the space"
    if r.box is None:
        return "no simple condition: PRIM finds no significant box of at most three parameters"
    where = r.box.text(_fmt)
    stat = f"(box: {r.box.coverage:.0%} of those points, density {r.box.density:.0%}, {r.box.mass:.0%} of the space)"
    if r.box.density < density:
        verb = "holds" if r.box.outcome == "holds" else "fails"
        return (f"no box of at most three parameters is {density:.0%} pure; the claim {verb} most often where "
                f"{where} {stat}")
    if r.box.outcome == "holds":
        return f"holds when {where} {stat}"
    return f"holds except when {where} {stat}"


def _headline(c: ComparisonSpec, readings: list[Reading]) -> Reading:
    """The reading a claim's headline reports: the mix where the platforms are settings of both arms;
    the hardest alternative (the lowest share) where the arm is pinned and only the alternative's
    platform varies (diversifying must beat whichever single platform a planner would pick)."""
    mine = [r for r in readings if r.claim.id == c.id]
    if len(mine) > 1 and all("@" in a for a in c.arms) and not all("@" in v for v in c.versuses):
        return min(mine, key=lambda r: r.share.value)
    for want in ("mix", "instagram"):
        for r in mine:
            if r.platform == want:
                return r
    return mine[0]


def tables(ctx: Context, readings: list[Reading], values: np.ndarray, frame: pd.DataFrame,
           left_out: dict[str, str]) -> dict[str, pd.DataFrame]:
    """claims, platforms, sensitivity, breakeven, space and points tables."""
    p = ctx.spec.parameters
    plat_rows, sens, bes = [], [], []
    for r in readings:
        top = r.indices.dropna().sort_values("ST", ascending=False)
        plat_rows.append({
            "claim": r.claim.id, "platform": r.platform, "share_holds": r.share.value, "share_low": r.share.low,
            "share_high": r.share.high, "median_ratio": r.median_ratio.value, "median_low": r.median_ratio.low,
            "median_high": r.median_ratio.high, "verdict": r.verdict, "conditions": condition_text(r),
            "top_parameters": ", ".join(f"{a} ({b:.2f})" for a, b in zip(top.parameter.head(3), top.ST.head(3),
                                                                         strict=False)),
            "box_outcome": r.box.outcome if r.box else "", "box_coverage": r.box.coverage if r.box else np.nan,
            "box_density": r.box.density if r.box else np.nan, "agreement_across_worlds": r.agreement,
            "share_in_target": r.in_target})
        for _, row in r.indices.iterrows():
            sens.append({"claim": r.claim.id, "platform": r.platform, "parameter": row.parameter, "S1": row.S1,
                         "S1_conf": row.S1_conf, "ST": row.ST, "ST_conf": row.ST_conf})
        for name, est in r.breakevens:
            bes.append({"claim": r.claim.id, "platform": r.platform, "parameter": name,
                        "value": est.value if est else np.nan, "low": est.low if est else np.nan,
                        "high": est.high if est else np.nan,
                        "note": "" if est else "no flip inside the sampled range (or no clear trend)"})
    claims = []
    for c in p.claims:
        h = _headline(c, readings)
        row = {"claim": c.id, "kind": c.kind, "published": c.published, "reading": c.reading, "quantity": c.quantity,
               "platform": h.platform, "share_holds": h.share.value, "share_low": h.share.low,
               "share_high": h.share.high, "median_ratio": h.median_ratio.value, "verdict": h.verdict,
               "conditions": condition_text(h),
               "top_parameters": ", ".join(h.indices.dropna().sort_values("ST", ascending=False).parameter.head(3)),
               "target": c.target or "", "target_low": h.target[0] if h.target else np.nan,
               "target_high": h.target[1] if h.target else np.nan}
        for r in readings:
            if r.claim.id == c.id:
                row[f"share_{r.platform}"] = r.share.value
        row["share_of_advantage"] = _part_of(ctx, c, h.platform, frame)
        row["definition"] = fingerprint(p, c)
        claims.append(row)
    dims = pd.DataFrame(ctx.dims.table()).assign(varied=True)
    fixed = pd.DataFrame([{"parameter": n, "varied": False, "source": why} for n, why in left_out.items()])
    points = pd.DataFrame(values, columns=ctx.dims.names).assign(point=np.arange(len(values)))
    points = points.merge(frame[frame.world == 0].drop(columns=["world"]), on="point")
    return {"claims": pd.DataFrame(claims), "platforms": pd.DataFrame(plat_rows), "sensitivity": pd.DataFrame(sens),
            "breakeven": pd.DataFrame(bes), "space": pd.concat([dims, fixed], ignore_index=True), "points": points}


def fingerprint(p: Parameters, c: ComparisonSpec) -> str:
    """A short digest of what a claim compares: its quantity, platforms, card, variants and the arms it reads
    (their post groups), not its wording. Published tables carry it, so a summary can tell results of
    this comparison from those of an earlier one under the same id (:mod:`sim.experiments.claims_summary`)."""
    import hashlib
    import json

    marginal: list[str] = [c.marginal_over] if c.marginal_over else []
    refs = {r.split("@")[0] for r in (*c.arms, *c.versuses, *marginal)}
    arms = {r: p.arms[r].model_dump(mode="json") for r in sorted(refs)}
    used = set(c.over or ()) | {s for s in (p.arms[r].scenario for r in refs) if s}
    data = {"claim": c.model_dump(mode="json", include={"quantity", "arm", "versus", "platforms", "card",
                                                        "marginal_over", "over", "aggregate"}),
            "arms": arms, "variants": {v: p.variants[v] for v in sorted(used)}}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def _part_of(ctx: Context, c: ComparisonSpec, label: str, frame: pd.DataFrame) -> float:
    """For a claim that is ``part_of`` another: the mean of its log advantage over the mean of the other's
    on the same platform, over the space's independent points (NaN otherwise): re-sharing's share of
    the swarm's log cost advantage, say."""
    if c.part_of is None:
        return float("nan")
    main = frame[frame.world == 0].sort_values("point")
    rows = blocks(ctx.sizes.base_samples, len(ctx.dims.factors))
    mine, whole = column(c.id, label), column(c.part_of, label)
    if mine not in main or whole not in main:
        return float("nan")
    denominator = float(main[whole].to_numpy()[rows].mean())
    return float(main[mine].to_numpy()[rows].mean()) / denominator if denominator else float("nan")


def _over(dims: Space) -> str:
    """``35 parameters`` or ``50 parameters in 45 factors (the 6 calibrated ones drawn jointly from the
    posterior)``."""
    text = f"{len(dims.dimensions)} parameters"
    joint = [d for d in dims.dimensions if d.group is not None]
    if joint:
        text += (f" in {len(dims.factors)} factors (the {len(joint)} calibrated ones drawn jointly from the "
                 f"posterior, factor '{joint[0].group}')")
    return text


def conditions_md(ctx: Context, readings: list[Reading], n_points: int, elapsed_note: str = "") -> str:
    """``conditions.md``: per claim, its verdict and the conditions under which it holds."""
    p = ctx.spec.parameters
    lines = [f"# {ctx.spec.title}", "",
             f"{n_points:,} points of a Saltelli sample over {_over(ctx.dims)} "
             f"(base sample N = {ctx.sizes.base_samples}, {ctx.sizes.trials} trials per point, common random "
             f"numbers){elapsed_note}. Shares are over the sample's {2 * ctx.sizes.base_samples} independent "
             "points (Wilson 95% intervals); Sobol total indices ST with 95% bootstrap half-widths; conditions "
             "from PRIM (EMA Workbench) over the six most influential parameters and the claim's derived "
             "features, at most three restricted; break-even: the value at "
             "which the claim holds in half of the campaigns with it (logistic fit, bootstrap 95% interval).", ""]
    for c in p.claims:
        lines += [f"## `{c.id}`{' (effect, not a claim of the source)' if c.kind == 'effect' else ''}", "",
                  f"*Claim:* {c.published}", "", f"*Reading:* {c.reading}", ""]
        for r in [r for r in readings if r.claim.id == c.id]:
            top = r.indices.dropna().sort_values("ST", ascending=False).head(3)
            st = ", ".join(f"{a} {b:.2f} ± {e:.2f}" for a, b, e in zip(top.parameter, top.ST, top.ST_conf,
                                                                         strict=True))
            be = "; ".join(f"{n} = {_fmt(n, e.value)} [{_fmt(n, e.low)}, {_fmt(n, e.high)}]" if e is not None
                           else f"{n}: no flip in range" for n, e in r.breakevens)
            extra = ""
            if r.target is not None and c.compare == "ratio":
                extra = (f" The advantage ratio lies within the published {r.target[0]:g}-{r.target[1]:g} in "
                         f"{r.in_target:.0%} of the space (median {r.median_ratio.value:.3g}).")
            agree = (f" Same outcome on another world at {r.agreement:.0%} of the A points."
                     if r.agreement == r.agreement else "")
            lines += [f"- **{r.platform}**: **{r.verdict}**. Holds in {r.share.text('{:.2f}')} of the space; "
                      f"median advantage ratio {r.median_ratio.text('{:.3g}')}. {_sentence(condition_text(r))}. "
                      f"Most influential (ST): {st}. Break-even: {be}.{extra}{agree}"]
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the experiment

def _unmatched(ctx: Context) -> int:
    """Readings of an unpinned platform whose arm and versus instances (and marginal arm) are not all on it."""
    bad = 0
    for c, label, a, b in ctx.readings:
        if "_vs_" in label:
            continue  # every side pinned: a platform effect, compared across platforms on purpose
        refs = dict(zip((*c.arms, *c.versuses), (*_tuple(a), *_tuple(b)), strict=True))
        if c.marginal_over is not None:
            marginal = c.marginal_instance(_tuple(a)[0])
            assert marginal is not None  # there is one with marginal_over
            refs[c.marginal_over] = marginal
        on = {inst.split("@")[1] for ref, inst in refs.items() if "@" not in ref}
        if on and on != {label}:
            bad += 1
    return bad


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run the audit: every point of the space, then each reading's share, indices, conditions and verdict."""
    ctx = context(spec, sizes)
    _, left_out = relevant(spec.parameters, space(spec.parameters.assumptions))
    values, frame = run_points(ctx, ws, steps)
    readings = analyse(ctx, values, frame)
    report = Report(spec, quick=False)
    main = frame[frame.world == 0]
    n = len(values)
    report.checks += [
        Check("every_point_ran", f"all {n} points of the Saltelli sample ran ({len(frame) - n} more on replicate "
              "worlds)", Estimate.exact(len(main)), f"= {n}, one row per point",
              len(main) == n and main.point.nunique() == n, Kind.VERIFICATION, unit="{:.0f}"),
        Check("budgets_matched", "every budget-matched group spends at most its budget and more than its budget "
              "less one partner (at every point, arm and platform)", Estimate.exact(float(main.budget_slack.max())),
              f"largest unspent share of one partner's price < 1 (shown); largest overspend "
              f"{main.budget_excess.max():.2g} USD <= 0", bool((main.budget_excess <= 1e-6).all()
                                                              and (main.budget_slack < 1).all()),
              Kind.VERIFICATION, unit="{:.5f}"),
        Check("budgets_equal", "every comparison whose arms are budget-matched compares arms that cost the same to "
              "within one partner's price per budgeted group (at every point and platform, lists and variants "
              "included)", Estimate.exact(float(main.budget_unequal.max())),
              "largest |cost difference| less the allowed partners' prices <= 0 USD",
              bool((main.budget_unequal <= 1e-6).all()), Kind.VERIFICATION, unit="{:.3g}"),
        Check("platform_matched", "both sides of every reading that pins no platform run on the same platforms",
              Estimate.exact(float(_unmatched(ctx))), "= 0 readings", _unmatched(ctx) == 0, Kind.VERIFICATION,
              unit="{:.0f}"),
        Check("costs_accounted", "the audit's cost of each arm (posts at the point's prices plus partnership) equals "
              "the runner's", Estimate.exact(float(main.cost_gap.max())), "largest |difference| < 0.01 USD",
              bool((main.cost_gap < 0.01).all()), Kind.VERIFICATION, unit="{:.3g}"),
    ]
    for r in readings:
        c = r.claim
        detail = (f"holds in {r.share.text('{:.2f}')} of the space ({_over(ctx.dims)}); "
                  f"{condition_text(r)}; most influential: "
                  + ", ".join(f"{a} (ST {b:.2f})" for a, b in r.indices.dropna().sort_values("ST", ascending=False)
                              [["parameter", "ST"]].head(3).itertuples(index=False, name=None)))
        if r.target is not None and c.compare == "ratio":
            detail += f"; within the published {r.target[0]:g}-{r.target[1]:g} in {r.in_target:.0%} of the space"
        report.findings.append(Finding(f"{c.id}_{r.platform}", c.published, f"{c.reading} ({r.platform})",
                                       r.verdict, r.median_ratio, detail, "{:.3g}"))
    report.tables.update(tables(ctx, readings, values, frame, left_out))
    report.texts["conditions.md"] = conditions_md(ctx, readings, n)
    report.publish_tables = ["claims", "platforms", "sensitivity", "breakeven", "space"]
    report.publish_texts = ["conditions.md"]
    report.figures["verdicts"] = figure(readings, ctx)
    report.on_publish = lambda docs: _publish_summary(spec, docs)
    return report


def _publish_summary(spec: Definition, docs: Path) -> None:
    """After a full run published its tables to ``docs`` (``<checkout>/docs/source_claims``): the README's
    summary of findings and calibration.md §7's table, written from them (in that checkout only)."""
    from sim.base.files import atomic_text

    root = docs.parent.parent
    if not (root / "README.md").is_file() or not (root / "docs" / "calibration.md").is_file():
        return
    try:
        texts = rewritten(spec, docs, root)
    except ValueError:
        return  # a checkout without the blocks' markers
    for path, text in texts.items():
        atomic_text(path, text)


def figure(readings: list[Reading], ctx: Context) -> Figure:
    """Left: the share of the space where each claim holds, per platform (Wilson intervals; shaded: a
    published share). Right: total Sobol indices of each claim's headline reading, for the parameters
    that matter most anywhere."""
    claims = ctx.spec.parameters.claims
    fig = Figure(figsize=(13.5, 0.55 * len(claims) + 2.2), layout="constrained")
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.5]})
    marks = {"instagram": ("o", "#c13584"), "tiktok": ("s", "#111111"), "mix": ("D", "#2b8cbe")}
    labelled: set[str] = set()
    for i, c in enumerate(claims):
        mine = [r for r in readings if r.claim.id == c.id]
        for j, r in enumerate(mine):
            m, col = marks.get(r.platform, ("^", "0.4"))
            y = i + (j - (len(mine) - 1) / 2) * 0.22
            ax.errorbar(r.share.value, y, xerr=[[r.share.value - r.share.low], [r.share.high - r.share.value]],
                        fmt=m, color=col, ms=5, capsize=2, label=None if r.platform in labelled else r.platform)
            labelled.add(r.platform)
            if r.target is not None and c.compare == "share":
                ax.fill_betweenx([i - 0.4, i + 0.4], r.target[0], min(r.target[1], 1.0), color="#fdae6b", alpha=0.4,
                                 lw=0)
    ax.axvline(0.5, color="k", lw=0.6, ls=":")
    ax.set_xlim(-0.02, 1.02)
    ax.set_yticks(range(len(claims)), [c.id for c in claims], fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("share of the assumption space where the claim holds (95% CI)")
    ax.legend(fontsize="x-small", frameon=False, loc="lower left")
    ax.set_title("where each claim holds (orange: the source's published share)", fontsize="medium")
    heads = [_headline(c, readings) for c in claims]
    ranked: list[str] = []
    for h in heads:
        for name in h.indices.dropna().sort_values("ST", ascending=False).parameter.head(3):
            if name not in ranked:
                ranked.append(name)
    ranked = ranked[:14]
    grid = np.full((len(heads), len(ranked)), np.nan)
    for i, h in enumerate(heads):
        st = h.indices.set_index("parameter").ST
        for j, name in enumerate(ranked):
            grid[i, j] = st.get(name, np.nan)
    im = bx.imshow(np.clip(grid, 0, 1), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if np.isfinite(grid[i, j]) and grid[i, j] >= 0.05:
                bx.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=6.5,
                        color="white" if grid[i, j] < 0.6 else "black")
    bx.set_xticks(range(len(ranked)), ranked, rotation=55, ha="right", fontsize="x-small")
    bx.set_yticks(range(len(heads)), [f"{h.claim.id} ({h.platform})" for h in heads], fontsize="x-small")
    bx.set_title("total Sobol index ST of the log advantage (headline platform)", fontsize="medium")
    fig.colorbar(im, ax=bx, shrink=0.8, label="ST")
    fig.suptitle(f"{ctx.spec.title}: {len(ctx.dims.dimensions)} parameters varied, N = {ctx.sizes.base_samples}",
                 fontsize="medium")
    return fig


# --------------------------------------------------------------------------- the published tables as prose
# (python -m sim.experiments.claims_summary; a full run calls _publish_summary)

DEFINITION = ROOT / "experiments" / "source_claims.yaml"
TABLES = ROOT / "docs" / "source_claims"
SUMMARY = ("<!-- claims-summary:begin -->", "<!-- claims-summary:end -->")
TABLE = ("<!-- claims-table:begin -->", "<!-- claims-table:end -->")


def _pct(x: float) -> str:
    return f"{x:.0%}" if x == x else "n/a"


def _num(name: str, v: float) -> str:
    if v != v:
        return "n/a"
    if name.startswith(("price_", "partnership_")) or name == "audience_size":
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / name
    return pd.read_csv(path) if path.is_file() else None


def _in_target(plat: pd.DataFrame | None, claim: str, platform: str) -> float:
    """Share of the space where a ratio claim's advantage lies within the published range (NaN if none)."""
    if plat is None or "share_in_target" not in plat:
        return math.nan
    rows = plat[(plat.claim == claim) & (plat.platform == platform)]
    return float(rows.share_in_target.iloc[0]) if len(rows) else math.nan


def _breakevens(be: pd.DataFrame | None, claim: str, platform: str) -> str:
    if be is None:
        return ""
    rows = be[(be.claim == claim) & (be.platform == platform)]
    parts = [f"{r.parameter} = {_num(r.parameter, r.value)} [{_num(r.parameter, r.low)}, {_num(r.parameter, r.high)}]"
             for r in rows.itertuples() if r.value == r.value]
    return "; ".join(parts)


def _current(table: pd.DataFrame | None, definition) -> dict[str, dict]:
    """The published rows whose comparison is the definition's (same fingerprint), by claim id."""
    if table is None or "definition" not in table:
        return {}
    p = definition.parameters
    return {r["claim"]: r for r in table.to_dict("records")
            if any(c.id == r["claim"] and fingerprint(p, c) == r["definition"] for c in p.claims)}


def summary_text(definition, folder: Path = TABLES) -> str:
    """One bullet per claim of the definition: where it holds on its headline platform and each platform,
    the verdict, the conditions and the break-even values; a claim the published tables lack (or hold
    for another comparison under its id) is listed as not yet run."""
    claims = definition.parameters.claims
    table = _read(folder, "claims.csv")
    be = _read(folder, "breakeven.csv")
    plat = _read(folder, "platforms.csv")
    rows = _current(table, definition)
    lines = []
    for c in claims:
        if c.kind != "claim":
            continue
        r = rows.get(c.id)
        if r is None:
            lines.append(f"- **`{c.id}`** ({c.published}): {c.reading}. *Not yet run: the published tables "
                         "predate this comparison.*")
            continue
        per = [f"{p} {_pct(r[f'share_{p}'])}" for p in ("instagram", "tiktok", "mix")
               if f"share_{p}" in r and r[f"share_{p}"] == r[f"share_{p}"] and p != r["platform"]]
        text = (f"- **`{c.id}`** ({c.published}): holds in **{_pct(r['share_holds'])}** "
                f"({_pct(r['share_low'])}-{_pct(r['share_high'])}) of the space on {r['platform']}"
                + (f" ({', '.join(per)})" if per else "") + f"; {r['verdict']}. {_sentence(str(r['conditions']))}.")
        inside = _in_target(plat, c.id, r["platform"])
        if c.compare == "ratio" and inside == inside:
            # the direction can hold while the published size does not: the verdict says how often the
            # size matches (tables from before that verdict: this sentence does); the median ratio
            text += (f" Median ratio {r['median_ratio']:.3g}." if "as stated" in str(r["verdict"]) else
                     f" The ratio lies within the published {r['target_low']:g}-{r['target_high']:g} in "
                     f"{inside:.0%} of the space (median {r['median_ratio']:.3g}).")
        extra = r.get("share_of_advantage", math.nan)
        if extra == extra and extra is not None:
            text += f" Share of the swarm's mean log advantage from re-sharing: {extra:.0%}."
        bes = _breakevens(be, c.id, r["platform"])
        if bes:
            text += f" Break-even: {bes}."
        lines.append(text)
    return "\n".join(lines)


def results_table(definition, folder: Path = TABLES) -> str:
    """A markdown table with one row per claim (and effect) and platform, from ``platforms.csv``."""
    claims = definition.parameters.claims
    current = _current(_read(folder, "claims.csv"), definition)
    plat = _read(folder, "platforms.csv")
    if plat is not None:
        plat = plat[plat.claim.isin(current)]
    be = _read(folder, "breakeven.csv")
    head = ("| claim | platform | holds in (95% CI) | median advantage ratio | verdict | conditions (PRIM) | "
            "top total Sobol indices | break-even (95% CI) |\n|---|---|---|---|---|---|---|---|")
    out = [head]
    for c in claims:
        mine = plat[plat.claim == c.id] if plat is not None else pd.DataFrame()
        if not len(mine):
            out.append(f"| `{c.id}` | | not yet run (the published tables predate this comparison) | | | | | |")
            continue
        for r in mine.itertuples():
            share = f"{_pct(r.share_holds)} ({_pct(r.share_low)}-{_pct(r.share_high)})"
            ratio = f"{r.median_ratio:.3g} [{r.median_low:.3g}, {r.median_high:.3g}]"
            bes = _breakevens(be, c.id, r.platform) or "none in range"
            out.append(f"| `{c.id}` | {r.platform} | {share} | {ratio} | {r.verdict} | {r.conditions} | "
                       f"{r.top_parameters} | {bes} |")
    return "\n".join(out)


def _replace(text: str, markers: tuple[str, str], body: str) -> str:
    begin, end = markers
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"markers {begin} ... {end} not found")
    return text[: i + len(begin)] + "\n" + body + "\n" + text[j:]


def rewritten(definition, folder: Path = TABLES, root: Path = ROOT) -> dict[Path, str]:
    """README.md and docs/calibration.md with their blocks written from the tables."""
    readme = root / "README.md"
    calib = root / "docs" / "calibration.md"
    return {readme: _replace(readme.read_text(), SUMMARY, summary_text(definition, folder)),
            calib: _replace(calib.read_text(), TABLE, results_table(definition, folder))}
