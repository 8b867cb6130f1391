"""Counter-based randomness: every random number is addressed by what it is for.

A draw is a pure function of a key and a counter, never of the order in which
draws were made. Keys are derived from ``(root seed, stream, trial, ...)`` by
hashing, and a draw for edge or account ``i`` is ``uniform(key, i)``. Because of
this, the numba kernel, the Mesa engine, any number of workers and a resumed run
all see the same number for the same purpose, and a trial only computes the
draws it actually touches (no O(n) pre-drawing).

The mixing function is the SplitMix64 finaliser (Steele, Lea & Flood 2014,
"Fast splittable pseudorandom number generators", OOPSLA), which passes
BigCrush when applied to a Weyl sequence ``key + i * golden``; the top 53 bits
give a double in [0, 1).

Notes
-----
numba silently turns ``int64 op uint64`` into float64. Every function here
forces ``np.uint64`` at its boundary; callers from Python pass keys through
:func:`as_key`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


class Stream(IntEnum):
    """What a family of draws is for. Never reuse a value for a new purpose.

    Strategies compared in one run share every stream except those that depend
    on the strategy itself, which gives common random numbers (paired trials).
    """

    WORLD = 1  #: graph generation and population attributes
    EDGE_LIVE = 2  #: campaign, independent mode: does the n-th (n >= 1) exposure on edge e convert in trial t
    THRESHOLD = 3  #: Linear Threshold: threshold of account v in trial t
    RECRUITS = 4  #: random recruit selection in trial t
    EXPOSE = 5  #: campaign: does the follower on edge e see post p
    ENGAGE = 6  #: campaign: does an exposed account engage with post p
    DISCOVER = 7  #: campaign: which non-followers a platform shows post p to
    DISCOVER_CONVERT = 8  #: campaign, independent mode: does a discovery exposure convert
    DISCOVER_ENGAGE = 9  #: campaign: does a discovery exposure engage
    RESHARE = 10  #: campaign: does adopter v re-share
    PARTNERS = 11  #: campaign: random choice of partner creators (once per run, not per trial)
    LIVE_LANES = 12  #: lane draws keyed by trial block: IC edge liveness; campaign's first exposure on an edge
    REVERSE_SETS = 13  #: reverse-influence sampling: root and live edges (IC) or chosen in-edge (LT) of RR set j
    TARGET_ORDER = 14  #: influence maximisation: the random order of the "random" targeting heuristic
    CALIBRATION = 15  #: calibration: the optimiser's seed, bootstrap replicates' seeds and redrawn targets
    #: claims audit (experiments/source_claims): root seeds of the replicate worlds of its population of campaigns
    CLAIMS = 16
    # 19 is left for other layers' streams; a value is never reused for another purpose.
    WEAK_TIES = 17  #: Goldenberg et al. (2001) automaton: the w weak-tie contacts of account v in period t
    INFORM = 18  #: Goldenberg et al. (2001) automaton: does uninformed account v become informed in period t
    DESIGN = 20  #: sweeps: the points of a sampled design (Latin hypercube, Sobol, Morris; once per run)
    SELECTION = 21  #: campaign, select: greedy: the trials partner selection is estimated on
    DECISION = 22  #: decisions: the bootstrap resamples of trials behind a strategy's chance of being best
    OPTIMIZE = 23  #: optimize: the optimiser's own seed and the trials plans are searched on
    PRESS = 30  #: campaign: which audience accounts press coverage of post p reaches (earned media)
    PRESS_ENGAGE = 31  #: campaign: does a press exposure engage
    PRESS_CONVERT = 32  #: campaign, independent mode: does a press exposure convert


@nb.njit(cache=True, inline="always")
def mix(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: a bijection of uint64 with full avalanche."""
    z = np.uint64(z)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True, inline="always")
def derive(key: np.uint64, part: np.uint64) -> np.uint64:
    """Child key of ``key`` for the integer ``part`` (a stream, trial, step...)."""
    return mix(np.uint64(key) ^ mix(np.uint64(part) + _GOLDEN))


@nb.njit(cache=True, inline="always")
def bits(key: np.uint64, counter: np.uint64) -> np.uint64:
    """64 random bits for position ``counter`` under ``key``."""
    return mix(np.uint64(key) + (np.uint64(counter) + _ONE) * _GOLDEN)


@nb.njit(cache=True, inline="always")
def uniform(key: np.uint64, counter: np.uint64) -> float:
    """A double in [0, 1) for position ``counter`` (edge id, account id...) under ``key``."""
    return float(bits(key, counter) >> _S11) * _INV53


@nb.njit(cache=True, inline="always")
def below(key: np.uint64, counter: np.uint64, bound: np.int64) -> np.int64:
    """An integer in [0, bound) for position ``counter``: floor(u * bound), bias at most bound / 2**53."""
    return np.int64(uniform(key, counter) * bound)


