"""The campaign model's cuda engine (sim.campaign.cuda_kernel) reproduces the numba kernel row for row.

Run by ``tests/gpu/test_cuda_engine.py`` in a subprocess with ``NUMBA_ENABLE_CUDASIM=1`` (numba's
CUDA simulator: numba reads that variable when it is imported), or directly on a machine with a
GPU::

    NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/gpu/cudasim_campaign.py -q   # no GPU
    python -m pytest tests/gpu/cudasim_campaign.py -q                           # on a GPU

Every draw is a keyed pure function and every dose a fixed-point integer, so the expectation is
``np.array_equal`` of every per-trial row (totals, daily series, partner and segment rows) and, for
one trial in full, of every account's adoption and first-engagement day and of the cascade tree;
not a statistical match. The simulator runs each GPU thread as a Python thread (a few seconds per
trial here), so the worlds are small (a few hundred accounts) and the trials few; the trials
include a repeat, a large trial number and more trials than the launch has threads (threads pick
up further trials and stamp the scratch of earlier ones as stale). The campaign has no per-trial
recruits: partners are chosen once per run by the strategy's rule (``random``, ``top_followers``,
``most_aligned`` here), so there is no fixed / random recruit split as in the classic models.
The larger cases run with ``-m slow``.
"""

from __future__ import annotations

import copy
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.base.rng import root_key
from sim.campaign import cuda_kernel as gpu
from sim.campaign import kernel as ck
from sim.campaign import model as cpu
from sim.campaign.family import compile_campaign
from sim.input.scenario import Scenario
from sim.world.build import build_world

_why = gpu.unavailable()
if _why is not None:
    pytest.skip(f"cuda engine unavailable: {_why}", allow_module_level=True)

from sim.campaign import cuda_device  # noqa: E402 - after the availability check

if cuda_device.SIMULATOR:
    sys.setswitchinterval(1e-4)  # the simulator hands the GIL between its threads
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ("totals", "series", "partners", "segments")
TRIALS = np.array([0, 5, 2**40 + 3, 5, 70], np.int64)
ENGAGERS, CLICKERS = ck.TOTALS.index("engagers"), ck.TOTALS.index("clickers")
A_ENGAGED, A_CLICKED = ck.TOTALS.index("adopters_engaged"), ck.TOTALS.index("adopters_clicked")


def _clicks_exercised(totals: np.ndarray) -> None:
    """The click stage with click_share < 1 (scenarios/mechanisms.yaml: 0.4) was exercised, not only carried:
    over the trials some accounts clicked and some engagers did not; in every trial the subset order holds (a
    click is an engagement)."""
    assert 0 < totals[:, CLICKERS].sum() < totals[:, ENGAGERS].sum()
    assert (totals[:, CLICKERS] <= totals[:, ENGAGERS]).all()
    assert (totals[:, A_CLICKED] <= totals[:, A_ENGAGED]).all() and (totals[:, A_CLICKED] <= totals[:, CLICKERS]).all()


def _mechanisms(peers: int = 200, days: int = 8) -> Scenario:
    """``scenarios/mechanisms.yaml`` (every mechanism of issue 19 on) shrunk: ``peers`` audience accounts,
    one simulated account per 1,000 people (nano creators have a handful of followers), ``days`` days."""
    data = yaml.safe_load((ROOT / "scenarios" / "mechanisms.yaml").read_text())
    data["world"]["audience"]["peers"].update(n=peers, count=5)
    data["world"]["scale"] = 1000
    data["days"] = days
    data["strategies"][2]["posts"][0]["schedule"]["count"] = 1 + (days - 1) // 3
    return Scenario.model_validate(data)


