"""GPU benchmark: the cuda engine against our CPU kernel (one core and every core) on the benchmark cases.

Usage::

    python -m benchmarks.gpu                   # every case, within --budget seconds (default 330)
    python -m benchmarks.gpu --quick           # smoke run: equality check and two small cases (< 60 s)
    python -m benchmarks.gpu --out FILE.jsonl  # also write the JSON lines to FILE.jsonl

One run, in order: the environment (device, driver, versions, host cores); an equality check of
the GPU against the CPU kernel on a small world, every per-trial outcome and a few trials'
activation steps, for IC (one p, per-edge p, fixed, random and mixed recruits, a step limit) and
the threshold models (in-degree weights, fixed-point weights, Watts' fraction, instigators, signal
counts), each printed PASS or FAIL; then each case of :data:`benchmarks.cases.CASES` (IC and LT on
Barabási–Albert graphs, m = 5, both directions, 50 fixed recruits) plus 1-million-account cases,
and the campaign cases (:data:`CAMPAIGN`: ``scenarios/mechanisms.yaml``, every mechanism on, and
the 10-million-account world of ``benchmarks/scale_world.yaml``), each measured on

* ``gpu``: :func:`sim.classic.cuda_kernel.ic_final_sizes` / ``lt_final_sizes`` (campaign:
  :func:`sim.campaign.cuda_kernel.simulate`) on trials 0..k-1, per-trial results returned to the
  host (``gpu_trials_per_s``), and the kernels' own time from CUDA events
  (``gpu_kernel_trials_per_s``);
* ``cpu_1``: :func:`sim.classic.kernel.final_sizes` (campaign: :func:`sim.campaign.model.simulate`)
  in this thread;
* ``cpu_all``: the same on a thread pool of every usable core, trials split into contiguous parts
  (the kernel releases the GIL), as ``benchmarks/engines.py`` does;
* ``cynetdiff`` (its C loop) where it is importable, below a million accounts.

Each case prints one JSON line as soon as it is done, with trials/s, the mean final size, the
ratios and the issue's floors (every IC and LT case >= 20x ``cpu_all``; IC p = 0.01, n = 10k >=
200 M trials/s; the 1 M-account case within 2x of the 100k case's trials/s; the 10 M-account
campaign world >= 20 trials/s), and an ``equal`` verdict: the GPU's and the CPU's outcomes of the
trials both computed, compared trial for trial (campaign: every totals, series, partner and
segment row). A campaign case prints one line per strategy.
A case that fails prints its error and the run goes on. Progress goes to stderr, JSON to stdout.

Imports: NumPy, numba (with numba.cuda or numba-cuda), NetworkX (the 10k graphs, as
``sim.world.build`` makes them) and the kernel, generator and rng modules of :mod:`sim`, loaded
without ``sim/__init__.py`` (which imports the scenario schema and its pydantic): nothing else,
so it runs on a GPU machine with no network. The campaign cases build their worlds through the
scenario schema (pydantic, PyYAML, pandas): where pydantic is not installed, the benchmark reads it
from ``.gpu-site/`` at the repository root if that folder exists (cp312 wheels of pydantic and its
four dependencies unpacked there; ignored by git, carried to the GPU machine with the working
tree; ``docs/performance.md`` gives the recipe), else reports those cases as skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import os
import platform
import sys
import time
import traceback
import types
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# numba-cuda warns about grids smaller than 128 blocks (the equality check's are); not a finding here.
warnings.filterwarnings("ignore", message=r"Grid size .* under-utilization")


def _bare_sim() -> None:
    """Make ``import sim.<module>`` work without running ``sim/__init__.py``.

    The package's ``__init__`` imports the runner, the scenario schema and pydantic; the kernels,
    the graph generators and the rng need none of them. numba's on-disk kernel cache is checked as
    ``sim/__init__`` would (:func:`sim.base.kernel_cache.ensure_fresh`).
    """
    if "sim" in sys.modules:
        return
    pkg = types.ModuleType("sim")
    pkg.__path__ = [str(ROOT / "sim")]
    pkg.__file__ = str(ROOT / "sim" / "__init__.py")
    sys.modules["sim"] = pkg
    from sim.base.kernel_cache import ensure_fresh

    ensure_fresh()


_bare_sim()

from benchmarks.cases import CASES, RECRUIT_SEED, SEED, CascadeCase  # noqa: E402
from sim.base.rng import Stream, lane_threshold, numpy_generator, root_key  # noqa: E402
from sim.classic import cuda_kernel as gpu  # noqa: E402
from sim.classic import kernel as cpu  # noqa: E402

#: Graphs of at least this many accounts are built by the direct generator (``sim.world.spec.DIRECT_FROM``,
#: the ``builder: auto`` switch; repeated here because that module imports the schema).
DIRECT_FROM = 100_000
#: Fixed-point unit of real LT weights (``sim.classic.model.WEIGHT_UNIT``).
WEIGHT_UNIT = 2**32

#: The 1-million-account cases (same family, recruits and seed as the others).
MILLION = (
    CascadeCase("ic_p01_1m", "ic", 1_000_000, p=0.01),
    CascadeCase("lt_1m", "lt", 1_000_000),
)
#: The classic kernels' one layout, whatever the world's size (``docs/performance.md``, GPU section): a
#: block per 64-trial unit (IC) or per trial (LT), the frontier spread over the block's threads, one
#: slot of n-sized stamped scratch per resident block (36 MB for IC at 1 M accounts).
CLASSIC_LAYOUT = {"ic": "block per 64-trial unit", "lt": "block per trial"}

#: The campaign cases: name, scenario file (relative to the repository root).
CAMPAIGN = (
    ("campaign_mechanisms", "scenarios/mechanisms.yaml"),
    ("campaign_10m", "benchmarks/scale_world.yaml"),
)
#: Issue #22's floors.
FLOOR_CAMPAIGN_10M = 20.0
FLOOR_VS_CPU_ALL = 20.0
FLOOR_IC_P01_10K = 200e6
FLOOR_MILLION_VS_100K = 0.5


def log(msg: str) -> None:
    print(f"# {msg}", file=sys.stderr, flush=True)


_OUT = None


def emit(record: dict) -> None:
    """One JSON line on stdout (and in --out's file), flushed at once."""
    line = json.dumps(record, default=_jsonable)
    print(line, flush=True)
    if _OUT is not None:
        _OUT.write(line + "\n")
        _OUT.flush()


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return str(x)


# --------------------------------------------------------------------------- worlds and models, without the schema

class Graph:
    """The CSR arrays of a follow graph (what :class:`sim.world.graph.FlatGraph` holds), read-only."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, name: str) -> None:
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        for a in (self.indptr, self.indices):
            a.setflags(write=False)  # the cuda engine keeps device copies of read-only arrays
        self.name = name
        self.n = self.indptr.shape[0] - 1
        self.m = self.indices.shape[0]
        self.in_degree = np.bincount(self.indices, minlength=self.n).astype(np.int64)


@functools.lru_cache(maxsize=2)  # the IC and LT cases of one size share their graph
def ba_graph(n: int, m: int, seed: int, direct: bool | None = None) -> Graph:
    """The Barabási–Albert graph ``sim.world.build.build_graph`` makes for ``{kind: barabasi_albert, n, m}``.

    The same keyed generator and the same switch: NetworkX's generator below
    :data:`DIRECT_FROM` accounts, the direct (numba) generator from there on; ``direct`` forces one.
    """
    rng = numpy_generator(seed, Stream.WORLD)
    nx_seed = int(rng.integers(2**62))
    if direct is None:
        direct = n >= DIRECT_FROM
    if direct:
        from sim.world.generators import barabasi_albert

        indptr, indices = barabasi_albert(n, m, rng)
    else:
        import networkx as nx

        from sim.world.graph import FlatGraph

        flat = FlatGraph.from_networkx(nx.barabasi_albert_graph(n, m, seed=nx_seed))
        indptr, indices = flat.indptr, flat.indices
    return Graph(indptr, indices, f"barabasi_albert(n={n}, m={m})")


def fixed_recruits(n: int, k: int) -> np.ndarray:
    """``k`` distinct accounts drawn once from a fixed generator (``benchmarks.engines.fixed_recruits``)."""
    return np.sort(np.random.default_rng(RECRUIT_SEED).choice(n, size=k, replace=False)).astype(np.int32)


def top_words(threshold: np.ndarray) -> np.ndarray:
    """``sim.classic.model.top_words`` (that module imports the schema): top digits packed eight to a word."""
    top = np.minimum(threshold >> np.uint64(48), np.uint64(255)).astype(np.uint64)
    if threshold.size == 1:
        return (top * np.uint64(0x0101010101010101)).astype(np.uint64)
    padded = np.zeros(-(-top.size // 8) * 8, dtype=np.uint64)
    padded[: top.size] = top
    lanes = padded.reshape(-1, 8) << (np.arange(8, dtype=np.uint64) * np.uint64(8))
    return np.bitwise_or.reduce(lanes, axis=1).astype(np.uint64)


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only contiguous copy: the cuda engine keeps device copies of read-only arrays between calls."""
    a = np.array(a, copy=True, order="C")
    a.setflags(write=False)
    return a


class IC:
    """IC compiled as ``sim.classic.model.IndependentCascadeArrays`` does (one threshold when all p agree)."""

    def __init__(self, prob: np.ndarray) -> None:
        threshold = lane_threshold(prob)
        if threshold.size and (threshold == threshold[0]).all():
            threshold = threshold[:1].copy()
        self.kernel_threshold = _frozen(threshold)
        self.top_words = _frozen(top_words(threshold))


class LT:
    """A threshold model compiled as ``sim.classic.model.ThresholdArrays`` does."""

    def __init__(self, weight, scale, theta_lo=0.0, theta_span=1.0, law=0, table=None, instigators=False) -> None:
        weight = np.asarray(weight, dtype=np.int64)
        self.kernel_weight = _frozen(weight[:1].copy() if weight.size and (weight == weight[0]).all() else weight)
        self.scale = _frozen(np.asarray(scale, dtype=np.float64))
        self.theta_lo, self.theta_span, self.law = float(theta_lo), float(theta_span), int(law)
        self.table = np.zeros(0) if table is None else np.asarray(table, dtype=np.float64)
        self.instigators = bool(instigators)


class Plan:
    def __init__(self, fixed: np.ndarray, n_random: int = 0) -> None:
        self.fixed = np.asarray(fixed, dtype=np.int32)
        self.n_random = int(n_random)


def case_model(case: CascadeCase, graph: Graph):
    if case.model == "lt":  # weights 1 / in-degree: one unit per edge, thresholds in units of the in-degree
        return LT(np.ones(graph.m, np.int64), graph.in_degree.astype(np.float64))
    if case.p is not None:
        return IC(np.full(graph.m, case.p))
    lo, hi = case.p_range  # benchmarks.engines.hetero_probs
    rng = np.random.default_rng([case.seed, 7])
    return IC(rng.uniform(lo, hi, size=graph.m).astype(np.float32).astype(np.float64))


def run_engine(engine, graph: Graph, model, plan: Plan, root, trials, max_steps=None, threads=None):
    """Final sizes on ``engine``.

    cpu: the numba kernel's ``final_sizes``; gpu: the cuda engine's ``ic_/lt_final_sizes``.
    """
    if engine is cpu:  # the numba kernel's public entry point (it builds its argument records)
        return cpu.final_sizes(graph, model, plan, np.uint64(root), trials, max_steps)
    limit = 2**31 - 1 if max_steps is None else int(max_steps)
    kw = {} if threads is None else {"threads": threads}
    if isinstance(model, IC):
        return engine.ic_final_sizes(graph.indptr, graph.indices, model.kernel_threshold, model.top_words,
                                     plan.fixed, plan.n_random, np.uint64(root), trials, np.int32(limit), **kw)
    return engine.lt_final_sizes(graph.indptr, graph.indices, model.kernel_weight, model.scale, model.theta_lo,
                                 model.theta_span, plan.fixed, plan.n_random, np.uint64(root), trials,
                                 np.int32(limit), model.law, model.table, model.instigators, **kw)


def run_times(engine, graph, model, plan, root, trial, max_steps=None):
    if engine is cpu:
        return cpu.activation_times(graph, model, plan, np.uint64(root), trial, max_steps)
    limit = 2**31 - 1 if max_steps is None else int(max_steps)
    if isinstance(model, IC):
        return engine.ic_activation_times(graph.indptr, graph.indices, model.kernel_threshold, model.top_words,
                                          plan.fixed, plan.n_random, np.uint64(root), trial, np.int32(limit))
    return engine.lt_activation_times(graph.indptr, graph.indices, model.kernel_weight, model.scale, model.theta_lo,
                                      model.theta_span, plan.fixed, plan.n_random, np.uint64(root), trial,
                                      np.int32(limit), model.law, model.table, model.instigators)


# --------------------------------------------------------------------------- environment

def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def environment() -> dict:
    import numba

    info = {"event": "env", "python": platform.python_version(), "platform": platform.platform(),
            "host_cores": cores(), "numpy": np.__version__, "numba": numba.__version__}
    try:
        text = Path("/proc/cpuinfo").read_text()
        info["cpu_model"] = next((ln.split(":", 1)[1].strip() for ln in text.splitlines()
                                  if ln.startswith("model name")), None)
    except OSError:
        pass
    why = gpu.unavailable()
    info["gpu_unavailable"] = why
    if why is None:
        try:
            info.update(gpu.device_info())
        except Exception as exc:  # noqa: BLE001 - report and go on
            info["device_info_error"] = f"{type(exc).__name__}: {exc}"
    try:
        from importlib.metadata import version

        import cynetdiff  # noqa: F401

        info["cynetdiff"] = version("cynetdiff")
    except Exception:  # noqa: BLE001
        info["cynetdiff"] = None
    return info


# --------------------------------------------------------------------------- equality check on a small world

def equality_checks(quick: bool, tiny: bool = False) -> bool:
    """The GPU's outcomes against the CPU kernel's on a small world; one PASS/FAIL line per check."""
    graph = ba_graph(200 if tiny else 2000, 5, SEED)
    root = root_key(SEED)
    rng = np.random.default_rng(4)
    fixed = fixed_recruits(graph.n, 20 if tiny else 50)
    mixed = Plan(fixed[:10], 5)
    hetero = rng.uniform(0, 0.2, graph.m)
    hetero[rng.random(graph.m) < 0.05] = 1.0
    weights = np.rint(rng.random(graph.m) * 0.3 * WEIGHT_UNIT).astype(np.int64)
    count = np.ones(graph.n)
    signals = 1.0 - np.cumprod(1.0 - np.array([0.2, 0.4] + [0.3] * (int(graph.in_degree.max()) - 2)))
    trials = np.arange(64 if tiny else 256 if quick else 1024)
    checks = [
        ("ic_p05_fixed", IC(np.full(graph.m, 0.05)), Plan(fixed), None),
        ("ic_hetero_mixed_steps3", IC(hetero), mixed, 3),
        ("ic_p02_random", IC(np.full(graph.m, 0.02)), Plan(fixed[:0], 20), None),
        ("lt_in_degree_fixed", LT(np.ones(graph.m), graph.in_degree), Plan(fixed), None),
        ("lt_fixed_point_mixed", LT(weights, np.full(graph.n, float(WEIGHT_UNIT))), mixed, None),
        ("watts_phi_0.15_random", LT(np.ones(graph.m), graph.in_degree, 0.15, 0.0), Plan(fixed[:0], 30), None),
        ("threshold_uniform_instigators", LT(np.ones(graph.m), graph.in_degree, -0.02, 0.5, instigators=True),
         Plan(fixed[:5]), None),
        ("threshold_signal_counts", LT(np.ones(graph.m), count, 0.0, 1.0, law=3, table=signals), Plan(fixed), None),
    ]
    if quick:  # the smoke run compiles two kernel variants per engine, not ten
        checks = [c for c in checks if c[0] in ("ic_p05_fixed", "lt_in_degree_fixed")]
    ok = True
    for name, model, plan, steps in checks:
        t0 = time.perf_counter()
        rec = {"event": "check", "name": name}
        try:
            k = trials if isinstance(model, IC) else trials[: len(trials) // (16 if tiny else 4)]
            got = run_engine(gpu, graph, model, plan, root, k, steps)
            want = run_engine(cpu, graph, model, plan, root, k, steps)
            same = bool(np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]))
            same_times = True
            if not quick:  # every account's activation step in one trial
                t = int(k[-1] // 2)
                same_times = bool(np.array_equal(run_times(gpu, graph, model, plan, root, t, steps),
                                                 run_times(cpu, graph, model, plan, root, t, steps)))
                rec["activation_steps_equal"] = same_times
            rec.update(trials=len(k), mismatches=int((got[0] != want[0]).sum() + (got[1] != want[1]).sum()),
                       mean_size=float(want[0].mean()), result="PASS" if same and same_times else "FAIL")
        except Exception as exc:  # noqa: BLE001 - report and go on
            rec.update(result="FAIL", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()[-2000:])
        rec["seconds"] = round(time.perf_counter() - t0, 2)
        ok &= rec["result"] == "PASS"
        emit(rec)
    return ok


# --------------------------------------------------------------------------- timing

def timed_rate(fn, target: float, first: int, cap: int, step: int = 64):
    """Grow ``k`` until ``fn(k)`` takes ``target`` seconds; the last call's rate and output.

    Returns ``(trials_per_s, k, seconds, output)``. ``cap`` bounds ``k``; a call that already
    takes ``target`` on ``first`` trials is the measurement.
    """
    k = first
    while True:
        t0 = time.perf_counter()
        out = fn(k)
        dt = time.perf_counter() - t0
        if dt >= target or k >= cap:
            return k / dt, k, dt, out
        grow = max(2.0, min(16.0, 1.3 * target / max(dt, 1e-6)))
        k = min(cap, int(math.ceil(k * grow / step)) * step)


_TRIALS = np.zeros(0, dtype=np.int64)


def trial_numbers(k: int) -> np.ndarray:
    """Trials 0..k-1 as a view of one array made once (making 2 GB of trial numbers is not the engine's time)."""
    global _TRIALS
    if _TRIALS.shape[0] < k:
        _TRIALS = np.arange(max(k, 2 * _TRIALS.shape[0]), dtype=np.int64)
    return _TRIALS[:k]


def measure_gpu(graph, model, plan, root, target: float, cap: int):
    """The cuda engine on trials 0..k-1 (a first call compiles and allocates; not timed)."""
    # Enough trials for every resident block to take one: the scratch is allocated here, not in a timed call.
    run_engine(gpu, graph, model, plan, root, trial_numbers(min(cap, 64 * 2048 if isinstance(model, IC) else 4096)))
    kernel0, launches0 = gpu.STATS["kernel_seconds"], gpu.STATS["launches"]

    def call(k):
        nonlocal kernel0, launches0
        kernel0, launches0 = gpu.STATS["kernel_seconds"], gpu.STATS["launches"]
        return run_engine(gpu, graph, model, plan, root, trial_numbers(k))

    rate, k, dt, out = timed_rate(call, target, 64 if cap <= 64 else 1024, cap)
    kernel = gpu.STATS["kernel_seconds"] - kernel0
    return {"trials": k, "seconds": round(dt, 3), "trials_per_s": rate,
            "kernel_trials_per_s": k / kernel if kernel > 0 else None,
            "launches": gpu.STATS["launches"] - launches0}, out


def measure_cpu(graph, model, plan, root, target: float, threads: int, cap: int):
    """Our numba kernel on trials 0..k-1: in this thread, or split over a pool of ``threads`` (nogil)."""
    run_engine(cpu, graph, model, plan, root, trial_numbers(64))  # compile / load from numba's cache
    if threads == 1:
        def call(k):
            return run_engine(cpu, graph, model, plan, root, trial_numbers(k))
    else:
        pool = ThreadPoolExecutor(threads)

        def call(k):
            parts = np.array_split(trial_numbers(k), threads)
            outs = list(pool.map(lambda t: run_engine(cpu, graph, model, plan, root, t), parts))
            return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    try:
        rate, k, dt, out = timed_rate(call, target, 64, cap)
    finally:
        if threads > 1:
            pool.shutdown()
    return {"trials": k, "seconds": round(dt, 3), "trials_per_s": rate, "threads": threads}, out


def measure_cynetdiff(case: CascadeCase, graph: Graph, model, recruits: np.ndarray, target: float):
    """The C loop of cynetdiff (``compute_marginal_gains``), one core, on the same graph, p and recruits."""
    import networkx as nx
    from cynetdiff.utils import networkx_to_ic_model, networkx_to_lt_model

    src = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n))
    if case.model == "ic" and case.p is None:
        lo, hi = case.p_range
        probs = np.random.default_rng([case.seed, 7]).uniform(lo, hi, size=graph.m).astype(np.float32)
        g.add_edges_from((int(u), int(v), {"activation_prob": float(p)})
                         for u, v, p in zip(src, graph.indices, probs, strict=True))
        cd, _ = networkx_to_ic_model(g, rng=case.seed)
    else:
        g.add_edges_from(zip(src.tolist(), graph.indices.tolist(), strict=True))
        if case.model == "lt":
            cd, _ = networkx_to_lt_model(g, rng=case.seed)
        else:
            cd, _ = networkx_to_ic_model(g, activation_prob=case.p, rng=case.seed)
    seeds = [int(v) for v in recruits]
    cd.set_seeds(seeds)
    rate, k, dt, mean = timed_rate(lambda k: float(cd.compute_marginal_gains(seeds, [], k)[0]), target, 16, 10**9,
                                   step=16)
    return {"trials": k, "seconds": round(dt, 3), "trials_per_s": rate, "mean_size": mean}


