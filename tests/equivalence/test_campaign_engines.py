"""The Mesa engine of the campaign model (sim.campaign.agents) reproduces the numba kernel exactly.

Every random number is keyed by what it is for (sim.base.rng), so for the same population,
compiled arrays, schedule, root key and trial the two engines must give the same
adoption day for every account and the same totals, daily series, per-partner and
per-segment arrays, and the same day of every account's first engagement (the action
funnel: who engaged, and whether before adopting): ``np.array_equal``, not a statistical match. The Mesa engine
visits agents in a shuffled order; its results must not depend on that shuffle's seed.

Worlds are drawn from a seeded generator and built through the scenario schema, with
(in most worlds) every behaviour on: discovery, shocks, conviction decay, trust growth,
fatigue and recovery, re-shares, dilution, paid and unpaid posts, authenticity < 1,
several posts per creator per day and ambassador schedules, in both adoption modes; and the
mechanisms of issue 19: alignment in the dose, actions on engagement, the multiple-source
weight (threshold mode), wear-in / wear-out over repeated exposures, creators spread around
their tier's levels, engagement per tier and platform, celebrities with press coverage and
part of their followers in the audience. ``scenarios/mechanisms.yaml`` (every mechanism on)
is run through both engines' tables too.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

from sim.base.kernel_records import build
from sim.base.rng import Stream, derive, lane_below, root_key, trial_key, uniform
from sim.campaign import agents as campaign_agents
from sim.campaign import kernel as ck
from sim.campaign import model as campaign
from sim.campaign.family import compile_campaign
from sim.input.scenario import Scenario
from sim.world.build import build_world
from sim.world.spec import CreatorAudienceWorld

TRIALS = (0, 5, 2**40 + 3)
SHUFFLE_SEEDS = (0, 987654321)
N_WORLDS = 36
OUTPUTS = ("totals", "series", "partners", "segments")
PLATFORMS = ("instagram", "tiktok", "x")
TIERS = ("nano", "micro", "macro", "mega", "celebrity")


# --------------------------------------------------------------------------- random worlds

def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _peers(rng: np.random.Generator, n: int) -> dict:
    kind = ("communities", "erdos_renyi", "barabasi_albert", "watts_strogatz", "configuration",
            "random_regular")[int(rng.integers(6))]
    if kind == "communities":
        return {"kind": kind, "n": n, "count": int(rng.integers(2, 6)),
                "mean_degree": _u(rng, 2, 6), "mixing": _u(rng, 0.05, 0.4)}
    if kind == "erdos_renyi":
        return {"kind": kind, "n": n, "mean_degree": _u(rng, 1, 5),
                "directed": bool(rng.random() < 0.5)}
    if kind == "barabasi_albert":
        return {"kind": kind, "n": n, "m": int(rng.integers(1, 4))}
    if kind == "watts_strogatz":
        return {"kind": kind, "n": n, "k": 2 * int(rng.integers(1, 3)), "p": _u(rng, 0, 0.3)}
    if kind == "configuration":  # keeps parallel edges: several peer edges u -> v
        return {"kind": kind, "n": n, "degrees": {"kind": "poisson", "mean": _u(rng, 1.5, 4)}}
    return {"kind": kind, "n": n + n % 2, "degree": int(rng.integers(1, 4)) * 2}


def _world_dict(rng: np.random.Generator, full: bool) -> dict:
    """Draw a creator-audience world; ``full`` switches every behaviour on."""
    n = int(rng.integers(30, 301))
    platforms = list(rng.permutation(PLATFORMS)[: int(rng.integers(1, 4))])
    plats = {}
    for i, p in enumerate(platforms):
        spec = {"organic_reach": 1.0 if rng.random() < 0.2 else _u(rng, 0.3, 1.0),
                "discovery": _u(rng, 0.05, 0.8) if full or rng.random() < 0.5 else 0.0}
        if (full and i == 0) or rng.random() < 0.4:
            spec["shock"] = {"day": int(rng.integers(1, 8)), "reach_factor": _u(rng, 0.0, 0.9)}
        plats[str(p)] = spec
    shares = ([1.0], [0.25, 0.75], [0.5, 0.5], [0.2, 0.3, 0.5])[int(rng.integers(4))]
    segments = [{"name": f"s{i}", "share": sh,
                 "platforms": {str(p): _u(rng, 0.3, 1.0) for p in platforms}}
                for i, sh in enumerate(shares)]
    scale = (1.0, 1.0, 2.0)[int(rng.integers(3))]
    tiers = {}
    for t in sorted(rng.choice(len(TIERS), size=int(rng.integers(1, 4)), replace=False)):
        lo = int(rng.integers(2, 12)) * scale
        w = rng.random(len(platforms)) + 0.1
        share = np.round(w / w.sum(), 3)
        share[-1] = 1.0 - share[:-1].sum()
        tiers[TIERS[t]] = {
            "followers": [int(lo), int(lo * _u(rng, 1.5, 6)) + 1],
            "count": int(rng.integers(1, 5)),
            "platforms": {str(p): float(s) for p, s in zip(platforms, share, strict=True)},
            "reach": _u(rng, 0.5, 1.5),
            "engagement": _u(rng, 0.05, 0.9),
            "trust": 0.0 if (not full and rng.random() < 0.3) else _u(rng, 0.2, 0.9),
            "authenticity": _u(rng, 0.3, 0.95) if full or rng.random() < 0.5 else 1.0,
        }
        # Mechanisms of issue 19: part of the followers in the audience, press coverage.
        if rng.random() < 0.3:
            tiers[TIERS[t]]["audience_share"] = _u(rng, 0.3, 1.0)
        if (full and rng.random() < 0.5) or rng.random() < 0.2:
            tiers[TIERS[t]]["press"] = {"reach": _u(rng, 0.02, 0.4), "trust": _u(rng, 0.05, 0.6),
                                        "engagement": _u(rng, 0.0, 0.6)}
    for p in plats:  # engagement per tier and platform
        if rng.random() < 0.5:
            plats[p]["tier_engagement"] = {t: _u(rng, 0.3, 2.0) for t in tiers if rng.random() < 0.6}
    dispersion = {a: _u(rng, 0.0, 0.8) for a in ("trust", "authenticity", "engagement")
                  if full or rng.random() < 0.5}
    return {"kind": "creator_audience", "scale": scale,
            "audience": {"peers": _peers(rng, n), "segments": segments,
                         "interest": {"mean": _u(rng, 0.2, 0.7), "concentration": 4.0,
                                      "homophily": _u(rng, 0, 0.8)}},
            "platforms": plats, "tiers": tiers, "follower_homophily": _u(rng, 0, 2), "dispersion": dispersion}


def _model_dict(rng: np.random.Generator, full: bool, independent: bool) -> dict:
    def on(lo: float, hi: float) -> float:
        if not full and rng.random() < 0.3:
            return (0.0, 1.0)[int(rng.integers(2))]  # switched off, or the extreme
        return _u(rng, lo, hi)

    model = {
        "kind": "campaign", "adoption": "independent" if independent else "threshold",
        "threshold": {"max": _u(rng, 0.3, 2.5), "interest_effect": _u(rng, 0, 1)},
        "conversion_rate": _u(rng, 0.3, 3.0), "message_strength": _u(rng, 0.6, 2.0),
        "dilution": on(0.1, 0.8), "conviction_decay": on(0.05, 0.5), "trust_growth": on(0.05, 0.5),
        "trust_ceiling": _u(rng, 0.6, 1.0), "fatigue": on(0.05, 0.6),
        "fatigue_recovery": on(0.05, 0.6), "reshare": _u(rng, 0.3, 1.0),
        "peer_reach": _u(rng, 0.3, 1.0), "peer_trust": _u(rng, 0.2, 0.9),
        "peer_engagement": _u(rng, 0.05, 0.5), "stranger_trust": _u(rng, 0.05, 0.5),
        # Mechanisms of issue 19.
        "alignment_weight": on(0.1, 1.0), "action_on_engagement": on(0.05, 0.8),
        "click_share": 1.0 - on(0.1, 0.9),  # the click stage: off (1) in some worlds, 0 (no click) in others
        # Small peaks, so that repeated exposures pass them (null: no wear-out term).
        "repetition_peak": None if (not full and rng.random() < 0.3) else _u(rng, 1.0, 4.0),
    }
    if not independent:  # the multiple-source weight needs accumulated conviction
        model["sources"] = {"synergy": _u(rng, -1.0, 2.0) if full or rng.random() < 0.5 else 0.0,
                            "cap": int(rng.integers(1, 6))}
    return model


def _post_days(rng: np.random.Generator, days: int) -> dict:
    if rng.random() < 0.4:  # ambassador: a regular schedule
        every = int(rng.integers(1, 4))
        count = int(rng.integers(2, max(3, (days - 1) // every + 1)))
        count = min(count, (days - 1) // every + 1)
        start = int(rng.integers(0, days - (count - 1) * every))
        return {"schedule": {"start": start, "every": every, "count": count}}
    k = int(rng.integers(1, 5))
    d = rng.integers(0, days, k).tolist()
    if rng.random() < 0.6:
        d.append(d[0])  # two posts by each partner on one day
    return {"days": [int(x) for x in d]}


def _strategies(rng: np.random.Generator, world: CreatorAudienceWorld, seed: int, days: int,
                rate_card: dict) -> list[dict]:
    pop = build_world(world, seed).population
    pools = {}
    for c in range(pop.n_creators):
        key = (pop.tiers[pop.creator_tier[c]], pop.platforms[pop.creator_platform[c]])
        pools[key] = pools.get(key, 0) + 1
    keys = sorted(pools)
    out = []
    for s in range(int(rng.integers(1, 3))):
        left = dict(pools)
        groups = []
        for _ in range(int(rng.integers(1, 4))):
            avail = [k for k in keys if left[k] > 0]
            if not avail:
                break
            tier, plat = avail[int(rng.integers(len(avail)))]
            n = int(rng.integers(1, min(3, left[(tier, plat)]) + 1))
            left[(tier, plat)] -= n
            g = {"tier": tier, "platform": plat, **_post_days(rng, days),
                 "select": ("random", "top_followers", "most_aligned")[int(rng.integers(3))],
                 "variant_distance": _u(rng, 0, 1) if rng.random() < 0.7 else 0.0,
                 "paid": bool(rng.random() < 0.7)}
            n_posts = len(g["days"]) if "days" in g else g["schedule"]["count"]
            price = rate_card[plat][tier]
            if g["paid"] and rng.random() < 0.3:
                g["budget"] = float(price * n_posts * n + price / 2)  # pays for exactly n partners
            else:
                g["creators"] = n
            groups.append(g)
        out.append({"name": f"s{s}", "posts": groups})
    return out


def _scenario(i: int) -> Scenario:
    rng = np.random.default_rng(7000 + i)
    full = i % 6 != 5  # most worlds: every behaviour on
    seed = int(rng.integers(2**63))
    days = int(rng.integers(6, 21))
    world = _world_dict(rng, full)
    rate_card = {p: {t: float(rng.integers(1, 100)) for t in TIERS} for p in world["platforms"]}
    spec = CreatorAudienceWorld.model_validate(world)
    data = {"name": f"world-{i}", "seed": seed, "trials": 1, "days": days, "world": world,
            "model": _model_dict(rng, full, independent=i % 2 == 1), "rate_card": rate_card,
            "strategies": _strategies(rng, spec, seed, days, rate_card)}
    return Scenario.model_validate(data)


class _Case:
    """A scenario built once: population, compiled arrays and schedules."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.pop = build_world(scenario.world, scenario.seed).population
        self.arrays, self.schedules = compile_campaign(scenario, self.pop)
        self.root = root_key(scenario.seed)


