"""The campaign model on a CUDA GPU: the same trials as :mod:`sim.campaign.kernel`, row for row.

Entry points with the numba engine's signatures (:mod:`sim.campaign.model`): :func:`simulate`
(per-trial totals, daily series, partner and segment rows: a
:class:`~sim.campaign.model.CampaignOutcome`), :func:`cascade_tree`, :func:`adoption_days` and
:func:`funnel_days` (one trial in full). For the same population, compiled arrays, schedule, root
key and trial every row equals the CPU kernel's: the draws are the keyed pure functions of
:mod:`sim.base.rng` (device twins in :mod:`sim.base.cuda_device`, shared with the classic models'
engine), the doses the same fixed-point integers, the tables the same
(:mod:`sim.campaign.cuda_device` explains the layout). That is what lets ``engine: cuda`` slot into
``run()``'s chunks, resume and Dask unchanged.

Not ported: independent adoption (``1 - exp(-rate * dose)``: libm's and libdevice's ``exp`` differ
in the last bit, so trials would not match the numba engine). :func:`check_model` says so; the
family's engine refuses it with a located error before anything runs.

Two layouts (:func:`choose_layout`, overridable by :data:`LAYOUT` or ``simulate(..., layout=)``): a GPU
*thread* per trial (:mod:`sim.campaign.cuda_device`) for worlds small enough that every resident thread
gets its own scratch, a *block* per trial (:mod:`sim.campaign.cuda_block`) for large worlds, where
memory would otherwise cap the trials in flight (the 10 M-account world: ~1 GB of scratch per trial).

Device memory: each trial in flight (a thread, or a block) has its own *slot* of scratch: per account
:data:`ACCOUNT_BYTES` (+ :data:`PICK_BYTES` in the block layout, + 4 bytes per counted source beyond
the first when the multiple-source weight is on), per edge-state slot (the partners' out-edges)
:data:`EDGE_BYTES`. :func:`plan_launch` chooses how many slots fit in :data:`SCRATCH_SHARE` of the
free memory beside the world, and refuses (:class:`DeviceMemoryError`, worded like ``--max-memory``'s
refusals) a world whose arrays and one slot do not fit. Without a usable GPU :func:`unavailable` says
why in one line (the same answer as the classic models' engine: :mod:`sim.base.cuda_host`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace
from typing import NamedTuple

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
from sim.base.kernel_records import memo
from sim.campaign import kernel as ck
from sim.campaign.model import (
    CampaignOutcome,
    CampaignWorldArrays,
    CascadeTree,
    Schedule,
    params_record,
    posts_record,
    tree_from_posts,
    world_record,
)

#: Scratch bytes per account and slot: a64 (3 int64), adose (1 float64), a32 (10 int32), lists (3 int32).
ACCOUNT_BYTES = 3 * 8 + 8 + 10 * 4 + 3 * 4
#: Scratch bytes per edge-state slot (a partner's out-edge) and slot: trust, fatigue, day mark, 4 int32.
EDGE_BYTES = 8 + 8 + 8 + 4 * 4
#: Share of the device's free memory the scratch and the outputs of a launch may take.
SCRATCH_SHARE = 0.6
#: Trials per launch at most (bounds the output arrays of one launch).
LAUNCH_TRIALS = 1 << 16
#: Scratch bytes per account and slot the block layout adds (its pick column).
PICK_BYTES = 4
#: Which layout runs trials (:func:`choose_layout`): ``"auto"`` (the rule by world size), ``"thread"`` or
#: ``"block"`` (tests force small worlds onto the block layout; the benchmark reports which one ran).
LAYOUT = "auto"
#: The layout of the last launch (``"thread"`` or ``"block"``), for benchmarks and tests.
STATS_LAYOUT = {"last": ""}

INDEPENDENT_REFUSED = ("independent adoption is not ported to the cuda engine: its conversion probability "
                       "1 - exp(-rate * dose) calls exp(), whose last bit differs between the CPU's libm and the "
                       "GPU's libdevice, so trials would not match the numba engine")


def _device():
    from sim.campaign import cuda_device

    _check_layout(cuda_device)
    return cuda_device


def _block_device():
    from sim.campaign import cuda_block

    _check_layout(_device())
    return cuda_block


@nb.njit(cache=True, nogil=True)
def simple_graph(indptr, indices):
    """Whether no row of a CSR graph names a target twice (no account follows another twice): the block
    layout's condition. O(n + m), one int32 mark per account."""
    n = indptr.shape[0] - 1
    mark = np.full(n, -1, np.int32)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if mark[v] == u:
                return False
            mark[v] = u
    return True