# --------------------------------------------------------------------------- one case

def run_case(case: CascadeCase, target: float, skip_cpu: bool, rates: dict, gpu_cap: int = 1 << 28) -> dict:
    rec = {"event": "case", "case": case.name, "label": case.label, "model": case.model, "n": case.n,
           "p": case.p, "p_range": case.p_range, "recruits": case.recruits,
           "gpu_layout": CLASSIC_LAYOUT[case.model]}
    t0 = time.perf_counter()
    graph = ba_graph(case.n, case.m, case.seed)
    recruits = fixed_recruits(case.n, case.recruits)
    model = case_model(case, graph)
    plan = Plan(recruits)
    root = root_key(case.seed)
    rec.update(m=graph.m, setup_seconds=round(time.perf_counter() - t0, 2))
    log(f"{case.name}: graph {graph.n:,} accounts, {graph.m:,} edges in {rec['setup_seconds']} s")
    outs = {}
    try:
        rec["gpu"], outs["gpu"] = measure_gpu(graph, model, plan, root, target, cap=gpu_cap)
        rec["gpu"]["mean_size"] = float(outs["gpu"][0].mean())
        log(f"{case.name}: gpu {rec['gpu']['trials_per_s']:,.0f} trials/s")
    except Exception as exc:  # noqa: BLE001 - report and go on
        rec["gpu"] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]}
    if not skip_cpu:
        for key, threads in (("cpu_1", 1), ("cpu_all", cores())):
            try:
                rec[key], outs[key] = measure_cpu(graph, model, plan, root, target, threads, cap=1 << 24)
                rec[key]["mean_size"] = float(outs[key][0].mean())
                log(f"{case.name}: {key} {rec[key]['trials_per_s']:,.0f} trials/s")
            except Exception as exc:  # noqa: BLE001
                rec[key] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]}
    if case.n < 1_000_000 and not skip_cpu:
        try:
            rec["cynetdiff"] = measure_cynetdiff(case, graph, model, recruits, target)
        except ImportError:
            rec["cynetdiff"] = {"skipped": "not importable"}
        except Exception as exc:  # noqa: BLE001
            rec["cynetdiff"] = {"error": f"{type(exc).__name__}: {exc}"}
    # The same trials from both engines, compared trial for trial.
    if "gpu" in outs:
        compared = 0
        for key in ("cpu_all", "cpu_1"):
            if key in outs:
                k = min(len(outs[key][0]), len(outs["gpu"][0]))
                same = (np.array_equal(outs[key][0][:k], outs["gpu"][0][:k])
                        and np.array_equal(outs[key][1][:k], outs["gpu"][1][:k]))
                rec.setdefault("equal", True)
                rec["equal"] &= bool(same)
                compared = max(compared, k)
        rec["equal_trials"] = compared
    _ratios(case, rec, rates)
    rec["seconds"] = round(time.perf_counter() - t0, 2)
    return rec