CASES = [_Case(_scenario(i)) for i in range(N_WORLDS)]
# Kernel results of every case, strategy and trial, for the coverage check.
KERNEL = [[campaign.simulate(c.pop, c.arrays, s, c.root, np.array(TRIALS)) for s in c.schedules]
          for c in CASES]


def _assert_same_outcome(kernel, mesa, where: str) -> None:
    for field in ("trials", *OUTPUTS):
        k, m = getattr(kernel, field), getattr(mesa, field)
        assert m.dtype == k.dtype and m.shape == k.shape, f"{where}: {field} dtype or shape"
        assert np.array_equal(m, k), f"{where}: {field} differs at {np.argwhere(m != k)[:5]}"


def _funnel_counts(adopted: np.ndarray, engaged: np.ndarray) -> dict:
    """Funnel totals recounted from per-account adoption and first-engagement days."""
    adopters = adopted >= 0
    before = adopters & (engaged >= 0) & (engaged <= adopted)  # engaged by the end of the adoption day
    return {"engagers": int((engaged >= 0).sum()), "adopters_engaged": int(before.sum()),
            "adopters_unengaged": int((adopters & ~before).sum())}


@pytest.mark.parametrize("ci", range(N_WORLDS), ids=[f"world-{i}" for i in range(N_WORLDS)])
def test_adoption_days_and_outcomes_identical(ci):
    """Per-account adoption days, first engagement days and every outcome array agree, for any
    shuffle seed; the funnel totals are the per-account facts counted."""
    c = CASES[ci]
    for si, sched in enumerate(c.schedules):
        where = f"world-{ci} strategy {si}"
        for ti, trial in enumerate(TRIALS):
            k_days, k_eng, k_tot = campaign.funnel_days(c.pop, c.arrays, sched, c.root, trial)
            assert np.array_equal(campaign.adoption_days(c.pop, c.arrays, sched, c.root, trial)[0], k_days)
            seed = SHUFFLE_SEEDS[(ci + ti) % len(SHUFFLE_SEEDS)]
            m_days, m_eng, m_tot = campaign_agents.funnel_days(c.pop, c.arrays, sched, c.root, trial,
                                                               shuffle_seed=seed)
            assert m_days.dtype == m_eng.dtype == np.int32 and m_tot.dtype == np.int64
            differ = np.flatnonzero(m_days != k_days).tolist()
            assert not differ, f"{where} trial {trial}: accounts {differ} differ"
            differ = np.flatnonzero(m_eng != k_eng).tolist()
            assert not differ, f"{where} trial {trial}: first engagement of accounts {differ} differs"
            assert np.array_equal(m_tot, k_tot), f"{where} trial {trial}: totals {m_tot} vs {k_tot}"
            assert np.array_equal(k_tot, KERNEL[ci][si].totals[ti])
            tot = dict(zip(ck.TOTALS, k_tot.tolist(), strict=True))
            assert {k: tot[k] for k in _funnel_counts(k_days, k_eng)} == _funnel_counts(k_days, k_eng), where
        for seed in SHUFFLE_SEEDS:
            mesa = campaign_agents.simulate(c.pop, c.arrays, sched, c.root, np.array(TRIALS),
                                            shuffle_seed=seed)
            _assert_same_outcome(KERNEL[ci][si], mesa, f"{where} shuffle seed {seed}")


