"""Keyed randomness: identical in numba and NumPy, uniform, independent across keys."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest
from scipy import stats

from sim.base.rng import (
    LANES,
    Stream,
    as_key,
    lane_below,
    lane_numbers,
    lane_threshold,
    root_key,
    trial_key,
    uniform,
    uniforms,
)


@nb.njit
def _jit_uniforms(key, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(key, np.uint64(i))
    return out


def test_numpy_and_numba_agree_bit_for_bit():
    for seed in (0, 1, 2**63 + 5, 2**64 - 1):
        key = np.uint64(trial_key(root_key(seed), as_key(Stream.EDGE_LIVE), as_key(3)))
        assert np.array_equal(_jit_uniforms(key, 10_000), uniforms(key, np.arange(10_000)))


def test_python_int_keys_do_not_become_floats():
    """Numba turns int64 op uint64 into float64; a plain int key must still give exact draws."""
    key = 0x1234_5678_9ABC_DEF0  # below 2**63: numba types a plain int as int64
    assert _jit_uniforms(key, 1000).tolist() == uniforms(np.uint64(key), np.arange(1000)).tolist()
    root = int(root_key(7))
    assert root < 2**63
    assert trial_key(root, 2, 0) == trial_key(np.uint64(root), np.uint64(2), np.uint64(0))


def test_uniform_distribution_and_independence():
    """KS test of 200k draws; correlation between neighbouring trials' draws ~ N(0, 1/n)."""
    root = root_key(123)
    n = 200_000
    a = uniforms(np.uint64(trial_key(root, as_key(Stream.EDGE_LIVE), as_key(0))), np.arange(n))
    b = uniforms(np.uint64(trial_key(root, as_key(Stream.EDGE_LIVE), as_key(1))), np.arange(n))
    assert stats.kstest(a, "uniform").pvalue > 1e-4
    assert ((a >= 0) & (a < 1)).all()
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(n)
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 5 / np.sqrt(n)


def test_streams_and_seeds_differ():
    root = root_key(1)
    k1 = trial_key(root, as_key(Stream.EDGE_LIVE), as_key(0))
    k2 = trial_key(root, as_key(Stream.THRESHOLD), as_key(0))
    k3 = trial_key(root_key(2), as_key(Stream.EDGE_LIVE), as_key(0))
    assert len({int(k1), int(k2), int(k3)}) == 3


@pytest.mark.parametrize("bad", [-1, 2**64])
def test_keys_must_fit_64_bits(bad):
    with pytest.raises(ValueError):
        as_key(bad)


# --------------------------------------------------------------------------- lane draws

_ALL = np.uint64(2**64 - 1)


@nb.njit
def _jit_masks(key, items, lanes, threshold):
    out = np.empty(items.shape[0], dtype=np.uint64)
    for i in range(items.shape[0]):
        mask = np.uint64(0)
        for lane in range(LANES):  # the lanes asked about that fall below
            bit = np.uint64(1) << np.uint64(lane)
            if lanes & bit and lane_below(key, np.uint64(items[i]), np.uint64(lane), threshold):
                mask |= bit
        out[i] = mask
    return out


@pytest.mark.parametrize("threshold", [0, 1, 3 * 2**48 + 777, 2**55, lane_threshold(0.01), 2**56 - 1, 2**56])
def test_lane_draws_agree_between_numba_and_numpy(threshold):
    """The jitted ``lane_below`` (all lanes, any subset) is bit for bit ``lane_numbers < threshold``.

    A threshold with first digit 3 makes 1 lane draw in 256 tie on it, so the slow path of
    the comparison (later digits) runs ~4,000 times here.
    """
    key = np.uint64(trial_key(root_key(5), as_key(Stream.LIVE_LANES), as_key(2)))
    items = np.arange(0, 16_000, 1, dtype=np.int64)
    thr = np.uint64(threshold)
    full = _jit_masks(key, items, _ALL, thr)
    want = np.zeros(items.shape, dtype=np.uint64)
    for lane in range(LANES):
        below_ = lane_numbers(key, items, lane) < thr
        want |= below_.astype(np.uint64) << np.uint64(lane)
    assert np.array_equal(full, want)
    rng = np.random.default_rng(1)
    for lanes in [1, 1 << 63, 0xFF00, *rng.integers(0, 2**63, 5).tolist()]:
        sub = np.uint64(lanes)
        assert np.array_equal(_jit_masks(key, items[:2000], sub, thr), full[:2000] & sub)


def test_lane_draws_are_uniform_and_independent():
    """KS test per lane; neighbouring lanes and items uncorrelated; P(below) = p within 4 SE."""
    key = np.uint64(trial_key(root_key(11), as_key(Stream.LIVE_LANES), as_key(0)))
    n = 100_000
    items = np.arange(n)
    u = {lane: lane_numbers(key, items, lane).astype(np.float64) / 2.0**56 for lane in (0, 1, 8, 63)}
    for lane, x in u.items():
        assert stats.kstest(x, "uniform").pvalue > 1e-4, lane
        assert ((x >= 0) & (x < 1)).all()
    assert abs(np.corrcoef(u[0], u[1])[0, 1]) < 5 / np.sqrt(n)
    assert abs(np.corrcoef(u[0], u[8])[0, 1]) < 5 / np.sqrt(n)
    assert abs(np.corrcoef(u[63][:-1], u[63][1:])[0, 1]) < 5 / np.sqrt(n)
    for p in (0.01, 0.05, 0.5):
        masks = _jit_masks(key, items[:20_000], _ALL, np.uint64(lane_threshold(p)))
        hits = sum(bin(int(m)).count("1") for m in masks)
        trials = 20_000 * LANES
        assert abs(hits / trials - p) < 4 * np.sqrt(p * (1 - p) / trials)


def test_numpy_global_seeded_gives_the_seeds_draws_and_leaves_the_global_state_as_it_was():
    from sim.base.rng import numpy_global_seeded

    np.random.seed(12345)
    before = np.random.get_state()[1].copy()
    with numpy_global_seeded(7):
        inside = np.random.random(3)
    assert np.array_equal(inside, np.random.RandomState(7).random_sample(3))
    assert np.array_equal(np.random.get_state()[1], before)
    with numpy_global_seeded(7):
        assert np.array_equal(np.random.random(3), inside)