def _rate(rec: dict, key: str) -> float | None:
    part = rec.get(key)
    return part.get("trials_per_s") if isinstance(part, dict) else None


def _ratios(case: CascadeCase, rec: dict, rates: dict) -> None:
    g = _rate(rec, "gpu")
    rates[case.name] = g
    floors = {}
    for key in ("cpu_1", "cpu_all", "cynetdiff"):
        other = _rate(rec, key)
        if g and other:
            rec[f"gpu_vs_{key}"] = float(f"{g / other:.4g}")
    if g and _rate(rec, "cpu_all"):
        floors["vs_cpu_all"] = {"value": rec["gpu_vs_cpu_all"], "required": FLOOR_VS_CPU_ALL,
                                "verdict": "PASS" if rec["gpu_vs_cpu_all"] >= FLOOR_VS_CPU_ALL else "MISS"}
    if case.name == "ic_p01_10k" and g:
        floors["trials_per_s"] = {"value": g, "required": FLOOR_IC_P01_10K,
                                  "verdict": "PASS" if g >= FLOOR_IC_P01_10K else "MISS"}
    if case.name.endswith("_1m") and g:
        base = rates.get(case.name.replace("_1m", "_100k"))
        if base:
            floors["vs_100k"] = {"value": float(f"{g / base:.4g}"), "required": FLOOR_MILLION_VS_100K,
                                 "verdict": "PASS" if g / base >= FLOOR_MILLION_VS_100K else "MISS"}
    if floors:
        rec["floors"] = floors