def check_model(arrays: CampaignWorldArrays) -> str | None:
    """Why these compiled arrays cannot run on the cuda engine (None when they can)."""
    if int(arrays.mode) == ck.INDEPENDENT_MODE:
        return INDEPENDENT_REFUSED
    return None


# --------------------------------------------------------------------------- host arrays, packed for the device

class _World(NamedTuple):
    """The kernel world as the device reads it (read-only host arrays: copied to the device once)."""

    indptr: np.ndarray
    indices: np.ndarray
    wf: np.ndarray  # float64[n, 4]: reach, trust0, engagement, threshold_scale
    wi: np.ndarray  # int32[n, 3]: channel, eligible, segment
    plat_ptr: np.ndarray
    plat_members: np.ndarray
    n_audience: int
    n_segments: int
    simple: bool  # no account follows another twice (simple_graph): the block layout may run it


class _Posts(NamedTuple):
    """One schedule as the device reads it."""

    pi: np.ndarray  # int64[posts, 6]: day, account, channel, partner, n_discovery, n_press
    pf: np.ndarray  # float64[posts, 5]: factor, discovery engagement and trust, press engagement and trust
    draw: np.ndarray  # uint64[posts]
    slot_base: np.ndarray  # int64[partners]: first edge-state slot of each partner
    m_slots: int  # edge-state slots (the partners' out-edges laid end to end)
    n_partners: int


class _Params(NamedTuple):
    """The model's tables and scalars as the device reads them."""

    shock: np.ndarray
    decay: np.ndarray
    recovery: np.ndarray
    growth: np.ndarray
    wear: np.ndarray
    repetition: np.ndarray
    synergy: np.ndarray
    ceiling: float
    reshare: float
    reshare_factor: float
    dose_unit: float
    act: float  # click_share * action_on_engagement (P(act | engaged)), computed once on the host
    click: float  # click_share (P(click | engaged))
    days: int
    cap: int
    sources_on: bool
    repetition_on: bool


def _frozen(a: np.ndarray, dtype) -> np.ndarray:
    """A read-only contiguous array of ``dtype`` (the device copy of a read-only array is kept between calls);
    an array that already is one (a graph's CSR arrays: ~1 GB at 10 M accounts) is not copied."""
    if isinstance(a, np.ndarray) and a.dtype == dtype and a.flags.c_contiguous and not a.flags.writeable:
        return a
    out = np.array(a, dtype=dtype, order="C", copy=True)
    out.flags.writeable = False
    return out


def _pack_world(pop, arrays: CampaignWorldArrays) -> _World:
    w = memo(world_record, pop, arrays)
    dev = _device()
    n = w.indptr.shape[0] - 1
    wf = np.empty((n, dev.WF_COLS), np.float64)
    wf[:, dev.W_REACH] = w.reach
    wf[:, dev.W_TRUST0] = w.trust0
    wf[:, dev.W_ENGAGEMENT] = w.engagement
    wf[:, dev.W_TSCALE] = w.threshold_scale
    wi = np.empty((n, dev.WI_COLS), np.int32)
    wi[:, dev.W_CHANNEL] = w.channel
    wi[:, dev.W_ELIGIBLE] = w.eligible
    wi[:, dev.W_SEGMENT] = w.segment
    return _World(_frozen(w.indptr, np.int64), _frozen(w.indices, np.int32), _frozen(wf, np.float64),
                  _frozen(wi, np.int32), _frozen(w.plat_ptr, np.int64), _frozen(w.plat_members, np.int32),
                  int(w.n_audience), int(w.n_segments), bool(simple_graph(w.indptr, w.indices)))