@pytest.mark.parametrize("batch", [1, 5, 64])
def test_kernel_batching_never_changes_a_result(batch):
    """The kernel books exposures in batches (draws first, then booking, repeated when the
    buffers fill: between posts, or in the middle of a post's discovery draws). Any batch
    size gives the same outputs as the default; batch 1 makes the buffers just hold the
    largest poster's followers, so they fill in almost every post."""
    n_flushing = 0
    for ci, c in enumerate(CASES):
        for si, sched in enumerate(c.schedules):
            records = campaign.kernel_records(c.pop, c.arrays, sched)
            totals, series, partners, segments, *lists = ck._run_trials(
                *records, np.uint64(c.root), np.array(TRIALS, np.int64), batch)
            ref = KERNEL[ci][si]
            for name, got in zip(OUTPUTS, (totals, series, partners, segments), strict=True):
                assert np.array_equal(got, getattr(ref, name)), f"world-{ci} strategy {si} batch {batch}: {name}"
            # Adopter and engager lists (last trial), in booking order: the same order at any batch size.
            want = ck._run_trials(*records, np.uint64(c.root), np.array(TRIALS, np.int64), ck._BATCH)[4:]
            for got, w in zip(lists, want, strict=True):
                assert np.array_equal(got, w), f"world-{ci} strategy {si} batch {batch}: adopter/engager lists"
            deg = np.diff(c.pop.graph.indptr)
            n_flushing += bool(np.any(deg[sched.account] + sched.n_discovery > max(deg.max(), batch)))
    if batch == 1:
        assert n_flushing >= 10  # strategies with a post whose discovery overflows the buffers


