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
    EDGE_LIVE = 2  #: Independent Cascade: is edge e live in trial t
    THRESHOLD = 3  #: Linear Threshold: threshold of account v in trial t
    RECRUITS = 4  #: random recruit selection in trial t
    EXPOSE = 5  #: campaign: does the follower on edge e see post p
    ENGAGE = 6  #: campaign: does an exposed account engage with post p
    DISCOVER = 7  #: campaign: which non-followers a platform shows post p to
    DISCOVER_CONVERT = 8  #: campaign, independent mode: does a discovery exposure convert
    DISCOVER_ENGAGE = 9  #: campaign: does a discovery exposure engage
    RESHARE = 10  #: campaign: does adopter v re-share
    PARTNERS = 11  #: campaign: random choice of partner creators (once per run, not per trial)


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
    c = np.asarray(counters, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (c + _ONE) * _GOLDEN
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        z = z ^ (z >> _S31)
    return (z >> _S11).astype(np.float64) * _INV53


def numpy_generator(seed: int, stream: Stream, *parts: int) -> np.random.Generator:
    """A NumPy generator for sequential draws that are addressed as a whole (e.g. building one world).

    Used where a library (NetworkX) needs a generator; the generator is keyed by
    ``(seed, stream, *parts)`` so it is independent of every other use.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), int(stream), *map(int, parts)])))
