"""Timing, memory and machine-load helpers for the benchmark suite.

Timing
    :func:`calibrate` grows a batch of trials until one batch takes a probe time,
    then sizes the batch so that one measurement takes about ``target`` seconds;
    :func:`measure` times that batch ``repeats`` times with ``time.perf_counter``.
    The caller warms every engine up first (numba compilation or cache loading,
    first-touch page faults) so no measurement includes it.

Memory
    :class:`PeakRSS` reports the peak resident set size (``VmHWM`` in
    ``/proc/self/status``) reached inside a ``with`` block, above the resident size
    when the block started. The peak is reset on entry by writing ``5`` to
    ``/proc/self/clear_refs`` (Linux >= 4.0); before that, ``gc.collect()`` runs and
    glibc's free lists are trimmed (``malloc_trim``), so garbage and freed memory of
    earlier phases are neither freed inside the block nor silently reused by it.
    It counts every allocation, whether made by Python, NumPy, numba's runtime or
    C++ containers (``tracemalloc`` sees only the first two). Where the reset is
    impossible it falls back to ``resource.getrusage`` (``ru_maxrss``, monotone over
    the process) and says so.

Load
    :class:`LoadMonitor` measures how many cores *other* processes used during a
    stretch of time: busy time from ``/proc/stat`` minus this process's own CPU
    time (``os.times``), divided by wall time. ``os.getloadavg()`` is recorded as
    well, but it counts this process's own running thread too.

Settings and statistics
    :class:`Settings` (how long and how often to measure; :data:`QUICK` for ``--quick``);
    :func:`interleave` times several engines in repeats of alternating order, so a change
    of machine load hits all of them alike; :func:`agreement` (a z of two means) and
    :func:`run_rates` summarise what the suite (:mod:`benchmarks.suite`) measured.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

_CLK = os.sysconf("SC_CLK_TCK")
#: |z| above which two engines' mean final sizes are said to disagree.
Z_LIMIT = 4.0


def log(msg: str) -> None:
    """Print a progress line at once."""
    print(msg, flush=True)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure."""

    target: float = 1.0  # seconds per measurement
    repeats: int = 7  # measurements per engine (kernel, cynetdiff), interleaved
    run_repeats: int = 5  # measurements of run() (each rebuilds the world)
    parallel_target: float = 3.0  # seconds of the single-worker trial phase in the 2-worker test
    ndlib_budget: float = 3.0  # seconds of NDlib trials per case
    ndlib_cap: float = 10.0  # abandon an NDlib trial still running after this many seconds
    ndlib: bool = True
    mesa: bool = True  # the campaign model's Mesa engine (same budget and cap as NDlib)
    quiet_threshold: float = 0.3  # cores used by other processes above which a case is rerun
    max_retries: int = 2
    max_wait: float = 300.0  # seconds to wait for a quiet machine before each case (0: do not wait)
    engines: tuple[str, ...] = ("numba",)  # our engines timed on cascade cases (benchmarks.engines.ENGINES)