def _pack_posts(pop, schedule: Schedule) -> _Posts:
    p = memo(posts_record, schedule)
    dev = _device()
    k = p.day.shape[0]
    pi = np.empty((k, dev.PI_COLS), np.int64)
    pi[:, dev.P_DAY] = p.day
    pi[:, dev.P_ACCOUNT] = p.account
    pi[:, dev.P_CHANNEL] = p.channel
    pi[:, dev.P_PARTNER] = p.partner
    pi[:, dev.P_NDISC] = p.n_discovery
    pi[:, dev.P_NPRESS] = p.n_press
    pf = np.empty((k, dev.PF_COLS), np.float64)
    pf[:, dev.P_FACTOR] = p.factor
    pf[:, dev.P_DENG] = p.discovery_engagement
    pf[:, dev.P_DTRUST] = p.discovery_trust
    pf[:, dev.P_PENG] = p.press_engagement
    pf[:, dev.P_PTRUST] = p.press_trust
    base, total = ck._slot_base(pop.graph.indptr, p.account, p.partner, p.n_partners)
    return _Posts(_frozen(pi, np.int64), _frozen(pf, np.float64), _frozen(p.draw, np.uint64),
                  _frozen(base, np.int64), int(total), int(p.n_partners))


def _pack_params(arrays: CampaignWorldArrays) -> _Params:
    a = memo(params_record, arrays)
    return _Params(_frozen(a.shock, np.float64), _frozen(a.decay, np.float64), _frozen(a.recovery, np.float64),
                   _frozen(a.growth, np.float64), _frozen(a.wear, np.float64), _frozen(a.repetition, np.float64),
                   _frozen(a.synergy, np.float64), float(a.ceiling), float(a.reshare), float(a.reshare_factor),
                   float(a.dose_unit), float(a.act), float(a.click), int(a.days), int(a.sources_cap),
                   bool(a.sources_on), bool(a.repetition_on))


def _packed(pop, arrays: CampaignWorldArrays, schedule: Schedule) -> tuple[_World, _Posts, _Params]:
    """The three packed records, built once per population, compiled arrays and schedule."""
    return memo(_pack_world, pop, arrays), memo(_pack_posts, pop, schedule), memo(_pack_params, arrays)


# --------------------------------------------------------------------------- launch planning

@dataclass(frozen=True)
class LaunchPlan:
    """How one launch runs: ``slots`` GPU threads (one trial at a time each) in blocks of ``threads``."""

    slots: int
    threads: int
    world_bytes: int
    scratch_bytes: int


def slot_bytes(n: int, m_slots: int, cap: int, sources_on: bool, layout: str = "thread") -> int:
    """Scratch bytes of one slot: ``n`` accounts, ``m_slots`` edge-state slots, sources up to ``cap``
    (``layout="block"``: :data:`PICK_BYTES` more per account)."""
    per_account = ACCOUNT_BYTES + (PICK_BYTES if layout == "block" else 0) + (4 * (cap - 1) if sources_on else 0)
    return per_account * max(n, 1) + EDGE_BYTES * max(m_slots, 1) + 8


def world_bytes(n: int, m: int, members: int, posts: int) -> int:
    """Device bytes of a world (graph, per-account rows, platform members) and one schedule."""
    return 8 * (n + 1) + 4 * m + 8 * 4 * n + 4 * 3 * n + 4 * members + posts * (6 * 8 + 5 * 8 + 8)