@nb.njit(cache=True)
def trial_key(root: np.uint64, stream: np.uint64, trial: np.uint64) -> np.uint64:
    """Key of one stream in one trial, from the run's root key.

    Called from Python, the result comes back as a plain ``int``: wrap it in
    ``np.uint64`` before passing it to another jitted function (keys above 2**63
    do not fit numba's default int64).
    """
    return derive(derive(np.uint64(root), np.uint64(stream)), np.uint64(trial))


#: Trials share lane draws in blocks of this many, one bit (lane) per trial:
#: trial ``t`` is lane ``t % LANES`` of block ``t // LANES``.
LANES = 64
#: Base-256 digits in one lane's number: a lane draw is a uniform 56-bit integer.
LANE_DIGITS = 7
#: Resolution of a lane draw: a probability ``p`` becomes the threshold ``ceil(p * LANE_SCALE)``.
LANE_SCALE = 2**56
#: Consecutive items (edges) whose digits for one lane share a 64-bit word, a byte each.
LANE_ITEMS = 8
_FULL = np.uint64(LANE_SCALE)
_ZERO = np.uint64(0)
_BYTE = np.uint64(0xFF)
_THREE = np.uint64(3)
_SIX = np.uint64(6)
_SEVEN = np.uint64(7)
_48 = np.uint64(48)


@nb.njit(cache=True, inline="always")
def lane_word(key: np.uint64, item: np.uint64, lane: np.uint64) -> np.uint64:
    """The word holding lane ``lane``'s first digits for items ``8 * (item // 8) ..`` ``+ 7``.

    Byte ``item % 8`` of it is the first (most significant) base-256 digit of the lane's
    draw for ``item``; a lane scanning consecutive items (an account's out-edges) reads
    one hash per eight of them.
    """
    return bits(key, ((np.uint64(item) >> _THREE) << _SIX) + np.uint64(lane))


@nb.njit(cache=True)
def lane_tie_below(key: np.uint64, item: np.uint64, lane: np.uint64, threshold: np.uint64) -> bool:
    """Compare digits 1..6 of a lane draw with ``threshold`` (digit 0 equal to the threshold's).

    Digit ``i`` is byte ``item % 8`` of ``lane_word(derive(key, i), item, lane)``. Reached
    in 1 draw of 256; the answer for a draw equal to the threshold is "not below".
    """
    item = np.uint64(item)
    shift = (item & _SEVEN) << _THREE
    for i in range(1, LANE_DIGITS):
        d = (lane_word(derive(key, np.uint64(i)), item, lane) >> shift) & _BYTE
        t = (np.uint64(threshold) >> np.uint64(8 * (LANE_DIGITS - 1 - i))) & _BYTE
        if d != t:
            return d < t
    return False


@nb.njit(cache=True, inline="always")
def lane_below(key: np.uint64, item: np.uint64, lane: np.uint64, threshold: np.uint64) -> bool:
    """Whether lane ``lane``'s draw for ``item`` under ``key`` is below ``threshold``.

    The draw is the 56-bit number whose base-256 digits, most significant first, are
    byte ``item % 8`` of ``lane_word(K_i, item, lane)`` for ``i = 0 .. 6``, with
    ``K_0 = key`` and ``K_i = derive(key, i)``. It is uniform on ``[0, 2**56)`` and
    independent across lanes and items, so with ``threshold = ceil(p * 2**56)``
    (:func:`lane_threshold`; ``2**56`` means always) it is below with probability exactly
    ``p``. One hash decides it; a tie on the first digit (1 case in 256) costs a key
    derivation and a hash per further digit.

    Parameters
    ----------
    key : uint64
        Key of the trial block (``trial_key(root, LIVE_LANES, t // LANES)``).
    item : uint64
        Edge id (or other item).
    lane : uint64
        ``t % LANES``.
    threshold : uint64
        In ``[0, 2**56]``.
    """
    item = np.uint64(item)
    threshold = np.uint64(threshold)
    d = (lane_word(key, item, lane) >> ((item & _SEVEN) << _THREE)) & _BYTE
    top = threshold >> _48
    if d != top:
        return d < top  # top = 256 when threshold = 2**56: always below
    return lane_tie_below(key, item, lane, threshold)


def lane_numbers(key: np.uint64, items: np.ndarray, lane: int) -> np.ndarray:
    """Lane ``lane``'s 56-bit draw for every item: the Python-side view of :func:`lane_below`.

    ``lane_numbers(key, items, L) < threshold`` equals ``lane_below(key, item, L,
    threshold)`` for each item (the Mesa engine uses this).

    Parameters
    ----------
    key : uint64
        Key of the trial block.
    items : array of int
        Item ids (edge ids), >= 0.
    lane : int
        In ``[0, LANES)``.

    Returns
    -------
    uint64 array, values in ``[0, 2**56)``.
    """
    if not 0 <= lane < LANES:
        raise ValueError(f"lane must be in [0, {LANES}), got {lane}")
    items = np.asarray(items, dtype=np.uint64)
    counter = ((items >> _THREE) << _SIX) + np.uint64(lane)
    shift = (items & _SEVEN) << _THREE
    out = np.zeros(items.shape, dtype=np.uint64)
    for i in range(LANE_DIGITS):
        k = np.uint64(key) if i == 0 else np.uint64(derive(np.uint64(key), np.uint64(i)))
        out = (out << np.uint64(8)) | ((_bits_array(k, counter) >> shift) & _BYTE)
    return out