def test_kernel_flush_before_a_followerless_posters_discovery():
    """The buffers fill exactly with one post's followers; the next scheduled poster has no
    followers, only discovery draws, so the flush comes before any of its draws. Its
    exposures must still be its own (a flush once reused the previous post's id)."""
    n, days = 6, 2
    world = build(ck.KernelWorld, indptr=np.array([0, 1, 1, 1, 1, 1, 1], np.int64),  # 0 -> 1; 5 has no followers
                  indices=np.array([1], np.int32), channel=np.zeros(n, np.int8), reach=np.ones(n),
                  trust0=np.full(n, 0.5), engagement=np.full(n, 0.5), eligible=np.ones(n, bool),
                  threshold_scale=np.full(n, 1e9), segment=np.zeros(n, np.int16),
                  plat_ptr=np.array([0, 5], np.int64), plat_members=np.arange(5, dtype=np.int32), n_segments=1,
                  n_audience=5)
    posts = build(ck.KernelPosts, day=np.array([0, 0], np.int32), account=np.array([0, 5], np.int32),
                  channel=np.array([0, 0], np.int8), partner=np.array([0, 1], np.int32), factor=np.ones(2),
                  n_discovery=np.array([0, 3], np.int64),
                  discovery_engagement=np.array([0.0, 1.0]),  # every pick of post 1 engages
                  discovery_trust=np.array([0.1, 0.9]),
                  draw=campaign.post_draw_key(np.array([0, 5]), np.zeros(2), np.zeros(2)),  # each post's own draws
                  n_press=np.zeros(2, np.int64), press_engagement=np.zeros(2), press_trust=np.zeros(2),
                  n_partners=2)
    params = build(ck.KernelParams, shock=np.ones((2, days)), decay=np.ones(days + 1), recovery=np.ones(days + 1),
                   growth=np.ones(4), wear=np.ones(4), ceiling=1.0, reshare=0.0, reshare_factor=1.0,
                   mode=ck.THRESHOLD_MODE, rate=1.0, dose_unit=1e6, days=days, act=0.0, click=1.0,
                   repetition=np.ones(1), synergy=np.ones(2), sources_cap=1, sources_on=False, repetition_on=False)
    args = (world, posts, params, np.uint64(12345), np.arange(5, dtype=np.int64))
    ref = ck._run_trials(*args, ck._BATCH)  # no flush at this size
    partners = ref[2]
    assert (partners[:, 1, 0] > 0).all() and np.array_equal(partners[:, 1, 0], partners[:, 1, 1])
    assert (partners[:, 0, 0] == 1).all()  # the follower, always reached (reach 1)
    for batch in (1, 2):
        out = ck._run_trials(*args, batch)
        for name, got, want in zip(OUTPUTS, out[:4], ref[:4], strict=True):
            assert np.array_equal(got, want), f"batch {batch}: {name}"


def test_worlds_cover_every_behaviour():
    """The random worlds are not trivial: every mechanism is on and shows up in the outcomes."""
    assert len(CASES) >= 30
    sizes = [c.pop.n_audience for c in CASES]
    assert min(sizes) >= 30 and max(sizes) <= 300
    kinds = {c.scenario.world.audience.peers.kind for c in CASES}
    assert {"communities", "erdos_renyi", "barabasi_albert", "configuration"} <= kinds
    modes = {c.scenario.model.adoption for c in CASES}
    assert modes == {"threshold", "independent"}
    full = 0
    for c in CASES:
        m, w = c.scenario.model, c.scenario.world
        full += all([m.conviction_decay > 0, m.trust_growth > 0, m.fatigue > 0,
                     m.fatigue_recovery > 0, m.reshare > 0, m.dilution > 0,
                     any(p.discovery > 0 for p in w.platforms.values()),
                     any(p.shock is not None for p in w.platforms.values()),
                     any(t.authenticity < 1 for t in w.tiers.values())])
    assert full >= 0.75 * len(CASES)
    groups = [g for c in CASES for s in c.scenario.strategy_list for g in s.posts]
    assert any(g.paid for g in groups) and any(not g.paid for g in groups)
    assert any(g.schedule is not None for g in groups) and any(g.budget is not None for g in groups)
    assert any(g.variant_distance > 0 for g in groups)
    assert sum(len(set(g.post_days())) < len(g.post_days()) for g in groups) >= 10  # same day
    assert sum(len(c.arrays.growth) > 2 for c in CASES) >= 10  # several posts per account per day
    tot = np.concatenate([o.totals for per in KERNEL for o in per])
    col = {name: tot[:, j] for j, name in enumerate(ck.TOTALS)}
    n = len(tot)
    assert (col["adopters"] > 0).sum() >= 0.8 * n
    assert (col["adopters_reshare"] > 0).sum() >= 0.3 * n
    assert (col["depth"] >= 3).sum() >= 0.1 * n
    assert (col["discovery_impressions"] > 0).sum() >= 0.5 * n
    assert (col["reshares"] > 0).sum() >= 0.5 * n
    assert (col["engagements"] > 0).sum() >= 0.8 * n
    # The funnel's paths are all exercised: adopters who engaged and who never did, and (per
    # account) engagement on the adoption day itself and only after adopting.
    assert (col["adopters_engaged"] > 0).sum() >= 0.5 * n
    assert (col["adopters_unengaged"] > 0).sum() >= 0.5 * n
    assert np.array_equal(col["adopters_engaged"] + col["adopters_unengaged"], col["adopters"])
    # the click stage is exercised: clickers fewer than engagers in some trials, adopters that clicked
    assert ((col["clickers"] > 0) & (col["clickers"] < col["engagers"])).sum() >= 0.3 * n
    assert (col["adopters_clicked"] > 0).sum() >= 0.3 * n
    assert (col["adopters_clicked"] <= col["clickers"]).all() and (col["clickers"] <= col["engagers"]).all()
    assert (col["adopters_clicked"] <= col["adopters_engaged"]).all()
    # The mechanisms of issue 19 are on in most worlds and show up where they can.
    assert (col["press_impressions"] > 0).sum() >= 0.1 * n
    a = [c.arrays for c in CASES]
    assert sum(x.act > 0 for x in a) >= 0.6 * len(a)
    assert sum(x.sources_on for x in a) >= 0.3 * len(a)
    assert sum(x.repetition_on and (x.repetition < 0).any() for x in a) >= 0.6 * len(a)
    assert sum(c.scenario.model.alignment_weight > 0 for c in CASES) >= 0.6 * len(a)
    spread = 0
    for c in CASES:  # creators of one tier with different levels (dispersion)
        t0 = c.arrays.trust0[c.pop.n_audience:]
        spread += any(np.unique(t0[c.pop.creator_tier == t]).size > 1 for t in range(len(c.pop.tiers)))
    assert spread >= 0.5 * len(CASES)
    assert sum(any(p.tier_engagement for p in c.scenario.world.platforms.values()) for c in CASES) >= 0.3 * len(a)
    assert sum("celebrity" in c.scenario.world.tiers for c in CASES) >= 5
    same_day = after = 0
    for c in CASES:
        for sched in c.schedules:
            days, engaged, _ = campaign.funnel_days(c.pop, c.arrays, sched, c.root, TRIALS[0])
            same_day += int(((days >= 0) & (engaged == days)).sum())
            after += int(((days >= 0) & (engaged > days)).sum())
    assert same_day >= 20 and after >= 20