# --------------------------------------------------------------------------- campaign cases

def _schema() -> None:
    """Make the scenario schema importable: pydantic installed, or unpacked in ``.gpu-site/``."""
    try:
        import pydantic  # noqa: F401
    except ImportError:
        site = ROOT / ".gpu-site"
        if not site.is_dir():
            raise
        sys.path.insert(0, str(site))
        import pydantic  # noqa: F401


def tiny_mechanisms():
    """``scenarios/mechanisms.yaml`` shrunk for the simulator (as ``tests/gpu/cudasim_campaign.py`` does)."""
    import yaml

    from sim.input.scenario import Scenario

    data = yaml.safe_load((ROOT / "scenarios" / "mechanisms.yaml").read_text())
    data["world"]["audience"]["peers"].update(n=200, count=5)
    data["world"]["scale"] = 1000
    data["days"] = 8
    data["strategies"][2]["posts"][0]["schedule"]["count"] = 3
    return Scenario.model_validate(data)


def campaign_world(path: str, tiny: bool):
    """Scenario, population, compiled arrays and schedules of a campaign case (built as ``sim.run`` builds them)."""
    _schema()
    from sim.campaign.family import compile_campaign
    from sim.input.scenario import load_scenario
    from sim.world.build import build_world

    scenario = tiny_mechanisms() if tiny else load_scenario(ROOT / path)
    pop = build_world(scenario.world, scenario.seed).population
    arrays, schedules = compile_campaign(scenario, pop)
    return scenario, pop, arrays, schedules


