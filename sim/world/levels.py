"""Each creator's trust, authenticity and engagement: its tier's level, spread by the world's dispersion.

Creators of one tier differ (industry tables give engagement rates whose spread within a tier is
as wide as the gap between tiers; literature notes §1.1). A creator's level of attribute ``a``
is the ``q``-quantile of a Beta distribution with mean ``mu`` (the tier's level) and
concentration ``kappa = 1 / delta**2 - 1`` (``delta``: ``world.dispersion.<a>``), where ``q`` is
the creator's keyed uniform (:attr:`sim.world.population.Population.creator_quantile`). Its
standard deviation is then ``delta * sqrt(mu (1 - mu))``, a fraction ``delta`` of the largest a
variable on [0, 1] with mean ``mu`` can have, and its mean is ``mu`` whatever ``delta``: a
dispersion spreads creators around the tier's level without moving the tier's mean. ``delta =
0`` (the default) gives every creator the tier's level exactly (the homogeneous tiers of earlier
versions, bit for bit), as does a level of 0 or 1.

The quantiles are drawn once per world; the levels follow from the scenario's tier levels, so a
sweep or a calibration that moves a tier's trust keeps each creator's rank within its tier
(common random numbers).

A roster (``world.creators.roster``, :mod:`sim.world.roster`) composes with this: a creator's
``alignment`` from the file is its alignment (:attr:`Population.alignment`), and its
``engagement_rate`` from the file is its engagement (:attr:`CreatorLevels.exposure_engagement`
below), in place of its tier's level spread by the dispersion; where the file leaves them empty
(and for trust and authenticity, which a roster does not give) the creator is drawn as a generated
one is. Both engines read only these per-creator values, so a roster and the dispersion can never
give a creator two levels.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv

from sim.world.population import LEVELS, Population
from sim.world.spec import CreatorAudienceWorld


@dataclass(frozen=True, eq=False)
class CreatorLevels:
    """Per-creator attributes (float64[n_creators], indexed by creator number), each in [0, 1].

    Attributes
    ----------
    trust : float64 array
        A follower's initial trust in the creator (tier: ``tiers.<t>.trust``).
    authenticity : float64 array
        Persuasion factor of the creator's paid posts (tier: ``tiers.<t>.authenticity``).
    engagement : float64 array
        Engagement probability per exposure at initial trust, before the platform's multipliers
        (tier: ``tiers.<t>.engagement``). A roster creator with an ``engagement_rate``: the level
        those multipliers turn into its own rate (``exposure_engagement / multipliers``).
    exposure_engagement : float64 array
        What the engines read: the probability that a follower who sees one of the creator's posts
        on its home platform engages, at initial trust. ``engagement x platforms.<k>.engagement x
        platforms.<k>.tier_engagement.<t>``, or for a roster creator with an ``engagement_rate`` r,
        ``min(1, r / reach)`` (reach = ``platforms.<k>.organic_reach x tiers.<t>.reach``, at most
        1): a published rate is per follower and already the platform's, so no multiplier applies.
    """

    trust: np.ndarray
    authenticity: np.ndarray
    engagement: np.ndarray
    exposure_engagement: np.ndarray


def per_exposure_engagement(rate: float, reach: float) -> float:
    """A published engagement rate (per follower per post) as the probability that an exposed follower
    engages: ``min(1, rate / reach)``, reach being the share of followers a post reaches."""
    return min(1.0, rate / reach) if reach > 0 else 0.0


def spread(level: float, dispersion: float, quantile: np.ndarray) -> np.ndarray:
    """The ``quantile``-quantiles of Beta(mean ``level``, sd ``dispersion * sqrt(level (1 - level))``).

    Parameters
    ----------
    level : float
        The mean, in [0, 1].
    dispersion : float
        In [0, 1); 0 (or a level of 0 or 1) returns ``level`` for every quantile, exactly.
    quantile : float64 array
        Values in [0, 1).
    """
    quantile = np.asarray(quantile, dtype=np.float64)
    if dispersion == 0.0 or level <= 0.0 or level >= 1.0:
        return np.full(quantile.shape, float(level))
    kappa = 1.0 / dispersion**2 - 1.0
    return betaincinv(level * kappa, (1.0 - level) * kappa, quantile)


#: Levels already computed, per population (dropped with it) and per the world block's inputs to them:
#: a scenario's strategies, and the variants of one claims-audit point, share one world and its levels
#: (each call inverts a Beta distribution function for every creator: ~0.1 s for 80,000 creators).
_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MEMO_LOCK = threading.Lock()
_MEMO_PER_POPULATION = 8


def creator_levels(pop: Population, world: CreatorAudienceWorld) -> CreatorLevels:
    """Trust, authenticity and engagement of every creator of ``pop`` under the scenario's ``world`` block
    (a roster's own engagement rates in place of the drawn engagement, where the roster gives them).

    Memoised per population and the world's tiers, platforms and dispersion (what the levels read);
    the arrays returned are read-only, since callers share them.
    """
    key = world.model_dump_json(include={"tiers", "platforms", "dispersion"})
    with _MEMO_LOCK:
        found = _MEMO.get(pop, {}).get(key)
    if found is not None:
        return found
    levels = _creator_levels(pop, world)
    for a in (levels.trust, levels.authenticity, levels.engagement, levels.exposure_engagement):
        a.flags.writeable = False
    with _MEMO_LOCK:
        mine = _MEMO.setdefault(pop, {})
        if len(mine) >= _MEMO_PER_POPULATION:
            mine.pop(next(iter(mine)))
        mine[key] = levels
    return levels


def _spread_levels(pop: Population, world: CreatorAudienceWorld) -> dict[str, np.ndarray]:
    """Every creator's tier levels spread by the dispersion (memoised on the tiers' levels and the
    dispersion alone: variants that change only platforms reuse them)."""
    key = "spread:" + world.model_dump_json(include={"tiers", "dispersion"})
    with _MEMO_LOCK:
        found = _MEMO.get(pop, {}).get(key)
    if found is not None:
        return found
    n = pop.n_creators
    out = {name: np.zeros(n) for name in LEVELS}
    q = pop.creator_quantile if pop.creator_quantile is not None else np.full((n, len(LEVELS)), 0.5)
    for t, tier_name in enumerate(pop.tiers):
        mine = np.flatnonzero(pop.creator_tier == t)
        if not len(mine):
            continue
        tier = world.tiers[tier_name]
        for a, name in enumerate(LEVELS):
            out[name][mine] = spread(getattr(tier, name), getattr(world.dispersion, name), q[mine, a])
    with _MEMO_LOCK:
        mine_ = _MEMO.setdefault(pop, {})
        if len(mine_) >= _MEMO_PER_POPULATION:
            mine_.pop(next(iter(mine_)))
        mine_[key] = out
    return out


def _creator_levels(pop: Population, world: CreatorAudienceWorld) -> CreatorLevels:
    n = pop.n_creators
    out = {name: v.copy() for name, v in _spread_levels(pop, world).items()}
    p_mult, tp_mult = np.ones(n), np.ones(n)  # the platform's and the tier-on-platform multipliers
    for t, tier_name in enumerate(pop.tiers):
        mine = np.flatnonzero(pop.creator_tier == t)
        if not len(mine):
            continue
        for k, plat_name in enumerate(pop.platforms):
            plat = world.platforms[plat_name]
            here = mine[pop.creator_platform[mine] == k]
            p_mult[here] = plat.engagement
            tp_mult[here] = plat.tier_engagement.get(tier_name, 1.0)
    exposure = out["engagement"] * p_mult * tp_mult
    if pop.engagement_rate is not None:  # a roster's own rates, made per exposure
        own = np.flatnonzero(~np.isnan(pop.engagement_rate))
        t_reach = np.array([world.tiers[t].reach for t in pop.tiers])
        o_reach = np.array([world.platforms[k].organic_reach for k in pop.platforms])
        reach = np.minimum(1.0, o_reach[pop.creator_platform[own]] * t_reach[pop.creator_tier[own]])
        rate = pop.engagement_rate[own]
        # per_exposure_engagement, element by element
        exposure[own] = np.where(reach > 0, np.minimum(1.0, np.divide(rate, reach, out=np.zeros(len(own)),
                                                                      where=reach > 0)), 0.0)
        out["engagement"][own] = exposure[own] / (p_mult[own] * tp_mult[own])
    return CreatorLevels(**out, exposure_engagement=exposure)