# --------------------------------------------------------------------------- readable state

def _snapshot(model: campaign_agents.CampaignAgentModel) -> list[tuple]:
    return [(a.reached, a.conviction, a.conviction_day, a.engaged_day, a.clicked_day, a.adopted_day, a.root_partner,
             a.generation, a.reshare_day, a.threshold,
             sorted((e, s.trust, s.fatigue, s.exposures, s.last_day) for e, s in a.edges.items()))
            for a in model.accounts]


@pytest.mark.parametrize("ci", [0, 3, 7, 12])
def test_agent_state_is_readable_and_order_free(ci):
    """The whole agent state (not just outcomes) is free of the visiting order and consistent."""
    c = CASES[ci]
    sched = c.schedules[0]
    states = []
    for seed in SHUFFLE_SEEDS:
        m = campaign_agents.CampaignAgentModel(c.pop, c.arrays, sched, c.root, 5, shuffle_seed=seed)
        m.run()
        states.append(_snapshot(m))
    reused = campaign_agents.CampaignAgentModel(c.pop, c.arrays, sched, c.root, 0)
    reused.run()
    reused.start_trial(5)  # resets only what trial 0 touched
    reused.run()
    assert states[0] == states[1] == _snapshot(reused)
    k_days, _ = campaign.adoption_days(c.pop, c.arrays, sched, c.root, 5)
    assert np.array_equal(m.adoption_days(), k_days)
    n_a = c.pop.n_audience
    sources = c.pop.graph.sources
    exposures = 0
    for a in m.accounts:
        assert a.inbox == []
        assert [s.index for s in a.in_sources] == [int(sources[e]) for e in a.in_edges]
        if a.index >= n_a:
            assert a.creator == a.index - n_a and not a.eligible
            assert a.adopted_day == -1 and not a.edges and not a.reached
        adopted = a.adopted_day >= 0
        assert adopted == (a.generation >= 1) == (0 <= a.root_partner < len(sched.partner_creator))
        assert set(a.edges) <= set(a.in_edges)
        for st in a.edges.values():
            assert 0.0 <= st.fatigue <= 1.0 and st.exposures >= 1
            assert 0 <= st.last_day < c.scenario.days
            exposures += st.exposures
        if a.reached and a.eligible and c.arrays.mode == ck.THRESHOLD_MODE:
            # adopted iff the (source-weighed) conviction crossed the threshold, or an engagement
            # was the action itself on a day it had not
            crossed = a.effective_conviction >= a.threshold
            assert a.conviction_day >= 0 and (crossed or a.adopted_by_action) == adopted
            assert not (crossed and a.adopted_by_action)
        assert len(a.sources) <= len({int(sources[e]) for e in a.in_edges}) + len(sched.partner_creator)
    tot = dict(zip(ck.TOTALS, m.totals.tolist(), strict=True))
    assert exposures == tot["impressions"] - tot["discovery_impressions"] - tot["press_impressions"]
    assert tot["reach"] == sum(a.reached for a in m.accounts)
    assert tot["engagers"] == sum(a.engaged_day >= 0 for a in m.accounts) <= tot["reach"]
    assert tot["adopters_engaged"] == sum(0 <= a.engaged_day <= a.adopted_day for a in m.accounts)
    # the click stage: a click is an engagement, on the day of the first engagement or later
    assert tot["clickers"] == sum(a.clicked_day >= 0 for a in m.accounts) <= tot["engagers"]
    assert tot["adopters_clicked"] == sum(0 <= a.clicked_day <= a.adopted_day for a in m.accounts)
    assert all(0 <= a.engaged_day <= a.clicked_day for a in m.accounts if a.clicked_day >= 0)
    assert all(a.reached for a in m.accounts if a.engaged_day >= 0)
    assert m.series.sum(axis=0)[3] == tot["adopters"] == (k_days >= 0).sum()


def test_scalar_draws_match_sim_rng():
    """The engine's Python-integer draws are bit for bit those of the jitted sim.base.rng."""
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 2**64, 50, dtype=np.uint64).tolist()
    for key, part in zip(keys, rng.integers(0, 10**6, 50).tolist(), strict=True):
        assert campaign_agents._derive(key, part) == int(derive(np.uint64(key), np.uint64(part)))
        assert campaign_agents._uniform(key, part) == uniform(np.uint64(key), np.uint64(part))
        k = int(trial_key(np.uint64(key), np.uint64(5), np.uint64(part)))
        assert campaign_agents._trial_key(key, Stream.EXPOSE, part) == k
    # Lane draws, with thresholds whose first digit ties often (16 / 256) and the extremes.
    for key in keys[:10]:
        for threshold in (0, 1, 2**48 * 3 + 12345, 2**55, 2**56 - 1, 2**56):
            for item in range(40):
                for lane in (0, 7, 8, 37, 63):
                    want = lane_below(np.uint64(key), np.uint64(item), np.uint64(lane), np.uint64(threshold))
                    assert campaign_agents._lane_below(key, item, lane, threshold) == bool(want)


def test_model_is_released():
    """Mesa 3.3.1 keeps every model alive through Agent._ids; ours must be collectable."""
    c = CASES[1]
    m = campaign_agents.CampaignAgentModel(c.pop, c.arrays, c.schedules[0], c.root)
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None


