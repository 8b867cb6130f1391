"""The classic models on a CUDA GPU: the same trials as :mod:`sim.classic.kernel`, bit for bit.

Entry points with the CPU kernel's signatures: :func:`final_sizes` and :func:`activation_times`
(on a compiled model and recruit plan), :func:`ic_final_sizes` and :func:`lt_final_sizes` (on
arrays). For the same graph, model, plan, root key and trial, every outcome (final size, step of
the last activation, the activation step of every account) equals the CPU kernel's: every draw is
the keyed pure function of :mod:`sim.base.rng`, every sum an integer, every threshold the same double
(:mod:`sim.classic.cuda_device` explains how). That is what lets ``engine: cuda`` slot into
``run()``'s chunks, resume, Dask and the Mesa cross-check unchanged.

Not ported: normal thresholds (their quantile's tail calls ``log``, whose last bit differs
between libm and libdevice) and the campaign model. :func:`unavailable` says why a machine cannot
run the engine (no ``numba.cuda``, no driver, no GPU); under ``NUMBA_ENABLE_CUDASIM=1`` the
kernels run in numba's CUDA simulator (slowly: tests use worlds of hundreds of accounts).

Device memory: each resident CUDA block holds one *slot* of scratch sized by the number of
accounts (IC: 36 bytes per account, LT: 28), plus the graph. :func:`plan_launch` chooses how
many slots fit and refuses, before launching, a world whose graph and one slot do not fit
(:class:`DeviceMemoryError`, worded like ``--max-memory``'s refusals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from sim.base import cuda_host
from sim.base.cuda_host import (  # noqa: F401 - the engine's public names (family.py, tests, benchmarks)
    STATS,
    DeviceMemoryError,
    EngineUnavailable,
    device_info,
    require,
    unavailable,
)
from sim.base.cuda_host import cuda as _cuda
from sim.base.cuda_host import free_bytes as _free_bytes
from sim.base.cuda_host import gib as _gib
from sim.base.cuda_host import lock as _lock
from sim.base.cuda_host import resident_blocks as _resident_blocks
from sim.base.cuda_host import timed as _timed
from sim.base.cuda_host import to_device as _to_device
from sim.base.cuda_host import zeros as _zeros
from sim.base.rng import LANES

#: ``max_steps`` meaning "until the cascade stops" (as :data:`sim.classic.kernel.UNLIMITED`).
UNLIMITED = 2**31 - 1
#: Threshold law codes (:mod:`sim.classic.model`); the normal law is refused here.
LAW_NORMAL = 1
#: Scratch bytes per account and slot (see the kernels' scratch arrays).
IC_SLOT_BYTES = 8 + 8 + 8 + 8 + 4  # act, newm, pend, two frontier lists, touched
LT_SLOT_BYTES = 8 + 4 + 4 + 8 + 4  # acc, two stamps, two frontier lists, touched
#: Share of the device's free memory the scratch may take.
SCRATCH_SHARE = 0.6
#: Units (IC) or trials (LT) per launch: bounds the output arrays of one launch.
LAUNCH_UNITS = 1 << 20
LAUNCH_TRIALS = 1 << 24

NORMAL_REFUSED = ("normal thresholds are not ported to the cuda engine: their quantile calls log(), whose last bit "
                  "differs between the CPU's libm and the GPU's libdevice, so trials would not match the numba engine")


def _device():
    from sim.classic import cuda_device

    return cuda_device


# --------------------------------------------------------------------------- launch planning

@dataclass(frozen=True)
class LaunchPlan:
    """How one call runs: ``slots`` CUDA blocks of ``threads`` threads, each with a scratch slot."""

    slots: int
    threads: int
    graph_bytes: int
    scratch_bytes: int


def plan_launch(n: int, m: int, work: int, kind: str, threads: int, resident: int, held: int = 0) -> LaunchPlan:
    """Slots for ``work`` units (IC) or trials (LT) on a graph of ``n`` accounts and ``m`` edges.

    ``resident``: blocks the device runs at once. ``held`` is device memory this module already
    holds (cached graph and scratch), which counts as free. Raises :class:`DeviceMemoryError` when
    not even one slot fits beside the graph.
    """
    per_account = IC_SLOT_BYTES if kind == "ic" else LT_SLOT_BYTES
    slot_bytes = per_account * max(n, 1)
    graph_bytes = 8 * (n + 1) + 4 * m + 8 * m + m + 8 * n  # CSR, per-edge values, tops, scale / times
    want = max(1, min(work, resident))
    free = _free_bytes()
    if free is None:
        return LaunchPlan(want, threads, graph_bytes, want * slot_bytes)
    free += held
    budget = int(SCRATCH_SHARE * free) - graph_bytes
    fit = budget // slot_bytes if budget > 0 else 0
    if fit < 1:
        raise DeviceMemoryError(
            f"this world needs about {_gib(graph_bytes + slot_bytes)} of GPU memory ({n:,} accounts, {m:,} edges: "
            f"graph {_gib(graph_bytes)}, scratch {_gib(slot_bytes)} per CUDA block) but the GPU has "
            f"{_gib(free)} free, of which the engine uses {SCRATCH_SHARE:.0%}; use a smaller world or --engine numba")
    slots = min(want, fit)
    return LaunchPlan(slots, threads, graph_bytes, slots * slot_bytes)


# --------------------------------------------------------------------------- device memory kept between calls

_scratch = cuda_host.scratch  # shared with the campaign engine: one kernel's scratch at a time
_held_bytes = cuda_host.held_bytes


def _ic_scratch(n: int, slots: int):
    """IC scratch for at least ``slots`` slots: act, newm (zero, and left zero by every unit), pend, lists, touched."""
    found = _scratch.get("ic")
    if found is not None and found[0][0] == n and found[0][1] >= slots:
        return found[1]
    key = (n, slots)
    _scratch.pop("ic", None)
    cuda = _cuda()
    size = slots * n
    arrays = (_zeros(size, np.uint64), _zeros(size, np.uint64), cuda.device_array(max(size, 1), np.uint64),
              cuda.device_array(max(2 * size, 1), np.int32), cuda.device_array(max(size, 1), np.int32))
    _scratch["ic"] = (key, arrays)
    return arrays


@dataclass(frozen=True)
class _LtArrays:
    """The LT scratch arrays in kernel order (placeholders when probing the kernel)."""

    acc: object
    tstamp: object
    astamp: object
    lists: object
    touched: object
    gens: object


class _LtScratch:
    """LT scratch: sums (zero between trials), stamps below each slot's generation, lists.

    ``used`` (trials run since the stamps were zeroed) bounds every slot's generation.
    """

    def __init__(self, n: int, slots: int) -> None:
        cuda = _cuda()
        size = slots * n
        self.acc = _zeros(size, np.int64)
        self.tstamp = _zeros(size, np.int32)
        self.astamp = _zeros(size, np.int32)
        self.lists = cuda.device_array(max(2 * size, 1), np.int32)
        self.touched = cuda.device_array(max(size, 1), np.int32)
        self.gens = _zeros(slots, np.int64)
        self.used = 0

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.acc, self.tstamp, self.astamp, self.lists, self.touched, self.gens))


def _lt_scratch(n: int, slots: int, trials: int) -> _LtScratch:
    """LT scratch for at least ``slots`` slots whose stamps have room for ``trials`` more trials."""
    found = _scratch.get("lt")
    if found is not None and found[0][0] == n and found[0][1] >= slots and found[1][0].used + trials < 2**31 - 2:
        return found[1][0]
    key = (n, slots)
    _scratch.pop("lt", None)
    scratch = _LtScratch(n, slots)
    _scratch["lt"] = (key, (scratch,))
    return scratch


def release() -> None:
    """Free the device memory this module keeps between calls (graph copies and scratch)."""
    with _lock:
        cuda_host.arrays.clear()
        _scratch.clear()


def _forget_scratch() -> None:
    """After a failed launch: scratch may be left dirty."""
    _scratch.clear()


# --------------------------------------------------------------------------- trials -> units

def _units(trials: np.ndarray):
    """The 64-trial blocks asked for and, per trial, where its result lands.

    Returns ``(ublocks int64[U], masks uint64[U], where int64[T])``: trial ``trials[i]`` is lane
    ``trials[i] % 64`` of unit ``u`` with ``ublocks[u] == trials[i] // 64``, its result at
    ``u * 64 + lane`` = ``where[i]``. Consecutive trial numbers (``run()``'s chunks) take a
    path without sorting.
    """
    k = trials.shape[0]
    if k and trials[0] >= 0 and _consecutive(trials):
        first = int(trials[0])
        b0, b1 = first // LANES, int(trials[-1]) // LANES
        ublocks = np.arange(b0, b1 + 1, dtype=np.int64)
        masks = np.full(ublocks.shape[0], np.uint64(2**64 - 1), dtype=np.uint64)
        lo = first % LANES
        hi = int(trials[-1]) % LANES
        masks[0] &= np.uint64((2**64 - 1) << lo & (2**64 - 1))
        masks[-1] &= np.uint64((2 ** (hi + 1) - 1) & (2**64 - 1))
        return ublocks, masks, None, lo
    if k and trials.min() < 0:
        raise ValueError("trial numbers must be >= 0")
    blocks = trials // LANES
    ublocks, inverse = np.unique(blocks, return_inverse=True)
    lanes = (trials % LANES).astype(np.uint64)
    masks = np.zeros(ublocks.shape[0], dtype=np.uint64)
    np.bitwise_or.at(masks, inverse, np.left_shift(np.uint64(1), lanes))
    return ublocks, masks, inverse.astype(np.int64) * LANES + lanes.astype(np.int64), 0


@nb.njit(cache=True, nogil=True)
def _consecutive(trials):
    """Whether ``trials`` is ``t0, t0 + 1, ...`` (one pass, stopping at the first gap: a host cost of
    well under a nanosecond per trial, next to the GPU's few)."""
    for i in range(1, trials.shape[0]):
        if trials[i] != trials[0] + i:
            return False
    return True


# --------------------------------------------------------------------------- IC

def ic_final_sizes(indptr, indices, threshold, tops, fixed, n_random, root, trials, max_steps, *, threads=None):
    """Independent Cascade over many trials on the GPU; arguments and results as
    :func:`sim.classic.kernel.ic_final_sizes` (``threads``: CUDA threads per block, for tests).

    Returns
    -------
    adopted : int64[T]
    steps : int32[T]
    """
    trials = np.ascontiguousarray(trials, dtype=np.int64)
    if trials.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    ublocks, masks, where, offset = _units(trials)
    sizes, last = _ic_launch(indptr, indices, threshold, tops, fixed, n_random, root, ublocks, masks, max_steps,
                             threads, -1, None)
    if where is None:  # views: no pass over the results on the host
        return sizes[offset:offset + trials.shape[0]], last[offset:offset + trials.shape[0]]
    return sizes[where], last[where]


def _ic_launch(indptr, indices, threshold, tops, fixed, n_random, root, ublocks, masks, max_steps, threads,
               rec_lane, times):
    dev = _device()
    cuda = _cuda()
    threads = dev.IC_THREADS if threads is None else int(threads)
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    stride = 0 if threshold.shape[0] == 1 else 1
    kernel = dev.ic_kernel(threads, int(n_random) > 0, rec_lane >= 0)
    fixed = np.ascontiguousarray(fixed, dtype=np.int32)
    nunits = ublocks.shape[0]
    sizes = np.empty(nunits * LANES, dtype=np.int64)
    last = np.empty(nunits * LANES, dtype=np.int32)
    with _lock:
        d_times = cuda.to_device(times) if times is not None else cuda.device_array(1, np.int32)
        head = (_to_device(np.asarray(indptr, dtype=np.int64)), _to_device(np.asarray(indices, dtype=np.int32)),
                _to_device(np.asarray(threshold, dtype=np.uint64)), _to_device(np.asarray(tops, dtype=np.uint64)),
                np.int64(stride), _to_device(fixed), np.int64(fixed.shape[0]), np.int64(n_random), np.uint64(root))

        def args(d_blocks, d_masks, units, scratch, d_size, d_last, counter):
            return (*head, d_blocks, d_masks, np.int64(units), np.int64(max_steps), *scratch, d_size, d_last,
                    counter, np.int64(rec_lane), d_times)

        one = cuda.device_array(1, np.uint64)
        i32 = cuda.device_array(1, np.int32)
        i64 = cuda.device_array(1, np.int64)
        probe = args(i64, one, 1, (one, one, one, i32, i32), i64, i32, i64)
        launch, resident = _resident_blocks(kernel, probe, threads)
        cuda_host.drop_scratch("ic")
        try:
            for a in range(0, nunits, LAUNCH_UNITS):
                b = min(nunits, a + LAUNCH_UNITS)
                plan = plan_launch(n, m, b - a, "ic", threads, resident, _held_bytes())
                scratch = _ic_scratch(n, plan.slots)
                d_size = cuda.device_array((b - a) * LANES, np.int64)
                d_last = cuda.device_array((b - a) * LANES, np.int32)
                launch_args = args(cuda.to_device(ublocks[a:b]), cuda.to_device(masks[a:b]), b - a, scratch, d_size,
                                   d_last, _zeros(1, np.int64))
                with _timed():
                    launch[plan.slots, threads](*launch_args)
                d_size.copy_to_host(sizes[a * LANES:b * LANES])
                d_last.copy_to_host(last[a * LANES:b * LANES])
        except BaseException:
            _forget_scratch()
            raise
        if times is not None:
            times[:] = d_times.copy_to_host()
    return sizes, last


# --------------------------------------------------------------------------- LT

def lt_final_sizes(indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root, trials, max_steps,
                   law=0, table=None, instigators=False, *, threads=None):
    """Linear / general threshold over many trials on the GPU; arguments and results as
    :func:`sim.classic.kernel.lt_final_sizes` (normal thresholds, ``law`` 1, are refused).

    Returns
    -------
    adopted : int64[T]
    steps : int32[T]
    """
    trials = np.ascontiguousarray(trials, dtype=np.int64)
    if trials.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    if trials.min() < 0:
        raise ValueError("trial numbers must be >= 0")
    return _lt_launch(indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root, trials, max_steps,
                      law, table, instigators, threads, None)


def _lt_launch(indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root, trials, max_steps, law,
               table, instigators, threads, times):
    if int(law) == LAW_NORMAL:
        raise ValueError(NORMAL_REFUSED)
    dev = _device()
    cuda = _cuda()
    threads = dev.LT_THREADS if threads is None else int(threads)
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    wstride = 0 if weight.shape[0] == 1 else 1
    table = np.zeros(0, dtype=np.float64) if table is None else np.ascontiguousarray(table, dtype=np.float64)
    kernel = dev.lt_kernel(threads, int(law), bool(instigators), int(n_random) > 0, times is not None)
    fixed = np.ascontiguousarray(fixed, dtype=np.int32)
    k = trials.shape[0]
    sizes = np.empty(k, dtype=np.int64)
    steps = np.empty(k, dtype=np.int32)
    with _lock:
        d_times = cuda.to_device(times) if times is not None else cuda.device_array(1, np.int32)
        head = (_to_device(np.asarray(indptr, dtype=np.int64)), _to_device(np.asarray(indices, dtype=np.int32)),
                _to_device(np.asarray(weight, dtype=np.int64)), np.int64(wstride),
                _to_device(np.asarray(scale, dtype=np.float64)), np.float64(theta_lo), np.float64(theta_span),
                _to_device(table), np.int64(table.shape[0]), _to_device(fixed), np.int64(fixed.shape[0]),
                np.int64(n_random), np.uint64(root))

        def args(d_trials, count, s, d_size, d_steps, counter):
            return (*head, d_trials, np.int64(count), np.int64(max_steps), s.acc, s.tstamp, s.astamp, s.lists,
                    s.touched, s.gens, d_size, d_steps, counter, d_times)

        i64 = cuda.device_array(1, np.int64)
        i32 = cuda.device_array(1, np.int32)
        dummy = _LtArrays(i64, i32, i32, i32, i32, i64)
        launch, resident = _resident_blocks(kernel, args(i64, 1, dummy, i64, i32, i64), threads)
        cuda_host.drop_scratch("lt")
        try:
            for a in range(0, k, LAUNCH_TRIALS):
                b = min(k, a + LAUNCH_TRIALS)
                plan = plan_launch(n, m, b - a, "lt", threads, resident, _held_bytes())
                s = _lt_scratch(n, plan.slots, b - a)
                d_size = cuda.device_array(b - a, np.int64)
                d_steps = cuda.device_array(b - a, np.int32)
                launch_args = args(cuda.to_device(trials[a:b]), b - a, s, d_size, d_steps, _zeros(1, np.int64))
                with _timed():
                    launch[plan.slots, threads](*launch_args)
                s.used += b - a
                d_size.copy_to_host(sizes[a:b])
                d_steps.copy_to_host(steps[a:b])
        except BaseException:
            _forget_scratch()
            raise
        if times is not None:
            times[:] = d_times.copy_to_host()
    return sizes, steps


# --------------------------------------------------------------------------- activation times

def ic_activation_times(indptr, indices, threshold, tops, fixed, n_random, root, trial, max_steps, *, threads=None):
    """Activation step of every account in one IC trial (-1 = never); int32[n]. As the CPU kernel's."""
    trial = int(trial)
    if trial < 0:
        raise ValueError("trial numbers must be >= 0")
    times = np.full(indptr.shape[0] - 1, -1, dtype=np.int32)
    lane = trial % LANES
    _ic_launch(indptr, indices, threshold, tops, fixed, n_random, root, np.array([trial // LANES], np.int64),
               np.array([1 << lane], np.uint64), max_steps, threads, lane, times)
    return times


def lt_activation_times(indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root, trial,
                        max_steps, law=0, table=None, instigators=False, *, threads=None):
    """Activation step of every account in one LT trial (-1 = never); int32[n]. As the CPU kernel's."""
    trial = int(trial)
    if trial < 0:
        raise ValueError("trial numbers must be >= 0")
    times = np.full(indptr.shape[0] - 1, -1, dtype=np.int32)
    _lt_launch(indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root,
               np.array([trial], np.int64), max_steps, law, table, instigators, threads, times)
    return times


# --------------------------------------------------------------------------- model-level front (as sim.classic.kernel)

def _is_ic(model) -> bool:
    # By attribute, not isinstance: sim.classic.model imports the scenario schema (pydantic),
    # which a GPU benchmark machine may not have.
    return hasattr(model, "top_words")


def _limit(max_steps) -> int:
    return UNLIMITED if max_steps is None else int(max_steps)


def final_sizes(graph, model, plan, root, trials, max_steps=None):
    """Final cascade size and duration of the given trials, on the GPU.

    Same arguments and results as :func:`sim.classic.kernel.final_sizes` (adopted int64[T],
    steps int32[T]), equal to them trial for trial.
    """
    trials = np.ascontiguousarray(trials, dtype=np.int64)
    if _is_ic(model):
        return ic_final_sizes(graph.indptr, graph.indices, model.kernel_threshold, model.top_words, plan.fixed,
                              plan.n_random, np.uint64(root), trials, _limit(max_steps))
    return lt_final_sizes(graph.indptr, graph.indices, model.kernel_weight, model.scale, model.theta_lo,
                          model.theta_span, plan.fixed, plan.n_random, np.uint64(root), trials, _limit(max_steps),
                          model.law, model.table, model.instigators)


def activation_times(graph, model, plan, root, trial, max_steps=None):
    """Activation step of every account in one trial (-1 = never), on the GPU; as the CPU kernel's."""
    if _is_ic(model):
        return ic_activation_times(graph.indptr, graph.indices, model.kernel_threshold, model.top_words, plan.fixed,
                                   plan.n_random, np.uint64(root), trial, _limit(max_steps))
    return lt_activation_times(graph.indptr, graph.indices, model.kernel_weight, model.scale, model.theta_lo,
                               model.theta_span, plan.fixed, plan.n_random, np.uint64(root), trial, _limit(max_steps),
                               model.law, model.table, model.instigators)


def check_fits(graph, model) -> None:
    """Refuse (:class:`DeviceMemoryError`), before a run, a world whose graph and one CUDA block's scratch
    do not fit in the GPU's free memory."""
    with _lock:
        plan_launch(graph.n, graph.m, 1, "ic" if _is_ic(model) else "lt", 1, 1, _held_bytes())


def check_model(model) -> str | None:
    """Why this compiled model cannot run on the cuda engine (None when it can)."""
    if not _is_ic(model) and int(model.law) == LAW_NORMAL:
        return NORMAL_REFUSED
    return None
