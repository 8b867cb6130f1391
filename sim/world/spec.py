"""Scenario blocks that describe a world: follow graphs, and creator-audience worlds.

Validated strictly (see :mod:`sim.input.schema`); built by :mod:`sim.world.build`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeGuard, get_args

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sim.input.schema import NonNegative, PositiveInt, Probability, Spec
from sim.world.catalog import DATASETS, EdgeListFormat
from sim.world.roster import Roster, RosterError, digest, parse_roster, read_bytes, read_roster, resolve

# --------------------------------------------------------------------------- graphs

Builder = Literal["auto", "networkx", "direct"]
#: ``builder: auto`` uses the direct (NumPy/numba) generator from this many accounts on.
DIRECT_FROM = 100_000


class CommunitiesGraph(Spec):
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


class ErdosRenyiGraph(Spec):
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


class RandomRegularGraph(Spec):
    """Uniform random d-regular simple graph (undirected)."""

    kind: Literal["random_regular"]
    n: PositiveInt
    degree: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _fits(self) -> RandomRegularGraph:
        if self.degree >= self.n or (self.n * self.degree) % 2:
            raise ValueError(f"need degree < n and n * degree even (n={self.n}, degree={self.degree})")
        return self


class BarabasiAlbertGraph(Spec):
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


class WattsStrogatzGraph(Spec):
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


class PoissonDegrees(Spec):
    """Poisson(mean) degrees."""

    kind: Literal["poisson"]
    mean: Annotated[float, Field(gt=0.0)]


class PowerLawDegrees(Spec):
    """P(k) proportional to k^-exponent on min..max."""

    kind: Literal["power_law"]
    exponent: Annotated[float, Field(gt=1.0)]
    min: PositiveInt = 1
    max: Annotated[int, Field(ge=1, le=10**7)] = 1000  # every degree of min..max is listed when drawing

    @model_validator(mode="after")
    def _fits(self) -> PowerLawDegrees:
        if self.max < self.min:
            raise ValueError(f"need min <= max (min={self.min}, max={self.max})")
        return self


class PmfDegrees(Spec):
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


class ConfigurationGraph(Spec):
    """Configuration model (Molloy & Reed 1995; Newman, Strogatz & Watts 2001): a random multigraph
    with i.i.d. degrees from ``degrees``; self-loops are removed, parallel edges kept."""

    kind: Literal["configuration"]
    n: PositiveInt
    degrees: DegreeDistribution


class EdgeListGraph(Spec):
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
        try:
            path = (base / value).resolve()
            found = path.is_file()
        except (OSError, RuntimeError) as exc:  # a name too long, a loop of symbolic links
            why = getattr(exc, "strerror", None) or str(exc)
            raise PydanticCustomError("file_missing", "cannot be read: {why}", {"why": why}) from None
        if not found:
            raise PydanticCustomError("file_missing", "no such file: {path}", {"path": str(path)})
        return str(path)


class DatasetGraph(Spec):
    """A real network known by name (see :mod:`sim.world.datasets`)."""

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


class WorldSpec(Spec):
    """A network world: one follow graph, for the classic contagion models."""

    kind: Literal["network"] = "network"
    graph: GraphSpec


# --------------------------------------------------------------------------- creator-audience worlds

#: Creator tiers. ``celebrity`` is a real celebrity (tens to hundreds of millions of followers, press
#: coverage); ``mega`` is an influencer with millions (docs/model.md §2, §7.12).
TierName = Literal["nano", "micro", "macro", "mega", "celebrity"]


def is_tier(name: str) -> TypeGuard[TierName]:
    """Whether ``name`` is a creator tier (narrows a ``str``, such as a ``tier.platform`` cell's
    first part, to :data:`TierName`)."""
    return name in get_args(TierName)


class BetaSpec(Spec):
    """A Beta distribution on [0, 1] given by its mean and concentration (a + b)."""

    mean: Annotated[float, Field(gt=0.0, lt=1.0)]
    concentration: Annotated[float, Field(gt=0.0)] = 4.0

    @model_validator(mode="after")
    def _positive_shapes(self) -> BetaSpec:
        # Both bounds hold, yet a product can underflow to 0 (mean 1e-300, concentration 1e-300),
        # which the Beta sampler refuses.
        a, b = self.mean * self.concentration, (1.0 - self.mean) * self.concentration
        if not (a > 0.0 and b > 0.0):
            raise ValueError(f"concentration {self.concentration:g} is too small for mean {self.mean:g}: the Beta "
                             f"shapes mean x concentration = {a:g} and (1 - mean) x concentration = {b:g} must be "
                             "positive")
        return self


class InterestSpec(BetaSpec):
    """Interest in the cause: Beta(mean, concentration) per account, then smoothed over the peer
    graph with weight ``homophily`` (0: independent; 1: every account takes its peers' mean),
    which makes peers' interests alike (McPherson, Smith-Lovin & Cook 2001)."""

    homophily: Probability = 0.5


class SegmentSpec(Spec):
    """An audience segment (e.g. an age band): its share of accounts and, per platform, the
    probability that a member is on it, independently per platform (Pew-style platform use
    by age). A member drawn onto no platform is reachable only through peers' re-shares."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+-]+$", max_length=40)]
    share: Annotated[float, Field(gt=0.0, le=1.0)]
    platforms: Annotated[dict[str, Probability], Field(min_length=1)]


class AudienceSpec(Spec):
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


class ShockSpec(Spec):
    """From ``day`` on, the platform's reach (organic and discovery) is multiplied by ``reach_factor``."""

    day: Annotated[int, Field(ge=0)]
    reach_factor: Probability


class PlatformSpec(Spec):
    """A platform.

    ``organic_reach``: probability that a follower sees a post (Instagram feed ~0.1-0.2 in
    industry reports). ``discovery``: algorithmic exposure of non-followers — a post makes
    ``round(discovery x simulated followers x shock)`` draws, uniformly with replacement from
    the platform's members; repeats and accounts the post already reached are skipped
    (TikTok's For You feed can exceed 1). ``engagement``: multiplier on the tiers' engagement
    probabilities for posts on this platform (engagement differs by platform as well as tier).
    ``tier_engagement``: a further multiplier per tier on this platform (default 1), so the
    engagement gradient across tiers can differ by platform (IMH 2021: micro/mega ER 3.2x on
    Instagram, 4.4x on YouTube, ~3.6x on TikTok; literature notes §1.4).
    """

    organic_reach: Probability
    discovery: NonNegative = 0.0
    engagement: Annotated[float, Field(gt=0.0)] = 1.0
    tier_engagement: dict[TierName, Annotated[float, Field(gt=0.0)]] = {}
    shock: ShockSpec | None = None


class PressSpec(Spec):
    """Earned media: press coverage of a post, reaching audience accounts whatever platforms they use.

    Each post of a creator of the tier makes ``round(reach x audience)`` draws, uniformly with
    replacement from the whole simulated audience, on the day of the post (repeats and accounts
    the post already reached are skipped). ``trust``: trust in the creator of someone who meets the
    post through the press; ``engagement``: probability that a press exposure engages.
    """

    reach: Probability
    trust: Probability = 0.1
    engagement: Probability = 0.0


class TierSpec(Spec):
    """Creators of one tier.

    Attributes
    ----------
    followers : [low, high)
        Real follower counts, drawn log-uniformly; tier edges are parameters, not constants.
    count : int
        Creators of this tier in the world (generated worlds; a roster lists its creators instead).
    platforms : dict
        Share of the tier's creators whose home platform is each platform (sums to 1; generated
        worlds only).
    reach : float
        Multiplier on the platform's organic reach for this tier's posts (> 0).
    engagement : float
        Probability that an exposed follower engages, at the tier's initial trust.
    trust : float
        Initial trust of a follower in a creator of this tier, in [0, 1].
    authenticity : float
        Persuasion factor of a paid post (1: reads as authentic; lower: transactional).
    audience_share : float
        Share of a creator's real followers who belong to the modelled audience, in (0, 1]
        (default 1: all of them). A celebrity with 200 M followers worldwide has only some of
        them in a national audience; the world samples ``followers x audience_share / scale``.
    press : PressSpec or None
        Earned media: press coverage of every post of the tier's creators (None: none).
    """

    # Drawn in float64 and floored to int64: up to 2**53 (far above any account) they are exact.
    followers: tuple[Annotated[int, Field(ge=1, le=2**53)], Annotated[int, Field(ge=1, le=2**53)]]
    count: Annotated[Annotated[int, Field(ge=0)] | None, Field(exclude_if=lambda v: v is None)] = None
    platforms: Annotated[Annotated[dict[str, Probability], Field(min_length=1)] | None,
                         Field(exclude_if=lambda v: v is None)] = None
    reach: Annotated[float, Field(gt=0.0)] = 1.0
    engagement: Probability
    trust: Probability
    authenticity: Probability = 1.0
    audience_share: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    press: PressSpec | None = None

    @field_validator("followers", mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _fits(self) -> TierSpec:
        lo, hi = self.followers
        if hi <= lo:
            raise ValueError(f"followers must be [low, high) with high > low, got [{lo}, {hi}]")
        total = sum(self.platforms.values()) if self.platforms is not None else 1.0
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"platform shares must sum to 1 (they sum to {total:.6g})")
        return self


Dispersion = Annotated[float, Field(ge=0.0, lt=1.0)]


class DispersionSpec(Spec):
    """Spread of creators around their tier's level (docs/model.md §5, item 4b).

    Each creator's trust, authenticity and engagement is drawn once per world from a Beta
    distribution whose mean is the tier's level and whose standard deviation is ``dispersion x
    sqrt(level x (1 - level))``, the largest a variable on [0, 1] with that mean can have: 0 puts
    every creator at its tier's level (the homogeneous tiers of earlier versions), values near 1
    make creators all-or-nothing.
    """

    trust: Dispersion = 0.0
    authenticity: Dispersion = 0.0
    engagement: Dispersion = 0.0


class CreatorsSpec(Spec):
    """The planner's own creators: ``{roster: creators.csv}`` (path relative to the scenario); see
    :mod:`sim.world.roster` for the columns. ``sha256`` is the file's digest, filled in when the
    scenario is read (so a changed file is another scenario); given, it must match the file."""

    roster: Annotated[str, Field(min_length=1, max_length=1000)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    _parsed: Any = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("roster"), str):
            return data
        base = Path((info.context or {}).get("base_dir", "."))
        try:
            path = (base / data["roster"]).resolve()
            found = path.is_file()  # a device (/dev/zero), a FIFO or a folder is not a roster
        except (OSError, RuntimeError) as exc:  # a name too long, a loop of symbolic links
            why = getattr(exc, "strerror", None) or str(exc)
            raise PydanticCustomError("bad_path", "cannot be read: {why}", {"at": ("roster",), "why": why}) from None
        if not found:
            raise PydanticCustomError("bad_path", "no such file: {path}", {"at": ("roster",), "path": str(path)})
        try:
            content = read_bytes(path, source=data["roster"])  # read once, bounded: digest and parse the same bytes
        except RosterError as exc:
            raise PydanticCustomError("bad_path", "{problem}", {"at": ("roster",), "problem": exc.brief()}) from None
        found = digest(content)
        given = data.get("sha256")
        if isinstance(given, str) and given != found:
            raise PydanticCustomError("bad_path", "{path} has changed since this scenario was written (SHA-256 "
                                      "{found}, expected {given})", {"at": ("roster",), "path": str(path),
                                                                     "found": found[:12] + "...",
                                                                     "given": given[:12] + "..."})
        try:
            parsed = parse_roster(content, source=data["roster"])
        except RosterError as exc:
            raise PydanticCustomError("bad_path", "{problem}", {"at": ("roster",), "problem": exc.brief()}) from None
        _ROSTERS[found] = parsed
        return {**data, "roster": str(path), "sha256": found}

    def model_post_init(self, context: Any) -> None:
        """Attach the roster parsed during validation (cached by content hash)."""
        self._parsed = _ROSTERS.get(self.sha256) if self.sha256 is not None else None

    def parsed(self) -> Roster:
        """The roster as read (:class:`sim.world.roster.Roster`; tiers not yet resolved)."""
        if self._parsed is None:
            self._parsed = read_roster(self.roster)
        return self._parsed


#: Rosters read in this process, by SHA-256 (re-validating a scenario does not parse its roster again).
_ROSTERS: dict[str, Any] = {}


class CreatorAudienceWorld(Spec):
    """Creators of several tiers and platforms, and an audience that follows them and each other.

    ``scale``: one simulated account stands for ``scale`` real ones. Follower counts in
    ``tiers`` are real; a creator gets ``round(followers x audience_share / scale)`` simulated
    followers, and totals in the outputs are reported in real accounts (simulated x scale).
    ``dispersion``: how far creators of a tier differ in trust, authenticity and engagement.
    """

    kind: Literal["creator_audience"]
    scale: Annotated[float, Field(ge=1.0)] = 1.0
    audience: AudienceSpec
    platforms: Annotated[dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")], PlatformSpec],
                         Field(min_length=1)]
    tiers: Annotated[dict[TierName, TierSpec], Field(min_length=1)]
    alignment: BetaSpec = BetaSpec(mean=0.5, concentration=4.0)
    follower_homophily: NonNegative = 1.0
    dispersion: DispersionSpec = DispersionSpec()
    creators: Annotated[CreatorsSpec | None, Field(exclude_if=lambda v: v is None)] = None
    _roster: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _platforms_known(self) -> CreatorAudienceWorld:
        largest = max(spec.followers[1] for spec in self.tiers.values())
        if self.scale > largest:  # also keeps totals (simulated x scale) and their squares finite
            raise ValueError(f"scale {self.scale:g} is more than the largest follower count ({largest:,}): no creator "
                             "would have a simulated follower")
        known = set(self.platforms)
        for t, spec in self.tiers.items():
            if self.creators is None and (spec.count is None or spec.platforms is None):
                raise ValueError(f"tiers.{t}: give 'count' and 'platforms' (how many creators of the tier, and "
                                 "where), or list the creators in world.creators.roster")
            if self.creators is not None and (spec.count is not None or spec.platforms is not None):
                raise ValueError(f"tiers.{t}: with a roster the creators come from the file; remove 'count' and "
                                 "'platforms' from the tier (it keeps followers, engagement, trust, ...)")
        if self.creators is not None:
            try:
                self._roster = resolve(self.creators.parsed(), list(self.platforms), dict(self.tiers))
            except RosterError as exc:
                raise PydanticCustomError("bad_path", "{problem}", {"at": ("creators", "roster"),
                                                                    "problem": exc.brief()}) from None
        for where, names in [(f"tiers.{t}.platforms", spec.platforms or {}) for t, spec in self.tiers.items()] + [
                (f"audience.segments.{seg.name}.platforms", seg.platforms) for seg in self.audience.segments]:
            unknown = sorted(set(names) - known)
            if unknown:
                raise ValueError(f"{where}: unknown platform {unknown[0]!r} (platforms: {', '.join(sorted(known))})")
        for name, plat in self.platforms.items():
            unknown = sorted(set(plat.tier_engagement) - set(self.tiers))
            if unknown:
                raise ValueError(f"platforms.{name}.tier_engagement: tier {unknown[0]!r} is not in world.tiers "
                                 f"({', '.join(self.tiers)})")
        return self

    def roster(self) -> Roster | None:
        """The roster with every creator's tier resolved (:class:`sim.world.roster.Roster`), or None."""
        if self.creators is None:
            return None
        if self._roster is None:
            self._roster = resolve(self.creators.parsed(), list(self.platforms), dict(self.tiers))
        return self._roster

    def tier_counts(self) -> dict[str, int]:
        """Creators of each tier: the tiers' ``count``, or the roster's."""
        roster = self.roster()
        if roster is None:
            counts: dict[str, int] = {}
            for t, spec in self.tiers.items():
                assert spec.count is not None  # validated (_platforms_known): without a roster every tier has one
                counts[t] = int(spec.count)
            return counts
        return {t: sum(1 for x in roster.tier if x == t) for t in self.tiers}


def world_kind(data: Any) -> str:
    """The world's ``kind`` (``network`` when absent), from raw YAML data or a parsed spec."""
    if isinstance(data, dict):
        return data.get("kind", "network")
    return getattr(data, "kind", "network")


def graph_of(world: WorldSpec | CreatorAudienceWorld) -> GraphSpec:
    """The follow graph's block: the network's graph, or the audience's peer graph."""
    return world.audience.peers if isinstance(world, CreatorAudienceWorld) else world.graph


def graph_key(world: WorldSpec | CreatorAudienceWorld) -> tuple[str, ...]:
    """The key path of :func:`graph_of`'s block in a scenario (where a problem with it is reported)."""
    return ("world", "audience", "peers") if isinstance(world, CreatorAudienceWorld) else ("world", "graph")