QUICK = Settings(
    target=0.4,
    repeats=3,
    run_repeats=3,
    parallel_target=1.0,
    ndlib_budget=1.5,
    ndlib_cap=5.0,
    max_retries=0,
    max_wait=10.0,
)


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Seconds taken by repeated measurements of a batch of ``batch`` trials."""

    batch: int
    seconds: list[float] = field(default_factory=list)

    @property
    def rates(self) -> list[float]:
        """Trials per second of each measurement."""
        return [self.batch / s for s in self.seconds]

    def summary(self) -> dict[str, Any]:
        """Median, min and max (= best) trials/s, relative spread (max - min) / median, raw seconds."""
        r = self.rates
        med = statistics.median(r)
        return {
            "trials_per_s": med,
            "min": min(r),
            "max": max(r),
            "best": max(r),
            "spread": (max(r) - min(r)) / med if med else None,
            "batch": self.batch,
            "repeats": len(r),
            "seconds": [round(s, 4) for s in self.seconds],
        }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of one call and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def calibrate(
    run_batch: Callable[[int], Any],
    target: float,
    *,
    start: int = 1,
    probe: float = 0.25,
    cap: int = 10**9,
) -> int:
    """Batch size (trials) for which ``run_batch`` takes about ``target`` seconds.

    ``run_batch(k)`` runs ``k`` trials. The batch is grown geometrically until one
    call takes at least ``probe`` seconds (or reaches ``cap``), then scaled.
    """
    k = max(1, start)
    while True:
        dt, _ = timed(functools.partial(run_batch, k))
        if dt >= probe or k >= cap:
            break
        grow = probe * 1.5 / dt if dt > 1e-6 else 100.0
        k = min(cap, max(2 * k, int(k * min(grow, 100.0))))
    return int(max(1, min(cap, round(k / dt * target))))


def measure(run_batch: Callable[[int], Any], batch: int, repeats: int) -> tuple[Timing, Any]:
    """Time ``run_batch(batch)`` ``repeats`` times; returns the timing and the last result."""
    timing = Timing(batch)
    out = None
    for _ in range(repeats):
        dt, out = timed(functools.partial(run_batch, batch))
        timing.seconds.append(dt)
    return timing, out


def interleave(calls: list[Callable[[], Any]], repeats: int) -> tuple[list[list[float]], list[Any]]:
    """Time each of ``calls`` once per repeat, in the given order in even repeats and reversed
    in odd ones, so that a drift of machine load within a repeat favours no one.

    Returns the seconds of every call per repeat (``seconds[r][i]``) and each call's last result.
    """
    seconds: list[list[float]] = []
    results: list[Any] = [None] * len(calls)
    for rep in range(repeats):
        row = [0.0] * len(calls)
        order = range(len(calls)) if rep % 2 == 0 else reversed(range(len(calls)))
        for i in order:
            row[i], results[i] = timed(calls[i])
        seconds.append(row)
    return seconds, results


# --------------------------------------------------------------------------- memory


def _status_kb(key: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else None


def _trim() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Peak resident memory reached inside the block, above the resident size at its start (MiB).

    Do not nest: the inner block resets the peak the outer one watches.
    """

    def __enter__(self) -> PeakRSS:
        gc.collect()  # garbage of earlier phases must not be freed (negatively counted) inside the block
        _trim()
        self.method = (
            "VmHWM (reset via /proc/self/clear_refs)"
            if _reset_peak()
            else "ru_maxrss (not resettable)"
        )
        self.start_kb = _status_kb("VmRSS") or 0
        return self

    def __exit__(self, *exc: object) -> None:
        if self.method.startswith("VmHWM"):
            self.peak_kb = _status_kb("VmHWM") or 0
        else:
            self.peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.end_kb = _status_kb("VmRSS") or 0

    @property
    def peak_mib(self) -> float:
        """Peak RSS in the block minus RSS at its start."""
        return max(0, self.peak_kb - self.start_kb) / 1024

    @property
    def retained_mib(self) -> float:
        """RSS at the end of the block minus RSS at its start (what the block kept)."""
        return (self.end_kb - self.start_kb) / 1024

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "peak_mib": round(self.peak_mib, 1),
            "retained_mib": round(self.retained_mib, 1),
            "method": self.method,
        }


def rss_mib() -> float:
    """Current resident set size of this process (MiB)."""
    return (_status_kb("VmRSS") or 0) / 1024


# --------------------------------------------------------------------------- machine load


def _busy_seconds() -> float:
    with open("/proc/stat") as fh:
        parts = fh.readline().split()[1:]
    vals = [int(x) for x in parts]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    # guest time is already included in user/nice
    total = sum(vals[:8])
    return (total - idle) / _CLK


def _own_seconds() -> float:
    t = os.times()
    return t.user + t.system