def test_import_keeps_multiprocessing_start_method():
    """`import mesa` forces the 'spawn' start method; importing the engine must undo that."""
    code = ("import multiprocessing as mp; import sim.campaign.agents; "
            "print(mp.get_start_method(allow_none=True))")
    repo = Path(__file__).resolve().parents[2]
    path = os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo,
                         env={**os.environ, "PYTHONPATH": path}, check=True)
    assert out.stdout.strip() == "None"


# --------------------------------------------------------------------------- hand-checkable cases

UNIT = campaign.DOSE_UNIT


def _micro(*, n=3, peers=None, days=8, post=None, model=None, followers=(3, 4), platform=None,
           trust=0.5, engagement=1.0, tier=None, world_extra=None) -> _Case:
    """One creator followed by ``followers`` of ``n`` audience accounts, all on its platform.

    Defaults: reach 1, no peer edges, trust 0.5 and message strength 1 (dose 0.5), every
    exposure engages, one unpaid post on day 2; no alignment weight and no repetition peak
    (so doses are the hand-computed ones unless a test turns them on). ``tier``: more keys of the
    tier; ``world_extra``: more keys of the world.
    """
    world = {
        "kind": "creator_audience",
        "audience": {"peers": peers or {"kind": "erdos_renyi", "n": n, "mean_degree": 0.0},
                     "segments": [{"name": "all", "share": 1.0, "platforms": {"ig": 1.0}}],
                     "interest": {"mean": 0.5}},
        "platforms": {"ig": platform or {"organic_reach": 1.0}},
        "tiers": {"micro": {"followers": list(followers), "count": 1, "platforms": {"ig": 1.0},
                            "engagement": engagement, "trust": trust, **(tier or {})}},
        **(world_extra or {}),
    }
    group = {"tier": "micro", "platform": "ig", "creators": 1, "paid": False,
             **(post or {"days": [2]})}
    data = {"name": "micro", "seed": 11, "trials": 1, "days": days, "world": world,
            "model": {"kind": "campaign", "alignment_weight": 0.0, "repetition_peak": None, **(model or {})},
            "strategies": [{"name": "one", "posts": [group]}]}
    return _Case(Scenario.model_validate(data))


def _both(case: _Case, trial: int) -> tuple[list[int], campaign_agents.CampaignAgentModel]:
    """Adoption days (kernel == Mesa, both shuffle seeds) and a finished Mesa model."""
    sched = case.schedules[0]
    k_days, k_tot = campaign.adoption_days(case.pop, case.arrays, sched, case.root, trial)
    models = []
    for seed in SHUFFLE_SEEDS:
        m = campaign_agents.CampaignAgentModel(case.pop, case.arrays, sched, case.root, trial,
                                               shuffle_seed=seed)
        m.run()
        assert np.array_equal(m.adoption_days(), k_days) and np.array_equal(m.totals, k_tot)
        models.append(m)
    return k_days.tolist(), models[0]


def _u_of(case: _Case, stream: Stream, trial: int, *counters: int) -> float:
    """Compute the keyed uniform of ``stream`` in ``trial`` (optionally under a post id)."""
    key = trial_key(case.root, np.uint64(int(stream)), np.uint64(trial))
    for c in counters[:-1]:
        key = derive(np.uint64(key), np.uint64(c))
    return uniform(np.uint64(key), np.uint64(counters[-1]))


def _totals(m: campaign_agents.CampaignAgentModel) -> dict:
    return dict(zip(ck.TOTALS, m.totals.tolist(), strict=True))


def test_micro_threshold_equal_to_dose_adopts_on_first_post():
    """Reach 1, dose 0.5 = threshold max: every follower adopts on the day of the first post."""
    case = _micro(post={"days": [2, 5]}, model={"threshold": {"max": 0.5, "interest_effect": 0.0}})
    for trial in range(4):
        days, m = _both(case, trial)
        assert days == [2, 2, 2, -1]  # three followers, then the creator
        # reach 3, impressions 2 x 3, all engage, 3 direct adopters, depth 1, 2 x 3 pairs examined;
        # 3 engagers, who engaged on their adoption day: all 3 adopters count as engaged; every
        # engagement is a click (click_share 1): 3 clickers, all 3 adopters clicked
        assert m.totals.tolist() == [3, 6, 6, 3, 3, 0, 1, 0, 0, 6, 3, 3, 0, 0, 3, 3]
        assert m.series[:, 4].tolist() == [0, 0, 3, 0, 0, 0, 0, 0]
        assert m.series[:, 1].tolist() == [0, 0, 3, 0, 0, 3, 0, 0]
        assert all(a.root_partner == 0 and a.generation == 1 for a in m.accounts[:3])


def test_micro_engagement_days_from_the_keyed_draws():
    """Who engages and when, from the keyed draws; engaging on the adoption day counts as engaged.

    Engagement 0.4 per exposure, reach 1, posts on days 2 and 5, dose 0.5 = threshold max: every
    follower adopts on day 2 whatever it does. Follower on edge e engages on day 2 iff
    U(ENGAGE, post 0; e) < 0.4 (booked before the end-of-day adoption: an engaged adopter), else
    on day 5 iff U(ENGAGE, post 1; e) < 0.4 (after adopting: an engager, but an unengaged adopter).
    """
    p = 0.4
    case = _micro(post={"days": [2, 5]}, engagement=p,
                  model={"threshold": {"max": 0.5, "interest_effect": 0.0}})
    g, sched = case.pop.graph, case.schedules[0]
    creator = case.pop.n_audience
    assert case.arrays.engagement[creator] == p
    seen = set()
    for trial in range(12):
        want = [-1] * 4
        for e in range(int(g.indptr[creator]), int(g.indptr[creator + 1])):
            for day, draw in zip((2, 5), sched.draw.tolist(), strict=True):
                if _u_of(case, Stream.ENGAGE, trial, draw, e) < p:
                    want[int(g.indices[e])] = day
                    break
        days, m = _both(case, trial)
        assert days == [2, 2, 2, -1]
        assert m.engagement_days().tolist() == want
        k_days, k_eng, k_tot = campaign.funnel_days(case.pop, case.arrays, sched, case.root, trial)
        assert k_eng.tolist() == want and np.array_equal(k_tot, m.totals)
        t = _totals(m)
        assert t["engagers"] == 4 - want.count(-1)  # want[3], the creator, is never exposed
        assert (t["adopters_engaged"], t["adopters_unengaged"]) == (want.count(2), 3 - want.count(2))
        assert m.series[:, 4].tolist() == [want.count(d) for d in range(8)]
        seen |= set(want[:3])
    assert seen == {-1, 2, 5}  # every path occurs: same day, only after adopting, never