def row_bytes(days: int, partners: int, segments: int) -> int:
    """Output bytes of one trial (its totals, series, partner and segment rows)."""
    return 8 * (len(ck.TOTALS) + days * len(ck.SERIES) + max(partners, 1) * len(ck.PARTNER)
                + max(segments, 1) * len(ck.SEGMENT))


def plan_launch(n: int, m: int, members: int, posts: int, m_slots: int, cap: int, sources_on: bool, out_bytes: int,
                work: int, threads: int, resident: int, held: int = 0, layout: str = "thread") -> LaunchPlan:
    """Slots for ``work`` trials; ``resident``: threads the device runs at once (a multiple of ``threads``).

    ``layout="thread"``: a slot is a thread (one trial each); ``"block"``: a slot is a block of
    ``threads`` threads sharing one trial, so ``work`` and ``resident`` count blocks' trials and
    ``plan.slots`` is the number of blocks (``plan.threads`` the block size).

    ``out_bytes``: the launch's output arrays. ``held``: device memory this process already keeps
    (cached arrays and scratch), which counts as free. Raises :class:`DeviceMemoryError` when not
    even one slot fits beside the world.
    """
    per_slot = slot_bytes(n, m_slots, cap, sources_on, layout)
    wbytes = world_bytes(n, m, members, posts)
    block = layout == "block"
    want = max(1, min(work, resident))
    if not block:
        want = -(-want // threads) * threads  # whole blocks
    free = cuda_host.free_bytes()
    if free is None:
        return LaunchPlan(want, threads, wbytes, want * per_slot)
    free += held
    budget = int(SCRATCH_SHARE * free) - wbytes - out_bytes
    fit = budget // per_slot if budget > 0 else 0
    if fit < 1:
        raise DeviceMemoryError(
            f"this world needs about {cuda_host.gib(wbytes + per_slot + out_bytes)} of GPU memory ({n:,} accounts, "
            f"{m:,} edges: world {cuda_host.gib(wbytes)}, scratch {cuda_host.gib(per_slot)} per trial in flight) "
            f"but the GPU has {cuda_host.gib(free)} free, of which the engine uses {SCRATCH_SHARE:.0%}; use a "
            "smaller world or --engine numba")
    slots = min(want, fit)
    if block:
        return LaunchPlan(slots, threads, wbytes, slots * per_slot)
    if slots >= threads:
        slots -= slots % threads
    return LaunchPlan(slots, min(threads, slots), wbytes, slots * per_slot)


# --------------------------------------------------------------------------- scratch kept between calls

class _Scratch:
    """Per-slot scratch; ``used`` (trials run since the stamps were zeroed) bounds every slot's generation."""

    def __init__(self, n: int, m_slots: int, src_cols: int, slots: int, a32_cols: int) -> None:
        cuda = cuda_host.cuda()
        dev = _device()
        self.a64 = cuda.device_array((slots * max(n, 1), dev.A64_COLS), np.int64)
        self.adose = cuda.device_array(slots * max(n, 1), np.float64)
        self.a32 = cuda_host.zeros((slots * max(n, 1), a32_cols), np.int32)
        self.lst = cuda.device_array(slots * 3 * max(n, 1), np.int32)
        self.src = cuda.device_array(max(slots * n * src_cols, 1), np.int32)
        self.ef = cuda.device_array((slots * max(m_slots, 1), 2), np.float64)
        self.ei = cuda_host.zeros(slots * max(m_slots, 1), np.int64)
        self.e32 = cuda_host.zeros((slots * max(m_slots, 1), 4), np.int32)
        self.gens = cuda_host.zeros(slots, np.int64)
        self.used = 0

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.a64, self.adose, self.a32, self.lst, self.src, self.ef, self.ei, self.e32,
                                      self.gens))