class LoadMonitor:
    """CPU used by other processes (in cores) while the monitor runs, plus load averages."""

    def __init__(self) -> None:
        self.loadavg_start = os.getloadavg()
        self.wall0 = time.perf_counter()
        self.busy0 = _busy_seconds()
        self.own0 = _own_seconds()

    def read(self) -> dict[str, Any]:
        """Figures since construction (may be called repeatedly)."""
        wall = time.perf_counter() - self.wall0
        busy = _busy_seconds() - self.busy0
        own = _own_seconds() - self.own0
        return {
            "foreign_cores": round(max(0.0, (busy - own) / wall), 3) if wall > 0 else None,
            "own_cores": round(own / wall, 3) if wall > 0 else None,
            "seconds": round(wall, 1),
            "loadavg_start": [round(x, 2) for x in self.loadavg_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        }


def foreign_load(window: float = 1.0) -> float:
    """Cores used by other processes over the next ``window`` seconds."""
    mon = LoadMonitor()
    time.sleep(window)
    return mon.read()["foreign_cores"]


def wait_for_quiet(threshold: float, max_wait: float, log: Callable[[str], None] = print) -> float:
    """Wait (up to ``max_wait`` s) until other processes use less than ``threshold`` cores; return last reading."""
    deadline = time.perf_counter() + max_wait
    load = foreign_load()
    if load >= threshold:
        log(
            f"  machine busy ({load:.2f} cores used by other processes); waiting up to {max_wait:.0f} s"
        )
    while load >= threshold and time.perf_counter() < deadline:
        load = foreign_load(2.0)
    return load


# --------------------------------------------------------------------------- machine facts


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.rstrip() if out.returncode == 0 else None  # keep porcelain's leading space


def machine_info() -> dict[str, Any]:
    """CPU model, cores, memory, Python and package versions, git commit."""
    cpu, mhz = None, None
    with contextlib.suppress(OSError):
        text = Path("/proc/cpuinfo").read_text()
        m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        cpu = m.group(1).strip() if m else None
        m = re.search(r"^cpu MHz\s*:\s*(.+)$", text, re.M)
        mhz = float(m.group(1)) if m else None
    mem = _status_meminfo()
    status = _git("status", "--porcelain")
    return {
        "cpu_model": cpu,
        "cpu_mhz": mhz,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": mem,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": {
            p: _version(p) for p in ("numpy", "numba", "networkx", "pandas", "cynetdiff", "ndlib")
        },
        "env": {
            k: os.environ.get(k)
            for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_DISABLE_JIT")
        },
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "git_uncommitted": [
            line[3:] for line in (status or "").splitlines() if not line.startswith("??")
        ],
    }


def _status_meminfo() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    m = re.search(r"^MemTotal:\s+(\d+) kB", text, re.M)
    return round(int(m.group(1)) / 2**20, 1) if m else None


# --------------------------------------------------------------------------- statistics


def median(xs: list[float]) -> float:
    """Median of a list of numbers."""
    return float(np.median(xs))


def mean_sd(x: np.ndarray) -> dict[str, Any]:
    """Mean, sample standard deviation and count of per-trial values."""
    x = np.asarray(x, dtype=np.float64)
    k = len(x)
    return {
        "mean": float(x.mean()) if k else None,
        "sd": float(x.std(ddof=1)) if k > 1 else None,
        "trials": k,
    }


def z_score(ref: dict, other_mean: float, other_sd: float | None, other_k: int) -> float | None:
    """Z of ``other_mean - ref mean`` with se = sqrt(sd_ref^2/k_ref + sd_other^2/k_other)."""
    if other_k == 0 or other_mean is None:
        return None
    var = ref["sd"] ** 2 / ref["trials"] + (other_sd**2 / other_k if other_sd is not None else 0.0)
    if var == 0:
        return 0.0 if other_mean == ref["mean"] else math.inf
    return (other_mean - ref["mean"]) / math.sqrt(var)


def agreement(
    ref: dict, other_mean: float | None, other_sd: float | None, other_k: int, note: str = ""
) -> dict:
    """Another engine's mean against the reference's (:func:`mean_sd`): z and pass (|z| <= Z_LIMIT)."""
    z = z_score(ref, other_mean, other_sd, other_k)
    return {
        "mean": other_mean,
        "sd": other_sd,
        "trials": other_k,
        "z": z,
        "pass": None if z is None else bool(abs(z) <= Z_LIMIT),
        "note": note,
    }


def run_rates(trials: int, totals: list[float], phases: list[float]) -> dict[str, float]:
    """Trials/s of repeated ``run()`` calls, end to end (``totals``) and trials only (``phases``)."""
    return {
        "trials_per_s": trials / median(totals),
        "trial_phase_trials_per_s": trials / median(phases),
        "min": trials / max(totals),
        "max": trials / min(totals),
        "trial_phase_min": trials / max(phases),
        "trial_phase_max": trials / min(phases),
    }
