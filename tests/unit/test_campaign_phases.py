"""Pieces of the campaign kernel's phases (sim.campaign.kernel) against the definitions they implement."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pytest

from sim.base.rng import LANE_SCALE, lane_below, lane_tie_below, lane_word, root_key, trial_key
from sim.campaign import kernel as ck


@nb.njit(cache=False)
def _split_and_settle(key, lane, edges, cqs):
    """The kernel's two-step conversion of a first exposure: verdict, then a tie settled apart."""
    keys = ck._Keys(np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0),
                    np.uint64(0), key, lane, np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0))
    out = np.empty(edges.shape[0], np.bool_)
    ties = 0
    for i in range(edges.shape[0]):
        verdict = ck._edge_converts(keys, edges[i], 0, cqs[i])
        if verdict == ck._TIE:
            ties += 1
            out[i] = lane_tie_below(key, np.uint64(edges[i]), lane, np.uint64(math.ceil(cqs[i] * float(LANE_SCALE))))
        else:
            out[i] = verdict == ck._YES
    return out, ties


@nb.njit(cache=False)
def _reference(key, lane, edges, cqs):
    out = np.empty(edges.shape[0], np.bool_)
    for i in range(edges.shape[0]):
        out[i] = lane_below(key, np.uint64(edges[i]), lane, np.uint64(math.ceil(cqs[i] * float(LANE_SCALE))))
    return out


@nb.njit(cache=False)
def _first_digits(key, lane, edges):
    out = np.empty(edges.shape[0], np.int64)
    for i in range(edges.shape[0]):
        e = np.uint64(edges[i])
        out[i] = np.int64((lane_word(key, e, lane) >> ((e & np.uint64(7)) << np.uint64(3))) & np.uint64(0xFF))
    return out


@pytest.mark.parametrize("lane", [0, 17, 63])
def test_first_exposure_conversion_is_the_lane_draw_ties_included(lane):
    """Independent mode's first exposure on an edge converts iff IC's lane draw is below
    ceil(q * 2**56) (sim.base.rng.lane_below). The kernel decides on the first digit inside its
    exposure loop and settles ties on the further digits after it: the same answer for
    every edge, including probabilities whose first digit ties the draw's (forced here)."""
    rng = np.random.default_rng(lane)
    key = trial_key(root_key(3), np.uint64(12), np.uint64(5))
    edges = rng.integers(0, 10**6, 4000).astype(np.int64)
    digits = _first_digits(key, np.uint64(lane), edges)
    cqs = np.concatenate([rng.uniform(0, 1, 2000), (digits[2000:] + rng.uniform(0, 1, 2000)) / 256])
    cqs[:5] = (0.0, 1.0, 1.0 - 2.0**-53, 2.0**-60, 0.5)
    got, ties = _split_and_settle(key, np.uint64(lane), edges, cqs)
    assert ties >= 1900  # the forced ties (a few of the random ones tie too)
    assert np.array_equal(got, _reference(key, np.uint64(lane), edges, cqs))


@pytest.mark.slow
def test_the_trial_counts_references_once_per_trial_not_per_exposure():
    """The phases' arrays are referenced once per trial: no reference counting in the loops over
    posts and exposures (benchmarks/refcounts.py; see the kernel's module notes)."""
    from benchmarks.refcounts import trial_refcounts

    inc, dec, limit = trial_refcounts()
    assert inc <= limit and dec <= limit, (inc, dec, limit)
