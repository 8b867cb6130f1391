"""numba.cuda device functions every GPU kernel shares: the keyed draws of :mod:`sim.base.rng` and
float64 arithmetic that is never contracted.

Imported only by the families' device modules (:mod:`sim.classic.cuda_device`,
:mod:`sim.campaign.cuda_device`), after :func:`sim.base.cuda_host.cuda` has applied the NumPy >= 2.5
shim numba-cuda needs. Each function computes what its CPU twin in :mod:`sim.base.rng` computes, bit
for bit (the same SplitMix64 keys and counters, the same 53-bit uniforms, the same lane digits), so
a kernel built from them draws the numbers the numba CPU kernels draw for the same (key, counter).

Everything here is pure arithmetic (no ``cuda.*`` call): under numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) the functions are plain Python functions, which spares the simulator's
per-call wrapper and needs none of the simulator's per-thread module swapping.

Floating point: libNVVM contracts ``a + b * c`` into a fused multiply-add by default, which
rounds once where the CPU rounds twice. Arithmetic that must equal the CPU's goes through
:func:`fmul` / :func:`fadd` (libdevice's round-to-nearest ``dmul_rn`` / ``dadd_rn``, which are
never contracted). The simulator runs plain Python arithmetic, which is IEEE already.
"""

from __future__ import annotations

import os

import numba as nb
import numpy as np

if not hasattr(np, "row_stack"):  # numba-cuda on NumPy >= 2.5 (see sim.base.cuda_host.cuda)
    np.row_stack = np.vstack

from numba import cuda  # noqa: E402

from sim.base.rng import LANES, Stream  # noqa: E402

#: Whether numba.cuda is the simulator (kernels then run as Python threads, one block at a time).
SIMULATOR = bool(int(os.environ.get("NUMBA_ENABLE_CUDASIM", "0") or 0)) or bool(
    getattr(getattr(nb, "config", None), "ENABLE_CUDASIM", 0))

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
S11 = np.uint64(11)
S3 = np.uint64(3)
S6 = np.uint64(6)
S48 = np.uint64(48)
SEVEN = np.uint64(7)
BYTE = np.uint64(0xFF)
ZERO = np.uint64(0)
ONE = np.uint64(1)
INV53 = 1.0 / 9007199254740992.0  # 2**-53
FULL = np.uint64(2**56)
NLANES = np.uint64(LANES)
LIVE = np.uint64(int(Stream.LIVE_LANES))


def device(fn):
    """``cuda.jit(device=True)``; under the simulator the plain function (see the module docstring)."""
    return fn if SIMULATOR else cuda.jit(device=True)(fn)


# --------------------------------------------------------------------------- keyed draws (sim.base.rng)

@device
def mix(z):
    """SplitMix64 finaliser (:func:`sim.base.rng.mix`)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@device
def derive(key, part):
    """Child key (:func:`sim.base.rng.derive`); ``key`` and ``part`` uint64."""
    return mix(key ^ mix(part + GOLDEN))


@device
def bits(key, counter):
    """64 random bits for position ``counter`` (:func:`sim.base.rng.bits`); uint64 arguments."""
    return mix(key + (counter + ONE) * GOLDEN)


@device
def trial_key(root, stream, trial):
    """Key of one stream in one trial (:func:`sim.base.rng.trial_key`); uint64 arguments."""
    return derive(derive(root, stream), trial)


@device
def uniform(key, counter):
    """A double in [0, 1) (:func:`sim.base.rng.uniform`)."""
    return float(bits(key, counter) >> S11) * INV53


@device
def below(key, counter, bound):
    """``floor(uniform * bound)`` as :func:`sim.base.rng.below` (a product of doubles, then truncation)."""
    return np.int64(uniform(key, counter) * bound)


@device
def tie_below(key, e, lane, threshold):
    """Digits 1..6 of lane ``lane``'s draw for item ``e`` against ``threshold`` (``rng.lane_tie_below``)."""
    if threshold >= FULL:
        return True
    item = np.uint64(e)
    shift = (item & SEVEN) << S3
    counter = ((item >> S3) << S6) + lane
    for i in range(1, 7):
        d = (bits(derive(key, np.uint64(i)), counter) >> shift) & BYTE
        t = (threshold >> np.uint64(8 * (6 - i))) & BYTE
        if d != t:
            return d < t
    return False


# --------------------------------------------------------------------------- float64 without contraction

if SIMULATOR:
    @device
    def fmul(a, b):
        """``a * b`` rounded once (never fused with an add)."""
        return a * b

    @device
    def fadd(a, b):
        """``a + b`` rounded once (never fused with a multiply)."""
        return a + b
else:  # pragma: no cover - needs a GPU
    from numba.cuda import libdevice

    @device
    def fmul(a, b):
        """``a * b`` rounded once (never fused with an add)."""
        return libdevice.dmul_rn(a, b)

    @device
    def fadd(a, b):
        """``a + b`` rounded once (never fused with a multiply)."""
        return libdevice.dadd_rn(a, b)


@cuda.jit
def fill_zero(arr):
    """Zero a 1-D array (scratch initialisation; grid-stride)."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < arr.shape[0]:
        arr[i] = 0
        i += step
