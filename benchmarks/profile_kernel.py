"""Line-level profile of a kernel: where a trial's time goes, source line by source line.

Usage::

    python -m benchmarks.profile_kernel [--scenario scenarios/celebrity_vs_micro.yaml]
        [--strategy nano_swarm] [--seconds 10] [--top 25]
    python -m benchmarks.profile_kernel --case ic_p01_10k [--seconds 10] [--top 25]

Without ``--case`` it profiles the campaign kernel (``sim/campaign/kernel.py``) on one
strategy of a scenario; with ``--case`` (a cascade case of :mod:`benchmarks.cases`) the IC or
LT kernel of ``sim/classic/kernel.py`` on that case's graph and recruits, trials run in
batches of 65,536 as the suite's kernel measurement runs them.

Needs Linux ``perf`` and ``objdump``. numba's JIT code has no symbols for ``perf``, so the
profiled process (a child run under ``perf record``) compiles the kernel afresh with debug
information into a temporary cache, writes ``/tmp/perf-<pid>.map`` with the address of every
compiled function, saves the object code, and runs trials of one strategy for the given
time. The parent then maps each sample's address into the object code's disassembly
(``objdump -dl``) and prints the share of samples per kernel function and per source line
of the kernel functions.
A cache miss or a mispredicted branch is charged to the instruction after it, so read a hot
line as "the stall shows here", not always "this line is slow". Not part of CI.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Kernel functions whose object code is dumped, per kernel module (path relative to the repository).
FUNCTIONS = {
    "sim/campaign/kernel.py": ("campaign_trials", "_run_trials", "_campaign_trial", "_scratch", "_buffer",
                               "_slot_base"),
    "sim/classic/kernel.py": ("_ic_run", "_ic_block", "_ic_visit", "_bucket_by_lane", "_lt_run", "_lt_trial",
                              "_lt_apply"),
}
#: Batch of trials per kernel call when profiling a cascade case.
CASE_BATCH = 65_536


def _cascade_call(name: str):
    """(kernel module path, a no-argument function running one batch of the case) for a cascade case."""
    import numpy as np

    from benchmarks.cases import CASES, CascadeCase
    from benchmarks.engines import OursKernel, ba_graph, fixed_recruits, hetero_probs, weighted_graph

    known = [c.name for c in CASES if isinstance(c, CascadeCase)]
    case = next((c for c in CASES if c.name == name and isinstance(c, CascadeCase)), None)
    if case is None:
        raise SystemExit(f"--case {name!r} is not a cascade case (known: {', '.join(known)})")
    graph = ba_graph(case.n, case.m, case.seed)
    kgraph = weighted_graph(graph, hetero_probs(case, graph.m)) if case.p_range is not None else graph
    ours = OursKernel(case, kgraph, fixed_recruits(case.n, case.recruits))
    trials = np.arange(CASE_BATCH, dtype=np.int64)
    ours.sizes(trials[:256])  # compiles (a fresh cache: the object code is kept for the dump)
    return "sim/classic/kernel.py", lambda: ours.sizes(trials)


def _campaign_call(scenario: Path, strategy: str):
    """(kernel module path, a no-argument function running 256 trials of the strategy)."""
    import numpy as np

    from sim import load_scenario
    from sim.base.rng import root_key
    from sim.campaign import kernel as ck
    from sim.campaign.model import kernel_records
    from sim.execution.prepare import prepare

    prepared = prepare(load_scenario(scenario))
    names = [s.name for s in prepared.scenario.strategy_list]
    if strategy not in names:
        raise SystemExit(f"strategy {strategy!r} not in {names}")
    schedule = prepared.plans[names.index(strategy)]
    pop = prepared.world.population
    call_args = (*kernel_records(pop, prepared.model, schedule), np.uint64(root_key(prepared.scenario.seed)),
                 np.arange(256, dtype=np.int64))
    ck.campaign_trials(*call_args)  # compiles (a fresh cache: the object code is kept for the dump)
    return "sim/campaign/kernel.py", lambda: ck.campaign_trials(*call_args)


def _function_of(symbol: str, names: tuple[str, ...]) -> str:
    """The kernel function a mangled symbol belongs to, else a short name of the helper (numba's, NumPy's)."""
    for name in names:
        if f"kernel{len(name)}{name}B" in symbol:
            return name
    m = re.match(r"_ZN(?:\d+\w+?)*?(\d+)([A-Za-z_]\w*?)B\d", symbol)
    return f"(helper {m.group(2)})" if m else f"(helper {symbol[:40]})"


def _child(args: argparse.Namespace) -> None:
    """Run under perf: compile, publish the JIT addresses, then run trials for ``args.seconds``."""
    import importlib

    if args.case:
        source, call = _cascade_call(args.case)
    else:
        source, call = _campaign_call(args.scenario, args.strategy)
    module = importlib.import_module(source.removesuffix(".py").replace("/", "."))

    workdir = Path(args.workdir)
    symbols, known = [], set()
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as perf_map:
        for name in FUNCTIONS[source]:
            for overload in getattr(module, name).overloads.values():  # none if this case never called it
                library = overload.library
                # A caller's object code holds copies of its callees (weak symbols), but the JIT
                # resolves a name to its first definition, usually the callee's own library: a
                # symbol is mapped only where its address minus its offset is its object's base.
                objects = [o for o in library.serialize_using_object_code()[2] if o[:4] == b"\x7fELF"]
                for i, code in enumerate(objects):
                    obj = workdir / f"{name}_{len(symbols)}_{i}.o"
                    obj.write_bytes(code)
                    listing = subprocess.run(["nm", "-S", "--defined-only", str(obj)], capture_output=True,
                                             text=True, check=True).stdout
                    rows = [p for p in (line.split() for line in listing.splitlines())
                            if len(p) == 4 and p[2] in "tTW"]
                    located = [(p, library.get_pointer_to_function(p[3])) for p in rows]
                    bases = {a - int(p[0], 16) for p, a in located if a and p[2] in "tT"}
                    for parts, address in located:
                        offset = int(parts[0], 16)
                        if not address or address - offset not in bases or parts[3] in known:
                            continue
                        known.add(parts[3])
                        size = int(parts[1], 16)
                        perf_map.write(f"{address:x} {size:x} {parts[3]}\n")
                        symbols.append({"function": _function_of(parts[3], FUNCTIONS[source]), "symbol": parts[3],
                                        "object": obj.name, "address": address, "offset": offset, "size": size})
    # perf records CLOCK_MONOTONIC time stamps (-k): samples before the loop (compiling, building
    # the graph) are dropped by the parent. The garbage of compiling is collected first, or
    # Python's collector would run inside the loop (~15% of its samples).
    gc.collect()
    gc.freeze()
    start = time.clock_gettime(time.CLOCK_MONOTONIC)
    (workdir / "symbols.json").write_text(json.dumps({"pid": os.getpid(), "source": source, "start": start,
                                                      "symbols": symbols}))
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        call()


def _samples(workdir: Path) -> list[int]:
    """Instruction addresses of the samples perf recorded while the child ran trials."""
    start = json.loads((workdir / "symbols.json").read_text())["start"]
    script = subprocess.run(["perf", "script", "-i", str(workdir / "perf.data"), "-F", "time,ip"],
                            capture_output=True, text=True, check=True).stdout
    ips = []
    for line in script.splitlines():
        parts = line.split()
        if len(parts) == 2 and float(parts[0].rstrip(":")) >= start:
            ips.append(int(parts[1], 16))
    return ips


def _kernel_symbols(symbols: list[dict]) -> list[dict]:
    """The compiled kernel functions themselves (not numba's CPython and cfunc wrappers)."""
    return [s for s in symbols if "cpython" not in s["symbol"] and not s["symbol"].startswith("cfunc")]


def _function_shares(workdir: Path, ips: list[int]) -> list[tuple[float, str]]:
    """Share of all samples per kernel function, largest first, with the rest of the process last."""
    symbols = _kernel_symbols(json.loads((workdir / "symbols.json").read_text())["symbols"])
    counts: collections.Counter = collections.Counter()
    for ip in ips:
        hit = next((s["function"] for s in symbols if s["address"] <= ip < s["address"] + s["size"]), None)
        counts[hit or "(outside the kernel: Python, NumPy, libc, kernel)"] += 1
    total = max(1, len(ips))
    return [(100.0 * c / total, name) for name, c in counts.most_common()]


def _line_histogram(workdir: Path, ips: list[int], top: int) -> list[tuple[float, int, str]]:
    """Share of the kernel functions' samples per source line: (percent, line, text), largest first."""
    meta = json.loads((workdir / "symbols.json").read_text())
    symbols = _kernel_symbols(meta["symbols"])
    source_path = meta.get("source", "sim/campaign/kernel.py")
    source = (HERE.parent / source_path).read_text().splitlines()
    first_line = min(i for i, t in enumerate(source, 1) if re.match(r"^def \w+\(", t))
    by_line: collections.Counter = collections.Counter()
    total = 0
    for sym in symbols:
        lo, hi = sym["address"], sym["address"] + sym["size"]
        offsets = collections.Counter(ip - lo + sym["offset"] for ip in ips if lo <= ip < hi)
        if not offsets:
            continue
        total += sum(offsets.values())
        disassembly = subprocess.run(["objdump", "-dl", "--no-show-raw-insn", str(workdir / sym["object"])],
                                     capture_output=True, text=True, check=True).stdout
        line, inside = None, False
        for text in disassembly.splitlines():
            head = re.match(r"^[0-9a-f]+ <(.+)>:", text)
            if head:
                inside = head.group(1) == sym["symbol"]
                continue
            where = re.match(r"^(\S+\.py):(\d+)", text.strip())
            if where:
                # Helpers inlined from other modules (sim.base.rng's hashes) keep this file's name in the
                # line table with their own line numbers; lines before the module's first function
                # cannot be its code, so they are pooled as "inlined helpers".
                line = int(where.group(2))
                line = line if where.group(1).endswith(source_path) and line >= first_line else 0
                continue
            insn = re.match(r"^\s+([0-9a-f]+):", text)
            if inside and insn:
                by_line[line] += offsets.pop(int(insn.group(1), 16), 0)
        by_line[-1] += sum(offsets.values())  # not at an instruction start (should not happen)
    if not total:
        raise SystemExit("no samples in the kernel (is perf allowed to sample this process?)")
    rows = []
    for ln, count in by_line.most_common(top):
        if ln == -1:
            label = "(address not at an instruction of the object code)"
        elif ln is None:
            label = "(no line information)"
        else:
            label = (source[ln - 1].strip() if ln and ln <= len(source)
                     else "(inlined helpers, e.g. sim.base.rng hashes)")
        rows.append((100.0 * count / total, ln if ln and ln > 0 else 0, label))
    return rows


def main() -> None:
    """Profile under perf in a child process, then print the per-line shares."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=HERE.parent / "scenarios" / "celebrity_vs_micro.yaml")
    ap.add_argument("--strategy", default="nano_swarm")
    ap.add_argument("--case", default=None, help="a cascade case of benchmarks.cases (e.g. ic_p01_10k) instead")
    ap.add_argument("--seconds", type=float, default=10.0, help="time spent running trials under perf")
    ap.add_argument("--top", type=int, default=25, help="source lines to print")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return
    for tool in ("perf", "objdump", "nm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: this profile needs Linux perf and binutils")
    with tempfile.TemporaryDirectory(prefix="profile_kernel_") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "NUMBA_DEBUGINFO": "1", "NUMBA_CACHE_DIR": str(workdir / "numba_cache")}
        child = [sys.executable, "-m", "benchmarks.profile_kernel", "--child", "--workdir", str(workdir),
                 "--scenario", str(args.scenario), "--strategy", args.strategy, "--seconds", str(args.seconds)]
        if args.case:
            child += ["--case", args.case]
        what = f"case {args.case}" if args.case else f"{args.strategy} of {args.scenario}"
        print(f"profiling {what} for {args.seconds:g} s (compiling the kernel with debug info first) ...",
              flush=True)
        subprocess.run(["perf", "record", "-q", "-k", "CLOCK_MONOTONIC", "-F", "4000",
                        "-o", str(workdir / "perf.data"), "--", *child],
                       env=env, check=True, cwd=HERE.parent)
        try:
            ips = _samples(workdir)
            functions = _function_shares(workdir, ips)
            rows = _line_histogram(workdir, ips, args.top)
            source = json.loads((workdir / "symbols.json").read_text())["source"]
        finally:  # perf has read the JIT map by now; do not leave it in /tmp
            pid = json.loads((workdir / "symbols.json").read_text())["pid"]
            Path(f"/tmp/perf-{pid}.map").unlink(missing_ok=True)
    print("\nshare of all samples by function:")
    for share, name in functions:
        print(f"{share:5.1f}%  {name}")
    print(f"\nshare of the kernel functions' samples by source line ({source}):")
    for share, ln, text in rows:
        print(f"{share:5.1f}%  {ln:4d}  {text[:100]}")


if __name__ == "__main__":
    main()