def _scratch(kind: str, n: int, m_slots: int, src_cols: int, slots: int, trials: int, a32_cols: int) -> _Scratch:
    """Scratch for at least ``slots`` slots whose stamps have room for ``trials`` more trials (a launch of fewer
    slots than the scratch has uses the first ones: the kernel's slot is its thread's, or block's, index).
    ``kind``: ``campaign`` (thread layout) or ``campaign_block``."""
    found = cuda_host.scratch.get(kind)
    key = (n, max(m_slots, 1), src_cols, slots)
    if (found is not None and found[0][:3] == key[:3] and found[0][3] >= slots
            and found[1][0].used + trials < 2**31 - 2):
        return found[1][0]
    cuda_host.scratch.pop(kind, None)
    cuda_host.free_deferred()
    made = _Scratch(n, m_slots, src_cols, slots, a32_cols)
    cuda_host.scratch[kind] = (key, (made,))
    return made


def release() -> None:
    """Free the device memory the engines keep between calls (array copies and scratch)."""
    with cuda_host.lock:
        cuda_host.arrays.clear()
        cuda_host.scratch.clear()


# --------------------------------------------------------------------------- launches

def _thread_resident(kernel, args, threads: int) -> int:
    """Threads of the thread-per-trial kernel the device runs at once (occupancy of the compiled variant)."""
    _, blocks = cuda_host.resident_blocks(kernel, args, threads)
    return blocks * threads


def choose_layout(n: int, m_slots: int, cap: int, sources_on: bool, world_nbytes: int, simple: bool,
                  resident_threads: int, free: int | None, forced: str = "auto") -> str:
    """The layout a world runs on: ``"thread"`` or ``"block"`` (:data:`LAYOUT` ``"auto"``'s rule).

    ``"thread"``: a thread per trial (:mod:`sim.campaign.cuda_device`); ``"block"``: a block per trial
    (:mod:`sim.campaign.cuda_block`). The rule: the block layout when the thread layout is short of
    memory, i.e. when one thread-layout slot per resident thread (``resident_threads``, the compiled
    thread kernel's occupancy) does not fit in :data:`SCRATCH_SHARE` of the free memory (``free``)
    beside the world (``world_nbytes``): then memory, not the device, caps the trials in flight, and
    sharing a slot among a block's threads puts ``BLOCK_THREADS`` times as many of them to work. The
    block layout needs a *simple* graph (no account following another twice: within a post every
    reached account is then a different one); otherwise, and without a device (``free`` None: the
    simulator), the thread layout. ``forced`` ``"thread"`` / ``"block"`` overrides the rule
    (``"block"`` still needs a simple graph: a world that is not simple runs on the thread layout).
    """
    if forced not in ("auto", "thread", "block"):
        raise ValueError(f"layout must be auto, thread or block, not {forced!r}")
    if not simple:
        return "thread"
    if forced != "auto":
        return forced
    if free is None:
        return "thread"
    budget = int(SCRATCH_SHARE * free) - world_nbytes
    return "block" if slot_bytes(n, m_slots, cap, sources_on) * resident_threads > budget else "thread"