def test_micro_shock_cuts_reach():
    """A reach factor of 0 from day 4 on: the day-5 post reaches nobody; nobody adopts."""
    case = _micro(post={"days": [2, 5]}, platform={"organic_reach": 1.0,
                                                   "shock": {"day": 4, "reach_factor": 0.0}},
                  model={"threshold": {"max": 100.0}})
    days, m = _both(case, 0)
    assert days == [-1] * 4
    assert m.series[:, 1].tolist() == [0, 0, 3, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("decay", [0.0, 0.5])
def test_micro_accumulation_with_known_thresholds(decay):
    """Dose 0.5 on days 0..3: adopt on the first day the (decayed) conviction reaches U * 1.5."""
    case = _micro(post={"days": [0, 1, 2, 3]},
                  model={"threshold": {"max": 1.5, "interest_effect": 0.0},
                         "conviction_decay": decay})
    half = int(0.5 * UNIT)
    for trial in range(12):
        expected = []
        for v in range(3):
            need = _u_of(case, Stream.THRESHOLD, trial, v) * (UNIT * 1.5)
            c, day = 0, -1
            for d in range(4):
                c = int(c * (1.0 - decay)) + half
                if c >= need:
                    day = d
                    break
            expected.append(day)
        days, m = _both(case, trial)
        assert days == [*expected, -1]
        for v in range(3):
            assert m.accounts[v].conviction_day == (expected[v] if expected[v] >= 0 else 3)


def test_micro_same_day_posts_read_start_of_day_fatigue():
    """Two posts on day 1 both see fatigue 0 (synchronous); wear-out and recovery apply after."""
    case = _micro(post={"days": [1, 1, 4]}, days=6,
                  model={"threshold": {"max": 100.0},  # nobody adopts: conviction stays readable
                         "fatigue": 0.5, "fatigue_recovery": 0.5, "trust_growth": 0.5,
                         "trust_ceiling": 0.9})
    days, m = _both(case, 0)
    assert days == [-1, -1, -1, -1]
    # Day 1: 2 x 0.5; then trust 0.9 - 0.4 * 0.5**2 = 0.8, fatigue 1 - 0.5**2 = 0.75.
    # Day 4: fatigue 0.75 * 0.5**3 = 0.09375; dose 0.8 * (1 - 0.09375) = 0.725.
    trust1 = 0.9 - (0.9 - 0.5) * 0.25
    assert trust1 == pytest.approx(0.8, abs=1e-15)
    expected = 2 * int(0.5 * UNIT) + int(trust1 * 1.0 * (1.0 - 0.09375) * UNIT)
    for a in m.accounts[:3]:
        assert a.conviction == expected and a.conviction_day == 4
        (state,) = a.edges.values()
        assert state.exposures == 3 and state.last_day == 4
        assert state.trust == 0.9 - (0.9 - trust1) * 0.5
        assert state.fatigue == 1.0 - (1.0 - 0.09375) * 0.5


def test_micro_discovery_reaches_distinct_non_followers():
    """Organic reach 0, discovery 1 (3 draws over 3 members): distinct draws are exposed once."""
    case = _micro(platform={"organic_reach": 0.0, "discovery": 1.0},
                  model={"threshold": {"max": 0.05, "interest_effect": 0.0}})  # dose 0.1 adopts
    for trial in range(8):
        draw = int(case.schedules[0].draw[0])  # the post's draw key (creator, day, rank), not its index
        picks = {int(_u_of(case, Stream.DISCOVER, trial, draw, j) * 3) for j in range(3)}
        days, m = _both(case, trial)
        assert days == [2 if v in picks else -1 for v in range(3)] + [-1]
        t = _totals(m)
        assert t["discovery_impressions"] == t["impressions"] == t["reach"] == len(picks)
        assert all(not m.accounts[v].edges for v in range(3))  # no follow edge was used


def test_micro_reshare_chain_on_a_ring():
    """A re-share chain on a ring: adoption day = post day + ring distance from the follower.

    Independent mode with certain conversion, reach 1, everyone re-shares; the creator has
    a single follower; generation = distance + 1.
    """
    n = 8
    case = _micro(n=n, peers={"kind": "watts_strogatz", "n": n, "k": 2, "p": 0.0}, days=10,
                  followers=(1, 2), post={"days": [1]},
                  model={"adoption": "independent", "conversion_rate": 1000.0, "reshare": 1.0,
                         "peer_reach": 1.0})
    g = case.pop.graph
    (f,) = g.indices[g.indptr[n]:g.indptr[n + 1]].tolist()
    dist = [min((v - f) % n, (f - v) % n) for v in range(n)]
    for trial in range(3):
        days, m = _both(case, trial)
        assert days == [1 + d for d in dist] + [-1]
        assert [a.generation for a in m.accounts[:n]] == [d + 1 for d in dist]
        t = _totals(m)
        assert (t["adopters"], t["adopters_direct"], t["adopters_reshare"]) == (n, 1, n - 1)
        assert t["depth"] == n // 2 + 1
        assert t["reshares"] == n  # all adopted by day 5, so all re-share before the horizon
        assert m.partners.tolist() == [[t["impressions"], t["engagements"], n]]


# --------------------------------------------------------------------------- the mechanisms of issue 19, by hand


def test_micro_alignment_scales_the_dose():
    """A creator's doses are multiplied by 1 + w (2 A - 1) (A: its alignment): conviction by hand."""
    w = 0.6
    case = _micro(post={"days": [2]}, model={"alignment_weight": w, "threshold": {"max": 100.0}})
    a = float(case.pop.alignment[0])
    factor = 1.0 + w * (2.0 * a - 1.0)
    assert case.schedules[0].factor[0] == 1.0 * factor and abs(a - 0.5) > 0.01
    days, m = _both(case, 0)
    assert days == [-1] * 4
    assert [x.conviction for x in m.accounts[:3]] == [int(0.5 * factor * UNIT)] * 3


def test_micro_action_on_engagement_by_hand():
    """An engagement is the action itself iff its engagement draw is below act x P(engage): those
    followers adopt on the day, whatever their conviction (thresholds out of reach here)."""
    p, act = 0.6, 0.5
    case = _micro(post={"days": [2, 5]}, engagement=p,
                  model={"action_on_engagement": act, "threshold": {"max": 1000.0}})
    g, sched = case.pop.graph, case.schedules[0]
    creator = case.pop.n_audience
    seen = set()
    for trial in range(16):
        want = [-1] * 4
        for e in range(int(g.indptr[creator]), int(g.indptr[creator + 1])):
            for day, draw in zip((2, 5), sched.draw.tolist(), strict=True):
                if _u_of(case, Stream.ENGAGE, trial, draw, e) < p * act:
                    want[int(g.indices[e])] = day
                    break
        days, m = _both(case, trial)
        assert days == want
        for v in range(3):
            assert m.accounts[v].adopted_by_action == (want[v] >= 0)
            assert want[v] < 0 or 0 <= m.accounts[v].engaged_day <= want[v]  # an action is an engagement
        seen |= set(want[:3])
    assert seen == {-1, 2, 5}


def test_micro_repetition_weights_the_nth_exposure():
    """Posts on days 0-4, peak P = 2: the n-th exposure on the edge weighs (2P - 2n - 1)/(2P - 1) =
    1, 1/3, -1/3, -1, -5/3; conviction after each day by hand (no decay), rising then falling."""
    case = _micro(post={"days": [0, 1, 2, 3, 4]}, model={"repetition_peak": 2.0, "threshold": {"max": 100.0}})
    w = [(4.0 - 2.0 * n - 1.0) / 3.0 for n in range(5)]
    assert case.arrays.repetition[:5].tolist() == w
    c = [0]
    for n in range(5):
        c.append(c[-1] + int(0.5 * 1.0 * (1.0 - 0.0) * w[n] * UNIT))
    days, m = _both(case, 0)
    assert days == [-1] * 4
    assert [x.conviction for x in m.accounts[:3]] == [c[-1]] * 3
    assert max(c) == c[2] and c[-1] < c[1]  # peaks at 2 exposures, then wears out below one exposure's


def test_micro_repetition_past_the_peak_cannot_convert():
    """Independent mode: an exposure with a negative weight never converts (its probability is 0)."""
    case = _micro(post={"days": [0, 1, 2, 3]}, model={"adoption": "independent", "conversion_rate": 1e6,
                                                      "repetition_peak": 1.0})
    for trial in range(4):
        days, m = _both(case, trial)
        assert days == [0, 0, 0, -1]  # the first exposure (weight 1) converts surely; the rest weigh -1, -3, ...


def test_micro_two_sources_reinforce():
    """Two creators, each followed by all three accounts, post on day 2: an account adopts iff
    (x1 + x2) * 2**synergy >= U(THRESHOLD) * max; with synergy 0 the plain sum."""
    for synergy in (0.0, 1.5, -0.7):
        case = _micro(followers=(3, 4), tier={"count": 2}, post={"days": [2]},
                      model={"threshold": {"max": 2.5, "interest_effect": 0.0},
                             "sources": {"synergy": synergy, "cap": 3}})
        case = _Case(case.scenario.with_overrides(
            strategies=[{"name": "two", "posts": [{"tier": "micro", "platform": "ig", "creators": 2,
                                                   "paid": False, "days": [2]}]}]))
        assert len(case.schedules[0].partner_creator) == 2
        assert case.arrays.sources_on == (synergy != 0.0)
        both = 2 * int(0.5 * UNIT)
        for trial in range(12):
            want = []
            for v in range(3):
                lhs = float(both) * (2.0 ** synergy if synergy != 0.0 else 1.0)
                want.append(2 if lhs >= _u_of(case, Stream.THRESHOLD, trial, v) * (UNIT * 2.5) else -1)
            days, m = _both(case, trial)
            assert days == [*want, -1, -1]
            if synergy != 0.0:
                assert all(len(a.sources) == 2 for a in m.accounts[:3])


def test_micro_press_reaches_keyed_accounts():
    """No organic reach, no discovery; press coverage of reach 1 makes round(1 x 3) = 3 picks of the
    audience, U(PRESS, post; j) * 3: the distinct picks are exposed once, with the press trust's dose."""
    case = _micro(platform={"organic_reach": 0.0}, tier={"press": {"reach": 1.0, "trust": 0.8, "engagement": 1.0}},
                  model={"threshold": {"max": 0.1, "interest_effect": 0.0}})  # dose 0.8 adopts
    sched = case.schedules[0]
    assert sched.n_press.tolist() == [3] and sched.press_trust.tolist() == [0.8]
    for trial in range(8):
        draw = int(sched.draw[0])
        picks = {int(_u_of(case, Stream.PRESS, trial, draw, j) * 3) for j in range(3)}
        days, m = _both(case, trial)
        assert days == [2 if v in picks else -1 for v in range(3)] + [-1]
        t = _totals(m)
        assert t["press_impressions"] == t["impressions"] == t["reach"] == t["engagements"] == len(picks)
        assert t["discovery_impressions"] == 0
        assert all(not m.accounts[v].edges for v in range(3))
