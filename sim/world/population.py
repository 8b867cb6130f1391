"""The creator–audience population: who is on which platform, who follows whom, who cares.

Accounts ``0 .. n_audience-1`` are the audience, ``n_audience .. n_accounts-1`` the
creators (tier by tier, in the scenario's tier order). One directed follow graph
holds both kinds of edge: peer edges among the audience (re-shares travel on them)
and creator → follower edges on the creator's home platform. The channel of an
edge is its source's: a creator's home platform, or :attr:`Population.peer_channel`
for an audience account (see :meth:`Population.account_channel`).

Everything random here is drawn once per world from generators keyed by
``(seed, WORLD, part)`` (the peer graph by ``(seed, WORLD)``, see :func:`sim.world.build.build_graph`),
independent of anything drawn in trials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from sim.base.intrinsics import prefetch
from sim.base.rng import Stream, derive, numpy_generator, root_key, uniforms
from sim.world.graph import FlatGraph
from sim.world.spec import CreatorAudienceWorld, TierName

#: Alignment is bucketed into this many levels when weighting follower choice, so a
#: creator's follower sampler is one of a few precomputed CDFs (cost O(levels x audience)).
ALIGNMENT_LEVELS = 32

# Parts of the WORLD stream: each component of the world draws from its own generator.
_SEGMENTS, _INTEREST, _CREATORS, _FOLLOWERS = 1, 2, 3, 4
#: Part of the WORLD stream keying each creator's level draws (:func:`creator_quantiles`).
_LEVELS = 5
#: Columns of :attr:`Population.creator_quantile`: the creator attributes drawn around the tier level.
LEVELS = ("trust", "authenticity", "engagement")


@dataclass(frozen=True, eq=False)
class Population:
    """A creator–audience world in flat arrays.

    Attributes
    ----------
    graph : FlatGraph
        Follow graph over all accounts (audience then creators).
    n_audience : int
        Audience accounts (indices below this number).
    segment : int16[n_audience]
        Segment index of each audience account.
    interest : float64[n_audience]
        Interest in the cause, in [0, 1].
    on_platform : bool[n_audience, n_platforms]
        Platform membership of each audience account.
    creator_tier, creator_platform : int8[n_creators]
        Tier and home platform index of each creator.
    followers_real : int64[n_creators]
        Follower count the creator stands for (real accounts).
    alignment : float64[n_creators]
        Creator's alignment with the cause, in [0, 1].
    platforms, tiers, segments : tuple of str
        Names, in index order.
    scale : float
        Real accounts one simulated account stands for.
    creator_quantile : float64[n_creators, 3] or None
        Where each creator stands among its tier in trust, authenticity and engagement
        (columns :data:`LEVELS`): a keyed uniform in [0, 1), turned into a level by the tier's
        level and the world's dispersion (:func:`sim.world.levels.creator_levels`). None for a
        population without creators.
    handles : tuple of str or None
        Roster worlds: each creator's handle (None: generated creators).
    price_per_post : float64[n_creators] or None
        Roster worlds: each creator's USD per post (replaces the rate card).
    engagement_rate : float64[n_creators] or None
        Roster worlds: each creator's engagements per follower per post (NaN: the tier's).
    """

    graph: FlatGraph
    n_audience: int
    segment: np.ndarray
    interest: np.ndarray
    on_platform: np.ndarray
    creator_tier: np.ndarray
    creator_platform: np.ndarray
    followers_real: np.ndarray
    alignment: np.ndarray
    platforms: tuple[str, ...]
    tiers: tuple[TierName, ...]
    segments: tuple[str, ...]
    scale: float
    creator_quantile: np.ndarray | None = None
    handles: tuple[str, ...] | None = None
    price_per_post: np.ndarray | None = None
    engagement_rate: np.ndarray | None = None

    def handle(self, creator: int) -> str:
        """A creator's name: its roster handle, or ``<tier>.<platform>.<number>`` for generated creators."""
        if self.handles is not None:
            return self.handles[creator]
        return f"{self.tiers[self.creator_tier[creator]]}.{self.platforms[self.creator_platform[creator]]}.{creator}"

    @property
    def n_creators(self) -> int:
        """Number of creators."""
        return len(self.creator_tier)

    @property
    def peer_channel(self) -> int:
        """Channel index of peer edges (one past the last platform)."""
        return len(self.platforms)

    @property
    def followers_sim(self) -> np.ndarray:
        """Simulated followers of each creator (out-degree of the creator's account)."""
        return self.graph.out_degree[self.n_audience:]

    def account_channel(self) -> np.ndarray:
        """Channel of each account's posts (int8[n]): home platform of a creator, else the peer channel."""
        out = np.full(self.graph.n, self.peer_channel, dtype=np.int8)
        out[self.n_audience:] = self.creator_platform
        return out

    def creator_account(self, creator: np.ndarray | int) -> np.ndarray | int:
        """Account index of creator number ``creator``."""
        return self.n_audience + creator

    def members(self, platform: int) -> np.ndarray:
        """Audience accounts on ``platform`` (int32, sorted)."""
        return np.flatnonzero(self.on_platform[:, platform]).astype(np.int32)


