"""Keyed randomness: identical in numba and NumPy, uniform, independent across keys."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest
from scipy import stats

from sim.rng import Stream, as_key, root_key, trial_key, uniform, uniforms


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
    """numba turns int64 op uint64 into float64; a plain int key must still give exact draws."""
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