def normal_quantile(p: float) -> float:
    """Quantile of the standard normal distribution, Phi^-1(p), for p in [0, 1).

    Wichura (1988), "Algorithm AS 241: The percentage points of the normal distribution",
    *Applied Statistics* 37(3):477-484 (PPND16, relative error about 1e-16). Written in plain
    scalar arithmetic with ``math.log`` and ``math.sqrt`` (the libm functions numba calls), so
    the jitted copy the kernels use (:func:`normal_quantile_jit`) and this Python function give
    the same bits: that is what lets the Mesa engine reproduce threshold draws exactly.
    ``p = 0`` gives ``-inf``; p is a keyed uniform, never 1.
    """
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r
                         + 45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r
                      + 133.14166789178437745) * r + 3.387132872796366608) / (
            ((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) * r
                + 21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r
             + 42.313330701600911252) * r + 1.0)
    r = p if q < 0.0 else 1.0 - p
    if r <= 0.0:
        return -math.inf if q < 0.0 else math.inf
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r = r - 1.6
        val = (((((((0.00077454501427834140764 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r
                   + 1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r
                + 4.6303378461565452959) * r + 1.42343711074968357734) / (
            ((((((1.05075007164441684324e-9 * r + 0.0005475938084995344946) * r + 0.0151986665636164571966) * r
                + 0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r
             + 2.05319162663775882187) * r + 1.0)
    else:
        r = r - 5.0
        val = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r
                   + 0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r
                + 5.4637849111641143699) * r + 6.6579046435011037772) / (
            ((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r
                + 0.0007868691311456132591) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
             + 0.59983220655588793769) * r + 1.0)
    return -val if q < 0.0 else val


#: The same function compiled for the kernels (identical results: same operations, same libm).
normal_quantile_jit = nb.njit(cache=True)(normal_quantile)


def lane_threshold(p: np.ndarray | float) -> np.ndarray:
    """``ceil(p * 2**56)`` as uint64: the threshold that makes a lane draw fall below with probability ``p``.

    ``p * 2**56`` is exact in float64 (a power-of-two scaling), so ``k < lane_threshold(p)``
    is exactly ``k / 2**56 < p`` for a 56-bit lane number ``k``.
    """
    return np.ceil(np.asarray(p, dtype=np.float64) * float(LANE_SCALE)).astype(np.uint64)


def as_key(value: int) -> np.uint64:
    """Convert a Python integer (root seed, stream, trial) to the uint64 the kernels expect.

    Parameters
    ----------
    value : int
        Any integer in [0, 2**64).

    Raises
    ------
    ValueError
        If ``value`` is negative or does not fit in 64 bits.
    """
    value = int(value)
    if not 0 <= value < 2**64:
        raise ValueError(f"a random key must be in [0, 2**64), got {value}")
    return np.uint64(value)


def root_key(seed: int) -> np.uint64:
    """Root key of a run: the user's seed hashed once, so nearby seeds give unrelated streams."""
    return np.uint64(mix(as_key(seed)))


def uniforms(key: np.uint64, counters: np.ndarray) -> np.ndarray:
    """Vectorised :func:`uniform` for Python-side code (the Mesa engine, world building).

    Gives bit-identical values to the jitted :func:`uniform` for the same key and counters.
    """
    return (_bits_array(key, np.asarray(counters, dtype=np.uint64)) >> _S11).astype(np.float64) * _INV53


def _bits_array(key: np.uint64, counters: np.ndarray) -> np.ndarray:
    """Vectorised :func:`bits` (uint64 arithmetic wraps modulo 2**64, as in the jitted code)."""
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (counters + _ONE) * _GOLDEN
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)


def numpy_generator(seed: int, stream: Stream, *parts: int) -> np.random.Generator:
    """A NumPy generator for sequential draws that are addressed as a whole (e.g. building one world).

    Used where a library (NetworkX) needs a generator; the generator is keyed by
    ``(seed, stream, *parts)`` so it is independent of every other use.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), int(stream), *map(int, parts)])))


@contextmanager
def numpy_global_seeded(seed: int) -> Iterator[None]:
    """NumPy's legacy global generator seeded with ``seed`` inside the block, restored after it.

    For libraries that draw from ``np.random`` and take no generator (pyABC's samplers and
    transitions): the seed is one the caller keys from the run's root seed, and the state any other
    code sees is the one it had before the block, so nothing outside depends on the library's draws.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