#: A plain campaign (no mechanism of issue 19): discovery, a reach shock, trust growth, fatigue and
#: recovery, conviction decay, re-shares, two posts by one partner on one day, a budget bought at random.
PLAIN = {
    "name": "plain", "seed": 11, "trials": 4, "days": 6,
    "world": {
        "kind": "creator_audience", "scale": 1.0,
        "audience": {
            "peers": {"kind": "communities", "n": 150, "count": 5, "mean_degree": 4, "mixing": 0.2},
            "segments": [{"name": "a", "share": 0.5, "platforms": {"instagram": 0.8, "tiktok": 0.5}},
                         {"name": "b", "share": 0.5, "platforms": {"instagram": 0.5, "tiktok": 0.7}}],
            "interest": {"mean": 0.4, "concentration": 4, "homophily": 0.3}},
        "platforms": {"instagram": {"organic_reach": 0.6, "discovery": 0.3, "shock": {"day": 3, "reach_factor": 0.5}},
                      "tiktok": {"organic_reach": 0.8, "discovery": 0.5}},
        "tiers": {"nano": {"followers": [5, 20], "count": 6, "platforms": {"instagram": 0.5, "tiktok": 0.5},
                           "engagement": 0.3, "trust": 0.6, "authenticity": 0.9},
                  "micro": {"followers": [20, 60], "count": 4, "platforms": {"instagram": 0.5, "tiktok": 0.5},
                            "engagement": 0.2, "trust": 0.5, "authenticity": 0.8}}},
    "model": {"kind": "campaign", "adoption": "threshold", "threshold": {"max": 0.8, "interest_effect": 0.5},
              "conviction_decay": 0.2, "trust_growth": 0.2, "trust_ceiling": 0.9, "fatigue": 0.2,
              "fatigue_recovery": 0.3, "reshare": 0.5, "peer_reach": 0.5, "peer_trust": 0.6,
              "peer_engagement": 0.2, "stranger_trust": 0.2},
    "rate_card": {"instagram": {"nano": 10, "micro": 50}, "tiktok": {"nano": 10, "micro": 50}},
    "strategies": [
        {"name": "ambassadors", "posts": [{"tier": "nano", "platform": "tiktok", "creators": 2, "days": [0, 0, 2, 4]}]},
        {"name": "micro", "posts": [{"tier": "micro", "platform": "instagram", "budget": 100, "select": "random",
                                     "days": [1]}]}],
}


class _Case:
    """A scenario built once: population, compiled arrays, schedules."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.pop = build_world(scenario.world, scenario.seed).population
        self.arrays, self.schedules = compile_campaign(scenario, self.pop)
        self.root = root_key(scenario.seed)
        self.names = [s.name for s in scenario.strategy_list]

    def schedule(self, name: str):
        return self.schedules[self.names.index(name)]


@pytest.fixture(scope="module")
def mechanisms() -> _Case:
    return _Case(_mechanisms())


@pytest.fixture(scope="module")
def plain() -> _Case:
    return _Case(Scenario.model_validate(copy.deepcopy(PLAIN)))


def _same(case: _Case, name: str, trials: np.ndarray):
    sched = case.schedule(name)
    want = cpu.simulate(case.pop, case.arrays, sched, case.root, trials)
    got = gpu.simulate(case.pop, case.arrays, sched, case.root, trials)
    assert np.array_equal(got.trials, want.trials)
    for field in OUTPUTS:
        g, w = getattr(got, field), getattr(want, field)
        assert g.dtype == w.dtype and g.shape == w.shape, f"{name}: {field} {g.shape} vs {w.shape}"
        assert np.array_equal(g, w), f"{name}: {field} differs at {np.argwhere(g != w)[:5].tolist()}"
    return want


def test_every_mechanism_is_on_in_the_tiny_world(mechanisms):
    a = mechanisms.arrays
    assert a.sources_on and a.repetition_on and (a.repetition < 0).any() and a.act > 0
    assert 0.0 < a.act < a.click < 1.0  # clicks: a share of engagements, and actions a share of clicks
    assert mechanisms.pop.graph.n < 600
    assert any(int(s.n_press.sum()) > 0 for s in mechanisms.schedules)


@pytest.mark.parametrize("strategy", ["celebrity", "nano_ambassadors", "cross_platform"])
def test_mechanisms_every_row_equal(mechanisms, strategy):
    """Press coverage (celebrity); repeated posts past the repetition peak (ambassadors); several
    tiers and platforms, discovery and a variant (cross_platform); sources and actions throughout."""
    want = _same(mechanisms, strategy, TRIALS[[0, 2]])
    assert (want.totals[:, 3] > 0).all()  # adopters
    _clicks_exercised(want.totals)


def test_plain_campaign_every_row_equal(plain):
    """No mechanism on: the earlier model (two posts by a partner on one day, discovery, shocks, re-shares)."""
    for name in plain.names:
        want = _same(plain, name, TRIALS[:2])
        assert (want.totals[:, 3] > 0).all()
        # click_share 1 (the default): every engagement is a click, so the click columns repeat the engaged ones
        assert np.array_equal(want.totals[:, [CLICKERS, A_CLICKED]], want.totals[:, [ENGAGERS, A_ENGAGED]])
    totals = cpu.simulate(plain.pop, plain.arrays, plain.schedule("ambassadors"), plain.root, TRIALS[:2]).totals
    assert (totals[:, 6] >= 2).any()  # re-shares of re-shares: depth 2 or more


def test_one_trial_in_full(mechanisms):
    """Per account: adoption and first-engagement days, and the cascade tree, as the CPU kernel's."""
    sched = mechanisms.schedule("nano_ambassadors")
    args = (mechanisms.pop, mechanisms.arrays, sched, mechanisms.root, 5)
    g_days, g_eng, g_tot = gpu.funnel_days(*args)
    w_days, w_eng, w_tot = cpu.funnel_days(*args)
    assert np.array_equal(g_days, w_days) and np.array_equal(g_eng, w_eng) and np.array_equal(g_tot, w_tot)
    assert (w_days >= 0).sum() > 0 and (w_eng >= 0).sum() > 0
    g, w = gpu.cascade_tree(*args), cpu.cascade_tree(*args)
    for f in ("account", "day", "parent", "post", "partner", "generation"):
        assert np.array_equal(getattr(g, f), getattr(w, f)), f