def _campaign_outs(out) -> tuple:
    return out.totals, out.series, out.partners, out.segments


def _concat_outcomes(outs):
    return tuple(np.concatenate([o[i] for o in outs]) for i in range(4))


def measure_campaign(kind: str, pop, arrays, schedule, root, target: float, cap: int, first: int,
                     layout: str = "auto"):
    """Campaign trials 0..k-1 on ``kind`` (gpu, cpu_1, cpu_all); the record and the outputs of the last call.

    ``layout``: the GPU's (``auto``: the engine's rule by world size; ``thread``; ``block``); the record
    says which one ran (``layout``).
    """
    from sim.campaign import cuda_kernel as gpu_campaign
    from sim.campaign import model as cpu_campaign

    if kind == "gpu":
        forced = None if layout == "auto" else layout
        warm = min(cap, max(first, gpu_campaign.trials_in_flight(pop, arrays, schedule, forced)))
        gpu_campaign.simulate(pop, arrays, schedule, root, trial_numbers(warm), layout=layout)  # compiles, allocates
        used = gpu_campaign.STATS_LAYOUT["last"]
        kernel0 = launches0 = 0.0

        def call(k):
            nonlocal kernel0, launches0
            kernel0, launches0 = gpu.STATS["kernel_seconds"], gpu.STATS["launches"]
            return _campaign_outs(gpu_campaign.simulate(pop, arrays, schedule, root, trial_numbers(k), layout=layout))

        rate, k, dt, out = timed_rate(call, target, warm, cap, step=max(1, warm))
        kernel = gpu.STATS["kernel_seconds"] - kernel0
        return {"trials": k, "seconds": round(dt, 3), "trials_per_s": rate,
                "kernel_trials_per_s": k / kernel if kernel > 0 else None,
                "launches": gpu.STATS["launches"] - launches0, "layout": used, "layout_asked": layout,
                "warm_trials": warm}, out
    threads = 1 if kind == "cpu_1" else cores()
    cpu_campaign.simulate(pop, arrays, schedule, root, trial_numbers(1))  # compile / load from numba's cache
    if threads == 1:
        def call(k):
            return _campaign_outs(cpu_campaign.simulate(pop, arrays, schedule, root, trial_numbers(k)))
    else:
        pool = ThreadPoolExecutor(threads)

        def call(k):  # the campaign kernel releases the GIL: one simulate() per thread on its part
            parts = np.array_split(trial_numbers(k), threads)
            outs = list(pool.map(lambda t: _campaign_outs(cpu_campaign.simulate(pop, arrays, schedule, root, t)),
                                 parts))
            return _concat_outcomes(outs)
    try:
        rate, k, dt, out = timed_rate(call, target, first if threads == 1 else max(first, threads), cap,
                                      step=threads)
    finally:
        if threads > 1:
            pool.shutdown()
    return {"trials": k, "seconds": round(dt, 3), "trials_per_s": rate, "threads": threads}, out