def _beta(rng: np.random.Generator, mean: float, concentration: float, size: int) -> np.ndarray:
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size=size)


@nb.njit(cache=True)
def _in_neighbour_sum(indptr, indices, values):
    out = np.zeros(indptr.shape[0] - 1)
    for u in range(indptr.shape[0] - 1):
        x = values[u]
        for e in range(indptr[u], indptr[u + 1]):
            out[indices[e]] += x
    return out


def _smooth(peers: FlatGraph, raw: np.ndarray, homophily: float) -> np.ndarray:
    """(1 - h) * own + h * mean over the accounts one follows-from (in-neighbours)."""
    if homophily == 0.0 or peers.m == 0:
        return raw
    total = _in_neighbour_sum(peers.indptr, peers.indices, raw)
    deg = peers.in_degree
    neighbour_mean = np.divide(total, deg, out=raw.copy(), where=deg > 0)
    return (1.0 - homophily) * raw + homophily * neighbour_mean


#: Entries of a CDF per block of its coarse index (:func:`coarse_index`): 8 cache lines.
CDF_BLOCK = 64
#: Keys ahead whose CDF block is prefetched.
_KEYS_AHEAD = 8


def coarse_index(cdf: np.ndarray) -> np.ndarray:
    """The last entry of every block of :data:`CDF_BLOCK` entries of ``cdf`` (the last block may be short).

    A CDF over millions of accounts does not fit the caches; its coarse index (1/64 of it)
    does, so :func:`search_sorted_keys` finds a key's block there and reads only that block.
    """
    return cdf[np.minimum(np.arange(CDF_BLOCK - 1, len(cdf) + CDF_BLOCK - 1, CDF_BLOCK), len(cdf) - 1)]