def test_more_trials_than_threads_and_repeated_calls(plain):
    """Threads pick up further trials (stamps of earlier trials and calls left in the scratch)."""
    trials = np.array([3, 2**40 + 1, 3, 9, 1, 0, 12], np.int64)
    _same(plain, "micro", trials)
    _same(plain, "ambassadors", trials[::-1].copy())


# --------------------------------------------------------------------------- the block-per-trial layout
#
# Small worlds forced onto the large-world layout (sim.campaign.cuda_block: a block per trial, the
# block's threads sharing each post's followers and picks, counters by integer atomics). In the
# simulator a block has 4 threads (Python threads switched every 0.1 ms), so bookings of one post
# interleave; launches have 2 blocks, so 3 trials make a block take a second trial on stale stamps.

BLOCK_CASES = [("plain", "ambassadors"), ("plain", "micro"), ("mechanisms", "celebrity"),
               ("mechanisms", "nano_ambassadors"), ("mechanisms", "cross_platform")]


@pytest.mark.parametrize(("world", "strategy"), BLOCK_CASES)
def test_block_layout_every_row_equal(request, world, strategy):
    """Every per-trial row of the block layout equals the CPU kernel's (press, discovery, repeated posts past
    the repetition peak, sources and actions in the mechanisms world; re-shares of re-shares in the plain one)."""
    case = request.getfixturevalue(world)
    sched = case.schedule(strategy)
    trials = TRIALS[[0, 2, 1]]
    want = cpu.simulate(case.pop, case.arrays, sched, case.root, trials)
    got = gpu.simulate(case.pop, case.arrays, sched, case.root, trials, layout="block")
    assert gpu.STATS_LAYOUT["last"] == "block"
    for field in OUTPUTS:
        g, w = getattr(got, field), getattr(want, field)
        assert g.dtype == w.dtype and g.shape == w.shape, f"{strategy}: {field} {g.shape} vs {w.shape}"
        assert np.array_equal(g, w), f"{strategy}: {field} differs at {np.argwhere(g != w)[:5].tolist()}"
    assert (want.totals[:, 3] > 0).all()
    if world == "mechanisms":
        _clicks_exercised(want.totals)


