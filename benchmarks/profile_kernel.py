"""Line-level profile of the campaign kernel: where a trial's time goes, source line by source line.

Usage::

    python -m benchmarks.profile_kernel [--scenario scenarios/celebrity_vs_micro.yaml]
        [--strategy nano_swarm] [--seconds 10] [--top 25]

Needs Linux ``perf`` and ``objdump``. numba's JIT code has no symbols for ``perf``, so the
profiled process (a child run under ``perf record``) compiles the kernel afresh with debug
information into a temporary cache, writes ``/tmp/perf-<pid>.map`` with the address of every
compiled function, saves the object code, and runs trials of one strategy for the given
time. The parent then maps each sample's address into the object code's disassembly
(``objdump -dl``) and prints the share of ``_campaign_trial``'s samples per source line.
A cache miss or a mispredicted branch is charged to the instruction after it, so read a hot
line as "the stall shows here", not always "this line is slow". Not part of CI.
"""

from __future__ import annotations

import argparse
import collections
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
#: Kernel functions whose object code is dumped (the hot one is ``_campaign_trial``).
FUNCTIONS = ("campaign_trials", "_run_trials", "_campaign_trial", "_scratch", "_slot_base")
HOT = "_campaign_trial"


def _child(args: argparse.Namespace) -> None:
    """Run under perf: compile, publish the JIT addresses, then run trials for ``args.seconds``."""
    import numpy as np

    from sim import load_scenario
    from sim.campaign import kernel as ck
    from sim.campaign.model import kernel_args
    from sim.rng import root_key
    from sim.runner import prepare

    prepared = prepare(load_scenario(args.scenario))
    names = [s.name for s in prepared.scenario.strategy_list]
    if args.strategy not in names:
        raise SystemExit(f"strategy {args.strategy!r} not in {names}")
    schedule = prepared.plans[names.index(args.strategy)]
    pop = prepared.world.population
    call_args = (*kernel_args(pop, prepared.model, schedule), np.uint64(root_key(prepared.scenario.seed)),
                 np.arange(256, dtype=np.int64), len(schedule.partner_creator), len(pop.segments))
    ck.campaign_trials(*call_args)  # compiles (a fresh cache: the object code is kept for the dump)

    workdir = Path(args.workdir)
    symbols = []
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as perf_map:
        for name in FUNCTIONS:
            library = next(iter(getattr(ck, name).overloads.values())).library
            obj = workdir / f"{name}.o"
            obj.write_bytes(library.serialize_using_object_code()[2][0])
            listing = subprocess.run(["nm", "-S", "--defined-only", str(obj)], capture_output=True, text=True,
                                     check=True).stdout
            for line in listing.splitlines():
                parts = line.split()
                if len(parts) == 4 and parts[2] in "tT":
                    address = library.get_pointer_to_function(parts[3])
                    size = int(parts[1], 16)
                    perf_map.write(f"{address:x} {size:x} {parts[3]}\n")
                    symbols.append({"function": name, "symbol": parts[3], "address": address, "size": size})
    (workdir / "symbols.json").write_text(json.dumps({"pid": os.getpid(), "symbols": symbols}))
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        ck.campaign_trials(*call_args)


def _line_histogram(workdir: Path, top: int) -> list[tuple[float, int, str]]:
    """Share of the hot function's samples per source line: (percent, line, text), largest first."""
    symbols = json.loads((workdir / "symbols.json").read_text())["symbols"]
    hot = next(s for s in symbols if s["function"] == HOT and "cpython" not in s["symbol"]
               and not s["symbol"].startswith("cfunc"))
    script = subprocess.run(["perf", "script", "-i", str(workdir / "perf.data"), "-F", "ip"],
                            capture_output=True, text=True, check=True).stdout
    lo, hi = hot["address"], hot["address"] + hot["size"]
    offsets = collections.Counter(ip - lo for ip in (int(x, 16) for x in script.split()) if lo <= ip < hi)
    total = sum(offsets.values())
    if not total:
        raise SystemExit("no samples in the kernel (is perf allowed to sample this process?)")
    disassembly = subprocess.run(["objdump", "-dl", "--no-show-raw-insn", str(workdir / f"{HOT}.o")],
                                 capture_output=True, text=True, check=True).stdout
    source = (HERE.parent / "sim" / "campaign" / "kernel.py").read_text().splitlines()
    first_line = next(i for i, t in enumerate(source, 1) if t.startswith(f"def {HOT}("))
    by_line: collections.Counter = collections.Counter()
    line, inside = None, False
    for text in disassembly.splitlines():
        head = re.match(r"^[0-9a-f]+ <(.+)>:", text)
        if head:
            inside = head.group(1) == hot["symbol"]
            continue
        where = re.match(r"^(\S+\.py):(\d+)", text.strip())
        if where:
            # Helpers inlined from other modules (sim.rng's hashes) keep this file's name in the
            # line table with their own line numbers; lines before the kernel's definition
            # cannot be its code, so they are pooled as "inlined helpers".
            line = int(where.group(2))
            line = line if where.group(1).endswith("campaign/kernel.py") and line >= first_line else 0
            continue
        insn = re.match(r"^\s+([0-9a-f]+):", text)
        if inside and insn:
            by_line[line] += offsets.get(int(insn.group(1), 16), 0)
    rows = []
    for ln, count in by_line.most_common(top):
        label = source[ln - 1].strip() if ln and ln <= len(source) else "(inlined helpers, e.g. sim.rng hashes)"
        rows.append((100.0 * count / total, ln or 0, label))
    return rows


def main() -> None:
    """Profile under perf in a child process, then print the per-line shares."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=HERE.parent / "scenarios" / "celebrity_vs_micro.yaml")
    ap.add_argument("--strategy", default="nano_swarm")
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
        print(f"profiling {args.strategy} of {args.scenario} for {args.seconds:g} s "
              "(compiling the kernel with debug info first) ...", flush=True)
        subprocess.run(["perf", "record", "-q", "-F", "4000", "-o", str(workdir / "perf.data"), "--", *child],
                       env=env, check=True, cwd=HERE.parent)
        try:
            rows = _line_histogram(workdir, args.top)
        finally:  # perf has read the JIT map by now; do not leave it in /tmp
            pid = json.loads((workdir / "symbols.json").read_text())["pid"]
            Path(f"/tmp/perf-{pid}.map").unlink(missing_ok=True)
    print(f"\nshare of {HOT}'s samples by source line (sim/campaign/kernel.py):")
    for share, ln, text in rows:
        print(f"{share:5.1f}%  {ln:4d}  {text[:100]}")


if __name__ == "__main__":
    main()