def _launch(world: _World, posts: _Posts, params: _Params, root, trials: np.ndarray, record: bool, threads=None,
            layout: str | None = None):
    """Run ``trials``; returns (totals, series, partners, segments) and, with ``record``, (rec32, rec_post).

    ``layout`` (None: :data:`LAYOUT`) as :func:`choose_layout`'s ``forced``; with ``record`` always the thread
    layout, which keeps the CPU kernel's adopter order. The layout that ran goes to :data:`STATS_LAYOUT`.
    """
    if not trials.shape[0]:
        raise ValueError("no trials to run")
    if trials.min() < 0:
        raise ValueError("trial numbers must be >= 0")
    cuda = cuda_host.cuda()
    dev = _device()
    n = world.indptr.shape[0] - 1
    k = trials.shape[0]
    p_rows = max(posts.n_partners, 1)
    s_rows = max(world.n_segments, 1)
    totals = np.empty((k, len(ck.TOTALS)), np.int64)
    series = np.empty((k, params.days, len(ck.SERIES)), np.int64)
    partners = np.empty((k, p_rows, len(ck.PARTNER)), np.int64)
    segments = np.empty((k, s_rows, len(ck.SEGMENT)), np.int64)
    src_cols = params.cap - 1 if params.sources_on else 0
    kernel = dev.campaign_kernel(params.sources_on, params.repetition_on, record)
    with cuda_host.lock:
        td = cuda_host.to_device
        head = (td(world.indptr), td(world.indices), td(world.wf), td(world.wi), td(world.plat_ptr),
                td(world.plat_members), np.int64(world.n_audience), td(posts.pi), td(posts.pf), td(posts.draw),
                td(posts.slot_base), td(params.shock), td(params.decay), td(params.recovery), td(params.growth),
                td(params.wear), td(params.repetition), td(params.synergy), np.float64(params.ceiling),
                np.float64(params.reshare), np.float64(params.reshare_factor), np.float64(params.dose_unit),
                np.float64(params.act), np.float64(params.click), np.int64(params.days), np.int64(params.cap),
                np.uint64(root))
        rec32 = cuda.device_array((max(n, 1), 4), np.int32) if record else cuda.device_array((1, 4), np.int32)
        rec_post = cuda.device_array(max(n, 1) if record else 1, np.int64)
        i64 = cuda.device_array(1, np.int64)

        def probe(a32_cols):  # placeholder scratch of the right types, for the occupancy query
            return SimpleNamespace(
                a64=cuda.device_array((1, dev.A64_COLS), np.int64), adose=cuda.device_array(1, np.float64),
                a32=cuda.device_array((1, a32_cols), np.int32), lst=cuda.device_array(1, np.int32),
                src=cuda.device_array(1, np.int32), ef=cuda.device_array((1, 2), np.float64),
                ei=cuda.device_array(1, np.int64), e32=cuda.device_array((1, 4), np.int32),
                gens=cuda.device_array(1, np.int64))

        probe_out = (cuda.device_array((1, 1), np.int64), cuda.device_array((1, 1, 1), np.int64),
                     cuda.device_array((1, 1, 1), np.int64), cuda.device_array((1, 1, 1), np.int64))

        def args(d_trials, count, s, d_out, counter, rec=True):
            tail = (rec32, rec_post) if rec else ()
            return (*head, d_trials, np.int64(count), counter, s.a64, s.adose, s.a32, s.lst, s.src, s.ef, s.ei,
                    s.e32, np.int64(max(posts.m_slots, 1)), s.gens, *d_out, *tail)

        t_threads = dev.THREADS if threads is None else int(threads)
        chosen = "thread"
        if not record:
            forced = LAYOUT if layout is None else layout
            free = cuda_host.free_bytes()
            resident_t = 0
            if forced == "auto" and free is not None and world.simple:
                resident_t = _thread_resident(kernel, args(i64, 1, probe(dev.A32_COLS), probe_out, i64), t_threads)
            chosen = choose_layout(
                n, posts.m_slots, params.cap, params.sources_on,
                world_bytes(n, world.indices.shape[0], world.plat_members.shape[0], posts.pi.shape[0]),
                world.simple, resident_t,
                None if free is None else free + cuda_host.held_bytes(), forced)
        if chosen == "block":
            blk = _block_device()
            kernel = blk.campaign_block_kernel(params.sources_on, params.repetition_on)
            threads = blk.BLOCK_THREADS if threads is None else int(threads)
            kind, a32_cols = "campaign_block", blk.BLOCK_A32_COLS
            launch, blocks = cuda_host.resident_blocks(
                kernel, args(i64, 1, probe(a32_cols), probe_out, i64, rec=False), threads)
            resident = blocks  # a block is a slot
        else:
            threads = t_threads
            kind, a32_cols = "campaign", dev.A32_COLS
            launch, blocks = cuda_host.resident_blocks(kernel, args(i64, 1, probe(a32_cols), probe_out, i64), threads)
            resident = blocks * threads
        cuda_host.drop_scratch(kind)
        step = min(LAUNCH_TRIALS, k)
        try:
            for a in range(0, k, step):
                b = min(k, a + step)
                out_bytes = (b - a) * row_bytes(params.days, posts.n_partners, world.n_segments)
                plan = plan_launch(n, world.indices.shape[0], world.plat_members.shape[0], posts.pi.shape[0],
                                   posts.m_slots, params.cap, params.sources_on, out_bytes, b - a, threads, resident,
                                   cuda_host.held_bytes(), chosen)
                s = _scratch(kind, n, posts.m_slots, src_cols, plan.slots, b - a, a32_cols)
                d_out = (cuda.device_array((b - a, len(ck.TOTALS)), np.int64),
                         cuda.device_array((b - a, params.days, len(ck.SERIES)), np.int64),
                         cuda.device_array((b - a, p_rows, len(ck.PARTNER)), np.int64),
                         cuda.device_array((b - a, s_rows, len(ck.SEGMENT)), np.int64))
                launch_args = args(cuda.to_device(trials[a:b]), b - a, s, d_out, cuda_host.zeros(1, np.int64),
                                   rec=chosen == "thread")
                grid = plan.slots if chosen == "block" else plan.slots // plan.threads
                with cuda_host.timed():
                    launch[grid, plan.threads](*launch_args)
                s.used += b - a
                for host, dev_out in zip((totals, series, partners, segments), d_out, strict=True):
                    dev_out.copy_to_host(host[a:b])
        except BaseException:
            cuda_host.scratch.pop(kind, None)  # stamps may be left behind a failed launch
            raise
        recorded = (rec32.copy_to_host(), rec_post.copy_to_host()) if record else None
        STATS_LAYOUT["last"] = chosen
    return (totals, series, partners[:, :posts.n_partners], segments[:, :world.n_segments]), recorded