def test_block_layout_dedups_picks(plain, mechanisms):
    """The cases above exercise the picks' first-come rule: more discovery (and press) picks than exposures
    booked, so picks of accounts the post had reached already were skipped."""
    from sim.campaign.model import posts_record

    trials = TRIALS[[0, 2, 1]]
    for case, name, col, field in ((plain, "micro", 8, "n_discovery"), (mechanisms, "cross_platform", 8, "n_discovery"),
                                   (mechanisms, "celebrity", 13, "n_press")):
        sched = case.schedule(name)
        picks = int(getattr(posts_record(sched), field).sum())
        booked = cpu.simulate(case.pop, case.arrays, sched, case.root, trials).totals[:, col]
        assert (booked < picks).all() and (booked > 0).all(), (name, picks, booked)


def test_block_layout_by_module_setting_and_records_stay_on_threads(plain, monkeypatch):
    """``LAYOUT = "block"`` reaches simulate() without an argument (as run() calls it); one trial in full
    (recorded adopters in the CPU's order) stays on the thread layout."""
    monkeypatch.setattr(gpu, "LAYOUT", "block")
    sched = plain.schedule("micro")
    got = gpu.simulate(plain.pop, plain.arrays, sched, plain.root, TRIALS[:1])
    assert gpu.STATS_LAYOUT["last"] == "block"
    assert np.array_equal(got.totals, cpu.simulate(plain.pop, plain.arrays, sched, plain.root, TRIALS[:1]).totals)
    args = (plain.pop, plain.arrays, sched, plain.root, 5)
    g_days, g_eng, g_tot = gpu.funnel_days(*args)
    assert gpu.STATS_LAYOUT["last"] == "thread"
    w_days, w_eng, w_tot = cpu.funnel_days(*args)
    assert np.array_equal(g_days, w_days) and np.array_equal(g_eng, w_eng) and np.array_equal(g_tot, w_tot)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["celebrity", "micro_swarm", "nano_ambassadors", "cross_platform"])
def test_block_layout_three_weeks_more_trials(strategy):
    """The block layout on the scenario's own 21 days, a larger audience and more trials."""
    case = _Case(_mechanisms(peers=400, days=21))
    trials = np.array([0, 1, 2, 63, 64, 2**40 + 3, 7, 7], np.int64)
    sched = case.schedule(strategy)
    want = cpu.simulate(case.pop, case.arrays, sched, case.root, trials)
    got = gpu.simulate(case.pop, case.arrays, sched, case.root, trials, layout="block")
    for field in OUTPUTS:
        assert np.array_equal(getattr(got, field), getattr(want, field)), f"{strategy}: {field}"


def test_independent_adoption_is_refused(plain):
    data = copy.deepcopy(PLAIN)
    data["model"]["adoption"] = "independent"
    case = _Case(Scenario.model_validate(data))
    assert gpu.check_model(case.arrays) == gpu.INDEPENDENT_REFUSED
    with pytest.raises(ValueError, match="independent adoption is not ported"):
        gpu.simulate(case.pop, case.arrays, case.schedules[0], case.root, TRIALS[:1])


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["celebrity", "micro_swarm", "nano_ambassadors", "cross_platform"])
def test_mechanisms_three_weeks_more_trials(strategy):
    """The scenario's own 21 days, a larger audience and more trials (minutes in the simulator)."""
    case = _Case(_mechanisms(peers=400, days=21))
    _same(case, strategy, np.array([0, 1, 2, 63, 64, 2**40 + 3, 7, 7], np.int64))


@pytest.mark.parametrize("layout", ["auto", pytest.param("block", marks=pytest.mark.slow)])
def test_run_on_engine_cuda_gives_the_numba_tables(tmp_path, monkeypatch, layout):
    """``run(..., engine="cuda")`` through chunks and tables: the trial, time-series, partner and segment
    tables equal the numba engine's (the engine's check passes: the simulator counts as a GPU), with the
    layout chosen by device memory and with the block layout forced."""
    import pandas as pd

    import sim

    monkeypatch.setattr(gpu, "LAYOUT", layout)
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(PLAIN))
    scenario = sim.load_scenario(path)
    got = sim.run(scenario.with_overrides(engine="cuda"), trials=3, workers=1)
    want = sim.run(scenario, trials=3, workers=1)
    pd.testing.assert_frame_equal(got.table, want.table)
    for name in ("timeseries", "partners", "segments"):
        pd.testing.assert_frame_equal(getattr(got.campaign, name), getattr(want.campaign, name))