def run_campaign_case(name: str, path: str, target: float, skip_cpu: bool, tiny: bool,
                      layout: str = "auto") -> list[dict]:
    """One campaign world: a record per strategy (gpu, cpu_1, cpu_all, equality, ratios, the 10 M floor).

    ``layout``: the GPU layout asked for (``auto``: the engine's rule, which puts the 10 M-account world on the
    block-per-trial layout on a large GPU); ``rec["gpu"]["layout"]`` is the one that ran.
    """
    t0 = time.perf_counter()
    scenario, pop, arrays, schedules = campaign_world(path, tiny)
    root = root_key(scenario.seed)
    base = {"event": "case", "case": name, "scenario": path, "accounts": int(pop.graph.n),
            "follow_edges": int(pop.graph.m), "days": int(scenario.days),
            "build_seconds": round(time.perf_counter() - t0, 1)}
    log(f"{name}: world {pop.graph.n:,} accounts, {pop.graph.m:,} edges in {base['build_seconds']} s")
    big = pop.graph.n >= 1_000_000
    target = max(target, 10.0) if big and not tiny else target
    cap = 2 if tiny else (1 << 14 if big else 1 << 20)
    records = []
    for strategy, schedule in zip(scenario.strategy_list, schedules, strict=True):
        rec = {**base, "strategy": strategy.name, "partners": len(schedule.partner_creator),
               "posts": len(schedule.day)}
        s0 = time.perf_counter()
        outs = {}
        for kind in ("gpu",) + (() if skip_cpu else ("cpu_1", "cpu_all")):
            try:
                rec[kind], outs[kind] = measure_campaign(kind, pop, arrays, schedule, root, target, cap,
                                                         1 if big or tiny else 8, layout)
                rec[kind]["mean_adopters"] = float(outs[kind][0][:, 3].mean())
                log(f"{name} {strategy.name}: {kind} {rec[kind]['trials_per_s']:,.2f} trials/s")
            except Exception as exc:  # noqa: BLE001 - report and go on
                rec[kind] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]}
        if "gpu" in outs:
            compared = 0
            for key in ("cpu_all", "cpu_1"):
                if key in outs:
                    k = min(len(outs[key][0]), len(outs["gpu"][0]))
                    same = all(np.array_equal(a[:k], b[:k]) for a, b in zip(outs[key], outs["gpu"], strict=True))
                    rec["equal"] = rec.get("equal", True) and bool(same)
                    compared = max(compared, k)
            rec["equal_trials"] = compared
        g = _rate(rec, "gpu")
        for key in ("cpu_1", "cpu_all"):
            other = _rate(rec, key)
            if g and other:
                rec[f"gpu_vs_{key}"] = float(f"{g / other:.4g}")
        if big and g:
            rec["floors"] = {"trials_per_s": {"value": g, "required": FLOOR_CAMPAIGN_10M,
                                              "verdict": "PASS" if g >= FLOOR_CAMPAIGN_10M else "MISS"}}
        rec["seconds"] = round(time.perf_counter() - s0, 2)
        emit(rec)
        records.append(rec)
    return records


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    global _OUT
    ap = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: equality check and two small cases (< 60 s)")
    ap.add_argument("--budget", type=float, default=330.0,
                    help="seconds for the whole run; cases that would not fit are reported as skipped (default 330)")
    ap.add_argument("--target", type=float, default=None,
                    help="seconds per timed call (default 1.5; 0.3 with --quick)")
    ap.add_argument("--cases", help="comma-separated case names (default: all IC/LT cases, the 1M cases and the "
                                    "campaign cases)")
    ap.add_argument("--no-cpu", action="store_true", help="measure the GPU only")
    ap.add_argument("--out", type=Path, help="also write the JSON lines to this file")
    ap.add_argument("--layout", choices=("auto", "thread", "block"), default="auto",
                    help="the campaign cases' GPU layout (default auto: the engine's rule by world size; each case "
                         "line says which layout ran)")
    ap.add_argument("--tiny", action="store_true",
                    help="self-test of this script: worlds of hundreds of accounts, one block of trials on the "
                         "GPU (runs under NUMBA_ENABLE_CUDASIM=1); its numbers mean nothing")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        _OUT = open(args.out, "w")  # noqa: SIM115 - closed at exit
    target = args.target if args.target is not None else (0.3 if args.quick else 1.5)
    if args.tiny:  # the simulator passes the GIL at each __syncthreads(): make that quick
        sys.setswitchinterval(1e-4)
    env = environment()
    emit(env)
    if env["gpu_unavailable"] is not None:
        log(f"no GPU: {env['gpu_unavailable']}")
        emit({"event": "done", "result": "no GPU", "seconds": round(time.perf_counter() - start, 1)})
        return 2
    log("equality check on a small world (compiles the CPU and GPU kernels)")
    checks_ok = equality_checks(args.quick, args.tiny)
    log(f"equality check: {'PASS' if checks_ok else 'FAIL'} ({time.perf_counter() - start:.0f} s so far)")
    cases = [c for c in CASES if isinstance(c, CascadeCase)] + list(MILLION)
    campaign = list(CAMPAIGN)
    if args.quick:
        cases = [c for c in cases if c.name in ("ic_p01_10k", "lt_10k")]
        campaign = campaign[:1]
    if args.cases:
        wanted = args.cases.split(",")
        cases = [c for c in cases if c.name in wanted]
        campaign = [c for c in campaign if c[0] in wanted]
    if args.tiny:
        campaign = campaign[:1]
    if args.tiny:
        cases = [dataclasses.replace(c, n=300 if c.n < 1_000_000 else 600, recruits=10) for c in cases]
    rates: dict[str, float | None] = {}
    # Rough cost of a case: three timed engines (plus ramp-up), graph building at 1M.
    per_case = 6 * target + 3 + (0 if args.no_cpu else 0)
    for i, case in enumerate(cases):
        left = args.budget - (time.perf_counter() - start)
        need = per_case + (25 if case.n >= 1_000_000 else 0)
        if left < need:
            emit({"event": "case", "case": case.name, "skipped": f"budget: {left:.0f} s left, ~{need:.0f} s needed"})
            continue
        log(f"case {i + 1}/{len(cases)}: {case.name} ({left:.0f} s of the budget left)")
        try:
            emit(run_case(case, target, args.no_cpu, rates, 64 if args.tiny else 1 << 28))
        except Exception as exc:  # noqa: BLE001 - report and go on
            emit({"event": "case", "case": case.name, "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()[-3000:]})
    for name, path in campaign:
        left = args.budget - (time.perf_counter() - start)
        need = 12 * target + (250 if name == "campaign_10m" and not args.tiny else 5)
        if left < need:
            emit({"event": "case", "case": name, "skipped": f"budget: {left:.0f} s left, ~{need:.0f} s needed"})
            continue
        log(f"campaign case {name} ({left:.0f} s of the budget left)")
        try:
            for rec in run_campaign_case(name, path, target, args.no_cpu, args.tiny, args.layout):
                checks_ok &= rec.get("equal", True)
        except ImportError as exc:
            emit({"event": "case", "case": name, "skipped": f"the scenario schema is not importable ({exc}): "
                  "install pydantic or unpack its wheels in .gpu-site/ (docs/performance.md)"})
        except Exception as exc:  # noqa: BLE001 - report and go on
            emit({"event": "case", "case": name, "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()[-3000:]})
    emit({"event": "done", "equality_check": "PASS" if checks_ok else "FAIL",
          "seconds": round(time.perf_counter() - start, 1), "kernel_launches": gpu.STATS["launches"]})
    if _OUT is not None:
        _OUT.close()
    return 0 if checks_ok else 1


if __name__ == "__main__":
    sys.exit(main())