# --------------------------------------------------------------------------- the engine's functions

def simulate(pop, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
             trials: np.ndarray, layout: str | None = None) -> CampaignOutcome:
    """Campaign trials on the GPU; as :func:`sim.campaign.model.simulate`, equal to it row for row.

    ``layout``: ``"thread"``, ``"block"`` or ``"auto"`` (:func:`choose_layout`); None: :data:`LAYOUT`.
    """
    why = check_model(arrays)
    if why is not None:
        raise ValueError(why)
    trials = np.ascontiguousarray(trials, dtype=np.int64)
    world, posts, params = _packed(pop, arrays, schedule)
    if trials.shape[0] == 0:
        return CampaignOutcome(trials, np.zeros((0, len(ck.TOTALS)), np.int64),
                               np.zeros((0, params.days, len(ck.SERIES)), np.int64),
                               np.zeros((0, posts.n_partners, len(ck.PARTNER)), np.int64),
                               np.zeros((0, world.n_segments, len(ck.SEGMENT)), np.int64))
    (totals, series, partners, segments), _ = _launch(world, posts, params, root, trials, False, layout=layout)
    return CampaignOutcome(trials, totals, series, partners, segments)


def _one_trial(pop, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64, trial: int):
    """One trial in full: (totals row, adopters, their days and posts, engagers, their first engagement days)."""
    why = check_model(arrays)
    if why is not None:
        raise ValueError(why)
    world, posts, params = _packed(pop, arrays, schedule)
    (totals, *_), (rec32, rec_post) = _launch(world, posts, params, root, np.array([int(trial)], np.int64), True)
    row = totals[0]
    k = int(row[ck.TOTALS.index("adopters")])
    e = int(row[ck.TOTALS.index("engagers")])
    return row, rec32[:k, 0].copy(), rec32[:k, 1].copy(), rec_post[:k].copy(), rec32[:e, 2].copy(), rec32[:e, 3].copy()


