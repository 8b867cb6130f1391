"""The scenario: a strictly validated description of a world, a contagion model and the strategies to compare.

A scenario is read from YAML (:func:`load_scenario`) or built in Python
(``Scenario.model_validate(dict)``). Unknown keys, wrong types and
out-of-range values are errors; every error names the file, the line, the key
path and what is allowed, and nothing runs until the whole file is valid.

Vocabulary: ``seed`` is the root random seed of the run and nothing else; the
accounts that start a cascade are *recruits*, chosen by a recruit rule.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.datasets import DATASETS
from sim.edgelist import EdgeListFormat
from sim.yaml_source import YamlDocument, YamlError, parse_yaml, read_yaml

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(ge=1)]


class ScenarioError(ValueError):
    """An invalid scenario. ``problems`` holds one line per problem, each naming file, line and key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Spec(BaseModel):
    """Base of every scenario block: strict types, frozen, unknown keys rejected with suggestions."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = list(cls.model_fields)
            for key in data:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), allowed, n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    raise PydanticCustomError(
                        "unknown_key", "unknown key '{key}' (allowed: {allowed}){hint}",
                        {"key": key, "allowed": ", ".join(allowed), "hint": hint})
        return data


# --------------------------------------------------------------------------- graphs

Builder = Literal["auto", "networkx", "direct"]
#: ``builder: auto`` uses the direct (NumPy/numba) generator from this many accounts on.
DIRECT_FROM = 100_000


class CommunitiesGraph(_Spec):
    """Planted-partition graph: ``count`` equal communities, mean degree ``mean_degree``, a
    fraction ``mixing`` of each account's edges leaving its community (Condon & Karp 2001;
    the LFR "mixing parameter" of Lancichinetti, Fortunato & Radicchi 2008); undirected.

    ``builder``: ``direct`` (vectorised NumPy; what ``auto`` uses at every size, since
    NetworkX's ``random_partition_graph`` takes seconds already at 40,000 accounts) or
    ``networkx``.
    """

    kind: Literal["communities"]
    n: PositiveInt
    count: PositiveInt
    mean_degree: Annotated[float, Field(gt=0.0)]
    mixing: Probability = 0.1
    builder: Builder = "auto"

    @model_validator(mode="after")
    def _fits(self) -> CommunitiesGraph:
        if self.count > self.n:
            raise ValueError(f"need count <= n (count={self.count}, n={self.n})")
        return self


class ErdosRenyiGraph(_Spec):
    """G(n, p) with p = mean_degree / (n - 1) (Erdős & Rényi 1959; Gilbert 1959).

    ``builder``: ``networkx``, ``direct`` (NumPy, for large worlds), or ``auto`` (direct
    from 100,000 accounts). Both sample the same model; the same seed gives different graphs.
    """

    kind: Literal["erdos_renyi"]
    n: PositiveInt
    mean_degree: Annotated[float, Field(ge=0.0)]
    directed: bool = False
    builder: Builder = "auto"

    @model_validator(mode="after")
    def _fits(self) -> ErdosRenyiGraph:
        if self.n > 1 and self.mean_degree > self.n - 1:
            raise ValueError(f"mean_degree {self.mean_degree} exceeds n - 1 = {self.n - 1}")
        return self


class RandomRegularGraph(_Spec):
    """Uniform random d-regular simple graph (undirected)."""

    kind: Literal["random_regular"]
    n: PositiveInt
    degree: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _fits(self) -> RandomRegularGraph:
        if self.degree >= self.n or (self.n * self.degree) % 2:
            raise ValueError(f"need degree < n and n * degree even (n={self.n}, degree={self.degree})")
        return self


class BarabasiAlbertGraph(_Spec):
    """Preferential attachment, each new node brings m edges (Barabási & Albert 1999); undirected."""

    kind: Literal["barabasi_albert"]
    n: PositiveInt
    m: PositiveInt
    builder: Builder = "auto"

    @model_validator(mode="after")
    def _fits(self) -> BarabasiAlbertGraph:
        if self.m >= self.n:
            raise ValueError(f"need m < n (m={self.m}, n={self.n})")
        return self


class WattsStrogatzGraph(_Spec):
    """Ring lattice of n nodes with k neighbours each, rewired with probability p (Watts & Strogatz 1998)."""

    kind: Literal["watts_strogatz"]
    n: PositiveInt
    k: Annotated[int, Field(ge=2)]
    p: Probability

    @model_validator(mode="after")
    def _fits(self) -> WattsStrogatzGraph:
        if self.k >= self.n:
            raise ValueError(f"need k < n (k={self.k}, n={self.n})")
        return self


class PoissonDegrees(_Spec):
    """Poisson(mean) degrees."""

    kind: Literal["poisson"]
    mean: Annotated[float, Field(gt=0.0)]


class PowerLawDegrees(_Spec):
    """P(k) proportional to k^-exponent on min..max."""

    kind: Literal["power_law"]
    exponent: Annotated[float, Field(gt=1.0)]
    min: PositiveInt = 1
    max: PositiveInt = 1000

    @model_validator(mode="after")
    def _fits(self) -> PowerLawDegrees:
        if self.max < self.min:
            raise ValueError(f"need min <= max (min={self.min}, max={self.max})")
        return self


class PmfDegrees(_Spec):
    """An explicit distribution: degree -> probability (must sum to 1)."""

    kind: Literal["pmf"]
    pmf: dict[Annotated[int, Field(ge=0)], Probability]

    @field_validator("pmf", mode="before")
    @classmethod
    def _int_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _sums_to_one(self) -> PmfDegrees:
        total = sum(self.pmf.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"probabilities must sum to 1 (they sum to {total:.6g})")
        return self


DegreeDistribution = Annotated[PoissonDegrees | PowerLawDegrees | PmfDegrees, Field(discriminator="kind")]


class ConfigurationGraph(_Spec):
    """Configuration model (Molloy & Reed 1995; Newman, Strogatz & Watts 2001): a random multigraph
    with i.i.d. degrees from ``degrees``; self-loops are removed, parallel edges kept."""

    kind: Literal["configuration"]
    n: PositiveInt
    degrees: DegreeDistribution


class EdgeListGraph(_Spec):
    """A graph read from a file; ``path`` is relative to the scenario file."""

    kind: Literal["edgelist"]
    path: str
    directed: bool
    format: EdgeListFormat = EdgeListFormat.EDGELIST

    @field_validator("format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        allowed = [f.value for f in EdgeListFormat]
        if value not in allowed:
            raise PydanticCustomError("enum", "must be one of {allowed}", {"allowed": ", ".join(allowed)})
        return EdgeListFormat(value)

    @field_validator("path")
    @classmethod
    def _exists(cls, value: str, info: ValidationInfo) -> str:
        base = Path((info.context or {}).get("base_dir", "."))
        path = (base / value).resolve()
        if not path.is_file():
            raise PydanticCustomError("file_missing", "no such file: {path}", {"path": str(path)})
        return str(path)


class DatasetGraph(_Spec):
    """A real network known by name (see :mod:`sim.datasets`)."""

    kind: Literal["dataset"]
    name: str

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in DATASETS:
            raise PydanticCustomError("unknown_dataset", "unknown dataset '{value}' (known: {known})",
                                      {"value": value, "known": ", ".join(DATASETS)})
        return value


GraphSpec = Annotated[
    ErdosRenyiGraph | CommunitiesGraph | RandomRegularGraph | BarabasiAlbertGraph | WattsStrogatzGraph
    | ConfigurationGraph | EdgeListGraph | DatasetGraph,
    Field(discriminator="kind"),
]


class WorldSpec(_Spec):
    """A network world: one follow graph, for the classic contagion models."""

    kind: Literal["network"] = "network"
    graph: GraphSpec


# --------------------------------------------------------------------------- creator-audience worlds

TierName = Literal["nano", "micro", "macro", "mega"]
NonNegative = Annotated[float, Field(ge=0.0)]


class BetaSpec(_Spec):
    """A Beta distribution on [0, 1] given by its mean and concentration (a + b)."""

    mean: Annotated[float, Field(gt=0.0, lt=1.0)]
    concentration: Annotated[float, Field(gt=0.0)] = 4.0


class InterestSpec(BetaSpec):
    """Interest in the cause: Beta(mean, concentration) per account, then smoothed over the peer
    graph with weight ``homophily`` (0: independent; 1: every account takes its peers' mean),
    which makes peers' interests alike (McPherson, Smith-Lovin & Cook 2001)."""

    homophily: Probability = 0.5


class SegmentSpec(_Spec):
    """An audience segment (e.g. an age band): its share of accounts and, per platform, the
    probability that a member is on it, independently per platform (Pew-style platform use
    by age). A member drawn onto no platform is reachable only through peers' re-shares."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+-]+$", max_length=40)]
    share: Annotated[float, Field(gt=0.0, le=1.0)]
    platforms: Annotated[dict[str, Probability], Field(min_length=1)]


class AudienceSpec(_Spec):
    """The audience: its peer follow graph (re-shares travel on it), segments and interest."""

    peers: GraphSpec
    segments: Annotated[list[SegmentSpec], Field(min_length=1)]
    interest: InterestSpec

    @model_validator(mode="after")
    def _shares(self) -> AudienceSpec:
        total = sum(seg.share for seg in self.segments)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"segment shares must sum to 1 (they sum to {total:.6g})")
        names = [seg.name for seg in self.segments]
        if len(set(names)) != len(names):
            raise ValueError("segment names must be unique")
        return self


class ShockSpec(_Spec):
    """From ``day`` on, the platform's reach (organic and discovery) is multiplied by ``reach_factor``."""

    day: Annotated[int, Field(ge=0)]
    reach_factor: Probability


class PlatformSpec(_Spec):
    """A platform.

    ``organic_reach``: probability that a follower sees a post (Instagram feed ~0.1-0.2 in
    industry reports). ``discovery``: algorithmic exposure of non-followers — a post makes
    ``round(discovery x simulated followers x shock)`` draws, uniformly with replacement from
    the platform's members; repeats and accounts the post already reached are skipped
    (TikTok's For You feed can exceed 1). ``engagement``: multiplier on the tiers' engagement
    probabilities for posts on this platform (engagement differs by platform as well as tier).
    """

    organic_reach: Probability
    discovery: NonNegative = 0.0
    engagement: Annotated[float, Field(gt=0.0)] = 1.0
    shock: ShockSpec | None = None


class TierSpec(_Spec):
    """Creators of one tier.

    Attributes
    ----------
    followers : [low, high)
        Real follower counts, drawn log-uniformly; tier edges are parameters, not constants.
    count : int
        Creators of this tier in the world.
    platforms : dict
        Share of the tier's creators whose home platform is each platform (sums to 1).
    reach : float
        Multiplier on the platform's organic reach for this tier's posts (> 0).
    engagement : float
        Probability that an exposed follower engages, at the tier's initial trust.
    trust : float
        Initial trust of a follower in a creator of this tier, in [0, 1].
    authenticity : float
        Persuasion factor of a paid post (1: reads as authentic; lower: transactional).
    """

    followers: tuple[PositiveInt, PositiveInt]
    count: Annotated[int, Field(ge=0)]
    platforms: Annotated[dict[str, Probability], Field(min_length=1)]
    reach: Annotated[float, Field(gt=0.0)] = 1.0
    engagement: Probability
    trust: Probability
    authenticity: Probability = 1.0

    @field_validator("followers", mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _fits(self) -> TierSpec:
        lo, hi = self.followers
        if hi <= lo:
            raise ValueError(f"followers must be [low, high) with high > low, got [{lo}, {hi}]")
        total = sum(self.platforms.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"platform shares must sum to 1 (they sum to {total:.6g})")
        return self


class CreatorAudienceWorld(_Spec):
    """Creators of several tiers and platforms, and an audience that follows them and each other.

    ``scale``: one simulated account stands for ``scale`` real ones. Follower counts in
    ``tiers`` are real; a creator gets ``round(followers / scale)`` simulated followers, and
    totals in the outputs are reported in real accounts (simulated x scale).
    """

    kind: Literal["creator_audience"]
    scale: Annotated[float, Field(ge=1.0)] = 1.0
    audience: AudienceSpec
    platforms: Annotated[dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")], PlatformSpec],
                         Field(min_length=1)]
    tiers: Annotated[dict[TierName, TierSpec], Field(min_length=1)]
    alignment: BetaSpec = BetaSpec(mean=0.5, concentration=4.0)
    follower_homophily: NonNegative = 1.0

    @model_validator(mode="after")
    def _platforms_known(self) -> CreatorAudienceWorld:
        known = set(self.platforms)
        for where, names in [(f"tiers.{t}.platforms", spec.platforms) for t, spec in self.tiers.items()] + [
                (f"audience.segments.{seg.name}.platforms", seg.platforms) for seg in self.audience.segments]:
            unknown = sorted(set(names) - known)
            if unknown:
                raise ValueError(f"{where}: unknown platform {unknown[0]!r} (platforms: {', '.join(sorted(known))})")
        return self


def _world_kind(data: Any) -> str:
    if isinstance(data, dict):
        return data.get("kind", "network")
    return getattr(data, "kind", "network")


# --------------------------------------------------------------------------- models

def _number_or(choices: tuple[str, ...], lo: float, hi: float, lo_open: bool = False):
    """Validator for a field that is a number in a range or one of a few names."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and value in choices:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (lo < value if lo_open else lo <= value) and value <= hi:
                return float(value)
        lo_b = "(" if lo_open else "["
        raise PydanticCustomError(
            "number_or_choice", "must be a number in {rng} or one of {choices} (got {got})",
            {"rng": f"{lo_b}{lo:g}, {hi:g}]", "choices": ", ".join(choices), "got": repr(value)})

    return check


class IndependentCascade(_Spec):
    """Independent Cascade (Kempe, Kleinberg & Tardos 2003).

    ``edge_prob``: a probability for every edge; ``weighted_cascade`` = 1 / in-degree of
    the target; ``edge_weight`` = the weight column of the input file. Parallel edges
    each try once.
    """

    kind: Literal["independent_cascade"]
    edge_prob: float | Literal["weighted_cascade", "edge_weight"]

    @field_validator("edge_prob", mode="plain")
    @classmethod
    def _edge_prob(cls, value: Any) -> Any:
        return _number_or(("weighted_cascade", "edge_weight"), 0.0, 1.0)(value)


class LinearThreshold(_Spec):
    """Linear Threshold (Kempe et al. 2003), thresholds U(0, 1) redrawn every trial.

    ``weights``: ``in_degree`` = 1 / in-degree of the target (the default, Kempe's
    c_uv / d_v with multiplicity); ``edge_weight`` = the input file's weights; or one
    number for every edge.
    """

    kind: Literal["linear_threshold"]
    weights: float | Literal["in_degree", "edge_weight"] = "in_degree"

    @field_validator("weights", mode="plain")
    @classmethod
    def _weights(cls, value: Any) -> Any:
        return _number_or(("in_degree", "edge_weight"), 0.0, 1.0, lo_open=True)(value)


class FractionalThreshold(_Spec):
    """Watts (2002) threshold model: adopt when the active fraction of in-neighbours is >= phi."""

    kind: Literal["fractional_threshold"]
    phi: Probability


class ThresholdSpec(_Spec):
    """Adoption thresholds: ``max * U(0, 1) * (1 - interest_effect * interest)`` per account and trial."""

    max: Annotated[float, Field(gt=0.0)] = 1.0
    interest_effect: Probability = 0.5


class CampaignModel(_Spec):
    """The campaign model (docs/model.md): exposure, engagement, persuasion doses, adoption, re-sharing.

    Every rule and its source is in docs/model.md; units are per exposure or per day.
    """

    kind: Literal["campaign"]
    adoption: Literal["threshold", "independent"] = "threshold"
    threshold: ThresholdSpec = ThresholdSpec()
    conversion_rate: Annotated[float, Field(gt=0.0)] = 1.0
    message_strength: Annotated[float, Field(gt=0.0)] = 1.0
    dilution: Probability = 0.0
    conviction_decay: Probability = 0.0
    trust_growth: Probability = 0.0
    trust_ceiling: Probability = 1.0
    fatigue: Probability = 0.0
    fatigue_recovery: Probability = 0.0
    reshare: Probability = 0.0
    peer_reach: Probability = 1.0
    peer_trust: Probability = 0.5
    peer_engagement: Probability = 0.05
    stranger_trust: Probability = 0.1


ModelSpec = Annotated[IndependentCascade | LinearThreshold | FractionalThreshold | CampaignModel,
                      Field(discriminator="kind")]
ClassicModel = IndependentCascade | LinearThreshold | FractionalThreshold


# --------------------------------------------------------------------------- recruits

class RandomRecruits(_Spec):
    """Recruits drawn uniformly without replacement, afresh in every trial: ``count`` or ``fraction`` of accounts."""

    rule: Literal["random"]
    count: PositiveInt | None = None
    fraction: Annotated[float, Field(gt=0.0, le=1.0)] | None = None

    @model_validator(mode="after")
    def _one_size(self) -> RandomRecruits:
        if (self.count is None) == (self.fraction is None):
            raise ValueError("give exactly one of 'count' or 'fraction'")
        return self


class TopDegreeRecruits(_Spec):
    """The ``count`` accounts with the most followers (out-degree); ties go to the lower index."""

    rule: Literal["top_degree"]
    count: PositiveInt


class ExplicitRecruits(_Spec):
    """Named accounts, by their id in the input file."""

    rule: Literal["explicit"]
    nodes: Annotated[list[int | str], Field(min_length=1)]


RecruitSpec = Annotated[RandomRecruits | TopDegreeRecruits | ExplicitRecruits, Field(discriminator="rule")]


class ScheduleSpec(_Spec):
    """Posting days: ``count`` posts, one every ``every`` days from ``start``."""

    start: Annotated[int, Field(ge=0)] = 0
    every: PositiveInt = 7
    count: PositiveInt = 1

    def days(self) -> list[int]:
        """The posting days."""
        return [self.start + i * self.every for i in range(self.count)]


class PostGroup(_Spec):
    """Partners of one tier on one platform, and when they post.

    Give the partners as ``creators`` (how many) or ``budget`` (as many as the budget pays
    for at the rate card, for all their posts). ``select`` picks them: ``random``,
    ``top_followers`` or ``most_aligned``. ``days`` lists posting days, or ``schedule``
    spaces them (``{start, every, count}``; 12 weekly posts = an ambassador).
    ``variant_distance`` in [0, 1] is how far the message variant is from the core message.
    """

    tier: TierName
    platform: str
    creators: Annotated[int, Field(ge=0)] | None = None
    budget: NonNegative | None = None
    select: Literal["random", "top_followers", "most_aligned"] = "random"
    days: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] | None = None
    schedule: ScheduleSpec | None = None
    variant_distance: Probability = 0.0
    paid: bool = True

    @model_validator(mode="after")
    def _one_each(self) -> PostGroup:
        if (self.creators is None) == (self.budget is None):
            raise ValueError("give exactly one of 'creators' or 'budget'")
        if (self.days is None) == (self.schedule is None):
            raise ValueError("give exactly one of 'days' or 'schedule'")
        return self

    def post_days(self) -> list[int]:
        """Sorted posting days of each partner in the group."""
        return sorted(self.days) if self.days is not None else self.schedule.days()


class Strategy(_Spec):
    """One way of spreading the message; strategies in a run share common random numbers.

    Classic models take ``recruits`` (who starts the cascade); the campaign model takes
    ``posts`` (which partners post where and when).
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=80)]
    recruits: RecruitSpec | None = None
    posts: Annotated[list[PostGroup], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Strategy:
        if (self.recruits is None) == (self.posts is None):
            raise ValueError("give exactly one of 'recruits' (classic models) or 'posts' (campaign model)")
        return self


# --------------------------------------------------------------------------- scenario

class Scenario(_Spec):
    """A complete, validated scenario.

    Attributes
    ----------
    name : str
        Names the output folder (letters, digits, ``_ . -``).
    seed : int
        Root random seed in [0, 2**64); every draw of the run derives from it.
    trials : int
        Monte Carlo trials per strategy (>= 1).
    engine : {"numba", "mesa"}
        Which engine runs the trials; both give identical results, Mesa is for inspection.
    max_steps : int or None
        Classic models: stop a cascade after this many steps (None: when it stops by itself).
    days : int
        Campaign model: the horizon in days (one step = one day).
    world, model
        The world (a network, or creators and their audience) and the contagion model.
    recruits, strategies
        Either one recruit rule, or a list of named strategies to compare.
    rate_card : dict
        Campaign model: cost in USD of one post, by platform then tier.
    cascade_trees : list of int
        Campaign model: trial numbers whose cascade tree (who activated whom, when, through
        which post) is written to ``trees.parquet``.
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=80)]
    description: str = ""
    seed: Annotated[int, Field(ge=0, lt=2**64)]
    trials: PositiveInt
    engine: Literal["numba", "mesa"] = "numba"
    max_steps: PositiveInt | None = None
    days: PositiveInt = 28
    world: Annotated[Annotated[WorldSpec, Tag("network")] | Annotated[CreatorAudienceWorld, Tag("creator_audience")],
                     Discriminator(_world_kind)]
    model: ModelSpec
    rate_card: dict[str, dict[TierName, NonNegative]] | None = None
    cascade_trees: list[Annotated[int, Field(ge=0)]] = []
    recruits: RecruitSpec | None = None
    strategies: Annotated[list[Strategy], Field(min_length=1)] | None = None
    _source: YamlDocument | None = PrivateAttr(default=None)

    @property
    def is_campaign(self) -> bool:
        """Whether this is a campaign scenario (creator-audience world, campaign model)."""
        return isinstance(self.model, CampaignModel)

    @model_validator(mode="after")
    def _one_strategy_source(self) -> Scenario:
        if (self.recruits is None) == (self.strategies is None):
            raise ValueError("give exactly one of 'recruits' (one rule) or 'strategies' (a list)")
        if self.is_campaign != isinstance(self.world, CreatorAudienceWorld):
            raise ValueError("the campaign model needs a creator_audience world, and a creator_audience "
                             "world needs the campaign model")
        if self.is_campaign:
            self._check_campaign()
        else:
            if self.strategies and any(s.recruits is None for s in self.strategies):
                raise ValueError("classic models need 'recruits' in every strategy")
            if self.cascade_trees:
                raise ValueError("cascade_trees are written for the campaign model only")
        late = [t for t in self.cascade_trees if t >= self.trials]
        if late:
            raise ValueError(f"cascade_trees: trial {late[0]} is not run (trials are 0..{self.trials - 1})")
        if self.strategies:
            names = [s.name for s in self.strategies]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"strategy names must be unique; repeated: {', '.join(dup)}")
        return self

    def _check_campaign(self) -> None:
        if self.strategies is None or any(s.posts is None for s in self.strategies):
            raise ValueError("the campaign model needs 'strategies' whose entries have 'posts'")
        world = self.world
        for s in self.strategies:
            for g in s.posts:
                if g.tier not in world.tiers:
                    raise ValueError(f"strategy {s.name}: tier '{g.tier}' is not in world.tiers "
                                     f"({', '.join(world.tiers)})")
                if g.platform not in world.platforms:
                    raise ValueError(f"strategy {s.name}: platform '{g.platform}' is not in world.platforms "
                                     f"({', '.join(world.platforms)})")
                if g.post_days()[-1] >= self.days:
                    raise ValueError(f"strategy {s.name}: a post on day {g.post_days()[-1]} is beyond the "
                                     f"horizon (days: {self.days})")
                if g.paid and (self.rate_card is None or g.tier not in self.rate_card.get(g.platform, {})):
                    raise ValueError(f"strategy {s.name}: rate_card has no price for {g.tier} posts on "
                                     f"{g.platform}")
                if g.budget is not None and (not g.paid or self.rate_card[g.platform][g.tier] == 0):
                    raise ValueError(f"strategy {s.name}: a budget buys paid posts at a price above 0; "
                                     f"give 'creators' for unpaid or free {g.tier} posts on {g.platform}")

    def locate(self, key: tuple, message: str) -> str:
        """``file:line: key.path: message`` for a problem found after validation (e.g. while building)."""
        path = ".".join(map(str, key))
        if self._source is None:
            return f"<scenario>: {path}: {message}"
        return f"{self._source.source}:{self._source.line_of(key)}: {path}: {message}"

    def strategy_key(self, index: int) -> tuple:
        """Key path of what strategy number ``index`` does (its recruit rule or its posts)."""
        if self.strategies is None:
            return ("recruits",)
        return ("strategies", index, "posts" if self.is_campaign else "recruits")

    @property
    def strategy_list(self) -> list[Strategy]:
        """The strategies to run; a lone ``recruits`` rule is one strategy named after its rule."""
        if self.strategies is not None:
            return list(self.strategies)
        return [Strategy(name=self.recruits.rule, recruits=self.recruits)]

    def canonical_json(self) -> str:
        """The resolved scenario as canonical JSON (sorted keys); what the hash covers."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """SHA-256 of :meth:`canonical_json`: identifies the scenario in manifests and resumes."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def with_overrides(self, **changes: Any) -> Scenario:
        """A re-validated copy with top-level fields replaced (e.g. ``trials=10``)."""
        data = self.model_dump(mode="python")
        data.update({k: v for k, v in changes.items() if v is not None})
        try:
            out = Scenario.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError([f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]) from None
        out._source = self._source
        return out


# --------------------------------------------------------------------------- loading

def _data_path(doc: YamlDocument, loc: tuple) -> tuple:
    """Drop the union tags pydantic inserts into error locations, keeping real keys."""
    node, out = doc.data, []
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            out.append(part)
        elif not isinstance(node, (dict, list)):
            break
    return tuple(out)


def _problems(exc: ValidationError, doc: YamlDocument) -> list[str]:
    seen, lines = set(), []
    for err in exc.errors():
        path = _data_path(doc, err["loc"])
        msg = err["msg"]
        if err["type"] == "unknown_key":
            path = (*path, err["ctx"]["key"])
        elif err["type"] == "missing":
            path = (*path, err["loc"][-1])
            msg = "required key is missing"
        elif err["type"] == "union_tag_invalid":
            ctx = err["ctx"]
            path = (*path, ctx["discriminator"].strip("'"))
            msg = f"unknown {ctx['discriminator']} '{ctx['tag']}' (allowed: {ctx['expected_tags']})"
        elif err["type"] == "union_tag_not_found":
            msg = f"needs a {err['ctx']['discriminator']} key"
        elif err["type"].startswith("value_error"):
            msg = msg.removeprefix("Value error, ")
        elif "input" in err and not isinstance(err["input"], (dict, list)) and "(got" not in msg:
            msg = f"{msg} (got {err['input']!r})"
        if path in seen:
            continue
        seen.add(path)
        line = doc.line_of(path)
        key = ".".join(map(str, path)) or "(top level)"
        lines.append(f"{doc.source}:{line}: {key}: {msg}")
    return lines


def scenario_from_document(doc: YamlDocument, base_dir: Path) -> Scenario:
    """Validate a parsed document; relative paths in it are resolved against ``base_dir``."""
    if not isinstance(doc.data, dict):
        raise ScenarioError([f"{doc.source}:1: (top level): a scenario is a mapping of keys to values"])
    try:
        scenario = Scenario.model_validate(doc.data, context={"base_dir": str(base_dir)})
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, doc)) from None
    scenario._source = doc
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises
    ------
    ScenarioError
        With one ``file:line: key.path: problem`` line per problem.
    """
    path = Path(path)
    try:
        doc = read_yaml(path)
    except YamlError as exc:
        raise ScenarioError([str(exc)]) from None
    return scenario_from_document(doc, path.resolve().parent)


def parse_scenario(text: str, base_dir: str | Path = ".", source: str = "<string>") -> Scenario:
    """Validate a scenario given as YAML text (handy in notebooks and tests)."""
    try:
        doc = parse_yaml(text, source)
    except YamlError as exc:
        raise ScenarioError([str(exc)]) from None
    return scenario_from_document(doc, Path(base_dir))