@nb.njit(cache=True, nogil=True)
def search_sorted_keys(cdf, coarse, keys):
    """``np.searchsorted(cdf, keys, side="right")`` for *sorted* ``keys`` and nondecreasing ``cdf``.

    Two passes give the same integers as NumPy with far fewer cache misses: each key's
    block is found in the cache-resident ``coarse`` index (:func:`coarse_index`) by
    galloping from the previous key's block; then each key is bisected within its block
    (64 entries), whose cache lines are prefetched a few keys ahead. NumPy bisects the
    whole remaining CDF for every key, a cache miss per probe on a CDF of millions.
    """
    n = cdf.shape[0]
    nb_ = coarse.shape[0]
    nk = keys.shape[0]
    block = np.empty(nk, np.int64)
    lo = 0  # every block so far is >= lo
    for i in range(nk):  # first block whose last entry exceeds the key (nb_: none does)
        x = keys[i]
        step = 1
        hi = lo
        while hi < nb_ and coarse[hi] <= x:
            lo = hi + 1
            hi = lo + step
            step *= 2
        hi = min(hi, nb_)
        while lo < hi:
            mid = (lo + hi) >> 1
            if coarse[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        block[i] = lo
    out = np.empty(nk, np.int64)
    for i in range(nk):
        if i + _KEYS_AHEAD < nk and block[i + _KEYS_AHEAD] < nb_:
            first = block[i + _KEYS_AHEAD] * CDF_BLOCK
            for c in range(0, min(CDF_BLOCK, n - first), 8):  # 8 float64 per cache line
                prefetch(cdf, first + c)
        b = block[i]
        if b == nb_:
            out[i] = n
            continue
        # Every entry before the block is <= the key, its last entry is > the key.
        lo = b * CDF_BLOCK
        hi = min(lo + CDF_BLOCK - 1, n - 1)
        x = keys[i]
        while lo < hi:
            mid = (lo + hi) >> 1
            if cdf[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo
    return out


@nb.njit(cache=True, nogil=True)
def union_sorted(a, b):
    """``np.union1d(a, b)`` for sorted ``a`` and ``b``: one merge instead of a hash and a sort."""
    out = np.empty(a.shape[0] + b.shape[0], a.dtype)
    i = j = k = 0
    while i < a.shape[0] or j < b.shape[0]:
        if j == b.shape[0] or (i < a.shape[0] and a[i] <= b[j]):
            x = a[i]
            i += 1
        else:
            x = b[j]
            j += 1
        if k == 0 or out[k - 1] != x:
            out[k] = x
            k += 1
    return out[:k]


def _sorted_draws(rng, cdf, coarse, k):
    """The ``k`` indices drawn from the distribution with CDF ``cdf``, in increasing order.

    Sorting the uniforms first lets the searches walk the CDF in order
    (:func:`search_sorted_keys`) and leaves the result sorted.
    """
    u = rng.random(k)
    u.sort()
    return search_sorted_keys(cdf, coarse, u).clip(0, len(cdf) - 1)


def _distinct_sorted(idx):
    if len(idx) == 0:
        return idx
    keep = np.empty(len(idx), dtype=bool)
    keep[0] = True
    np.not_equal(idx[1:], idx[:-1], out=keep[1:])
    return idx[keep]


def _sample_followers(rng, candidates, cdf, coarse, k):
    """The ``k`` distinct accounts from ``candidates`` (sorted) with probabilities given by ``cdf``."""
    if k >= len(candidates):
        return candidates
    idx = _distinct_sorted(_sorted_draws(rng, cdf, coarse, k))
    # Repeats are rare when k << candidates; top up the shortfall with fresh draws.
    for _ in range(50):
        short = k - len(idx)
        if short <= 0:
            break
        idx = union_sorted(idx, _sorted_draws(rng, cdf, coarse, 2 * short))
    if len(idx) > k:
        idx = np.sort(rng.choice(idx, size=k, replace=False))
    return candidates[idx]


def creator_quantiles(seed: int, creator_tier: np.ndarray) -> np.ndarray:
    """Keyed uniforms placing each creator within its tier, one column per attribute of :data:`LEVELS`.

    The draw of attribute ``a`` for the ``j``-th creator of tier ``t`` is ``U(K; j)`` with ``K =
    derive(derive(derive(derive(root, WORLD), 5), a), t)``: a pure function of the seed, the
    attribute, the tier's position and the creator's rank within its tier, so adding creators to one
    tier redraws nobody else, and both engines read the same levels.
    """
    def key(k, part):
        return np.uint64(derive(np.uint64(k), np.uint64(part)))

    world = key(key(root_key(seed), int(Stream.WORLD)), _LEVELS)
    out = np.zeros((len(creator_tier), len(LEVELS)))
    for t in np.unique(creator_tier).tolist():
        mine = np.flatnonzero(creator_tier == t)
        rank = np.arange(len(mine), dtype=np.uint64)
        for a in range(len(LEVELS)):
            out[mine, a] = uniforms(key(key(world, a), t), rank)
    return out


def build_population(spec: CreatorAudienceWorld, peers: FlatGraph, seed: int) -> Population:
    """Build a creator–audience world around an audience peer graph.

    Parameters
    ----------
    spec : CreatorAudienceWorld
        The world block of the scenario.
    peers : FlatGraph
        The audience's own follow graph (built from ``spec.audience.peers``).
    seed : int
        Root seed of the run.
    """
    n_a = peers.n
    platforms = tuple(spec.platforms)
    tiers = tuple(spec.tiers)
    segments = tuple(seg.name for seg in spec.audience.segments)

    # Segments and platform membership (segment-specific platform use).
    rng = numpy_generator(seed, Stream.WORLD, _SEGMENTS)
    shares = np.array([seg.share for seg in spec.audience.segments])
    segment = rng.choice(len(segments), size=n_a, p=shares / shares.sum()).astype(np.int16)
    use = np.array([[seg.platforms.get(p, 0.0) for p in platforms] for seg in spec.audience.segments])
    # Independent membership per platform, so the YAML probabilities are the membership rates;
    # an account on no platform is reachable only through its peers' re-shares.
    on_platform = rng.random((n_a, len(platforms))) < use[segment]

    # Interest in the cause, made alike among peers.
    rng = numpy_generator(seed, Stream.WORLD, _INTEREST)
    it = spec.audience.interest
    interest = np.clip(_smooth(peers, _beta(rng, it.mean, it.concentration, n_a), it.homophily), 0.0, 1.0)

    # Creators: tier, home platform, real follower count (log-uniform in the tier's range), alignment;
    # or the planner's roster, in file order (alignment drawn where the file leaves it empty).
    rng = numpy_generator(seed, Stream.WORLD, _CREATORS)
    roster = spec.roster()
    handles: tuple[str, ...] | None = None
    price_per_post: np.ndarray | None = None
    engagement_rate: np.ndarray | None = None
    if roster is not None:
        creator_tier = np.array([tiers.index(t) for t in roster.tier], dtype=np.int8)
        creator_platform = np.array([platforms.index(p) for p in roster.platform], dtype=np.int8)
        followers_real = roster.followers.copy()
        drawn = _beta(rng, spec.alignment.mean, spec.alignment.concentration, len(roster))
        alignment = np.where(np.isnan(roster.alignment), drawn, roster.alignment)
        handles = roster.handle
        price_per_post = roster.price_per_post.copy()
        engagement_rate = roster.engagement_rate.copy()
    else:
        c_tier, c_plat, c_real = [], [], []
        for t, name in enumerate(tiers):
            tier = spec.tiers[name]
            # validated (CreatorAudienceWorld): without a roster every tier has a count and platforms
            assert tier.count is not None and tier.platforms is not None
            shares = np.array([tier.platforms.get(p, 0.0) for p in platforms])
            c_tier.append(np.full(tier.count, t, dtype=np.int8))
            c_plat.append(rng.choice(len(platforms), size=tier.count, p=shares / shares.sum()).astype(np.int8))
            lo, hi = tier.followers
            c_real.append(np.floor(np.exp(rng.uniform(np.log(lo), np.log(hi), size=tier.count))).astype(np.int64))
        creator_tier = np.concatenate(c_tier) if c_tier else np.zeros(0, np.int8)
        creator_platform = np.concatenate(c_plat) if c_plat else np.zeros(0, np.int8)
        followers_real = np.concatenate(c_real) if c_real else np.zeros(0, np.int64)
        alignment = _beta(rng, spec.alignment.mean, spec.alignment.concentration, len(creator_tier))

    # Followers: audience members of the creator's platform, weighted towards interested
    # accounts for aligned creators: weight = exp(homophily * alignment * interest).
    # Creators are handled level by level so that one CDF over the platform is alive at a time.
    rng = numpy_generator(seed, Stream.WORLD, _FOLLOWERS)
    level = np.minimum((alignment * ALIGNMENT_LEVELS).astype(np.int64), ALIGNMENT_LEVELS - 1)
    followers: list[np.ndarray] = [np.zeros(0, np.int32)] * len(creator_tier)
    for p in range(len(platforms)):
        candidates = np.flatnonzero(on_platform[:, p]).astype(np.int32)
        mine = np.flatnonzero(creator_platform == p)
        if len(candidates) == 0 or len(mine) == 0:
            continue
        for lev in np.unique(level[mine]):
            a = (lev + 0.5) / ALIGNMENT_LEVELS
            cdf = np.cumsum(np.exp(spec.follower_homophily * a * interest[candidates]))
            cdf /= cdf[-1]
            coarse = coarse_index(cdf)
            for c in mine[level[mine] == lev]:
                # Only the followers in the modelled audience are sampled (audience_share = 1: all).
                share = spec.tiers[tiers[creator_tier[c]]].audience_share
                k = max(1, int(round(followers_real[c] * share / spec.scale)))
                followers[c] = _sample_followers(rng, candidates, cdf, coarse, k).astype(np.int32)
            del cdf, coarse
    # Creators come after the audience, so the full CSR is the peers' CSR followed by one
    # row per creator (its sorted followers): no sort over the whole graph.
    sizes = np.array([len(f) for f in followers], dtype=np.int64)
    indptr = np.concatenate([peers.indptr, peers.indptr[-1] + np.cumsum(sizes)])
    indices = np.concatenate([peers.indices, *followers]) if len(followers) else peers.indices.copy()
    del followers
    n = n_a + len(creator_tier)
    labels = np.arange(n, dtype=np.int64)
    graph = FlatGraph(indptr, indices.astype(np.int32, copy=False), labels, None, True,
                      f"creator_audience({n_a} audience, {len(creator_tier)} creators)")
    return Population(graph, n_a, segment, interest, on_platform, creator_tier, creator_platform,
                      followers_real, alignment, platforms, tiers, segments, float(spec.scale),
                      creator_quantile=creator_quantiles(seed, creator_tier), handles=handles,
                      price_per_post=price_per_post, engagement_rate=engagement_rate)