def funnel_days(pop, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
                trial: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One trial's adoption day and first engagement day of every account (-1 = never) and its totals row,
    as :func:`sim.campaign.model.funnel_days`."""
    row, adopters, days, _, engagers, engaged = _one_trial(pop, arrays, schedule, root, trial)
    n = pop.graph.n
    out = np.full(n, -1, np.int32)
    out[adopters] = days
    first = np.full(n, -1, np.int32)
    first[engagers] = engaged
    return out, first, row


def adoption_days(pop, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
                  trial: int) -> tuple[np.ndarray, np.ndarray]:
    """One trial: adoption day of every account (-1 = never) and the totals row."""
    days, _, row = funnel_days(pop, arrays, schedule, root, trial)
    return days, row


def cascade_tree(pop, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64, trial: int) -> CascadeTree:
    """Who activated whom, when and through which post, in one trial (on the GPU)."""
    _, adopters, days, posts, _, _ = _one_trial(pop, arrays, schedule, root, trial)
    return tree_from_posts(schedule, adopters, days, posts)


def trials_in_flight(pop, arrays: CampaignWorldArrays, schedule: Schedule, layout: str | None = None) -> int:
    """How many trials one launch runs at once for this schedule (slots that fit in memory, at most one per
    resident thread, or per resident block with ``layout="block"``; None or ``"auto"``: the larger of the two).

    Benchmarks warm up with this many trials, so that a timed call allocates no scratch.
    """
    world, posts, params = _packed(pop, arrays, schedule)
    dev = _device()
    if cuda_host.simulator():
        return dev.THREADS
    if layout is None or layout == "auto":
        return max(trials_in_flight(pop, arrays, schedule, "thread"), trials_in_flight(pop, arrays, schedule, "block"))
    block = layout == "block"
    threads = _block_device().BLOCK_THREADS if block else dev.THREADS
    cuda = cuda_host.cuda()
    free = cuda_host.free_bytes() or 0
    n = world.indptr.shape[0] - 1
    per_slot = slot_bytes(n, posts.m_slots, params.cap, params.sources_on, layout)
    device = cuda.get_current_device()
    blocks = device.MULTIPROCESSOR_COUNT * max(1, device.MAX_THREADS_PER_MULTI_PROCESSOR // threads)
    resident = blocks if block else blocks * threads
    fit = (int(SCRATCH_SHARE * (free + cuda_host.held_bytes())) - world_bytes(
        n, world.indices.shape[0], world.plat_members.shape[0], posts.pi.shape[0])) // per_slot
    return int(max(1, min(resident, fit)))


def check_fits(pop, arrays: CampaignWorldArrays, schedules) -> None:
    """Refuse (:class:`DeviceMemoryError`), before a run, a world whose arrays and one trial's scratch do not
    fit in the GPU's free memory (the strategy with the most partners' followers decides; the block layout's
    slot, the larger by one int32 per account)."""
    with cuda_host.lock:
        for schedule in schedules:
            world, posts, params = _packed(pop, arrays, schedule)
            plan_launch(world.indptr.shape[0] - 1, world.indices.shape[0], world.plat_members.shape[0],
                        posts.pi.shape[0], posts.m_slots, params.cap, params.sources_on,
                        row_bytes(params.days, posts.n_partners, world.n_segments), 1, 1, 1, cuda_host.held_bytes(),
                        "block")


@functools.cache
def _check_layout(dev) -> None:
    """The device's column constants follow the CPU kernel's tables (a change there must reach here)."""
    if int(dev.RESHARE_ID_BASE) != int(ck.RESHARE_ID_BASE) or len(ck.TOTALS) != 16 or ck.TOTALS[dev._PIMPR] != (
            "press_impressions") or ck.TOTALS[dev._ENGAGERS] != "engagers" or ck.TOTALS[dev._CLICKERS] != (
            "clickers") or ck.TOTALS[dev._ACLICKED] != "adopters_clicked" or len(ck.SERIES) != 5:
        raise ImportError("sim.campaign.cuda_device's columns no longer match sim.campaign.kernel's TOTALS / SERIES")
