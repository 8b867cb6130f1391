"""Reference counting compiled into the campaign trial: ``python -m benchmarks.refcounts``.

numba counts references to arrays (``NRT_incref`` / ``NRT_decref``, an atomic operation and
a call each). The campaign trial (:func:`sim.campaign.kernel._campaign_trial`) is written so
that these happen once per trial, for the arrays of its argument records, and never per
post or exposure: its phases are inlined functions that read their records' arrays at their
top and use them in one loop, with no call out of the kernel inside it (see the notes in
``sim/campaign/kernel.py``). An edit that breaks one of those rules makes numba count
references in a loop, which costs 2-4x the trial's time without changing a number.

This compiles a private copy of the trial (numba's cache is not touched) for one strategy of
``scenarios/celebrity_vs_micro.yaml`` and prints the number of ``NRT_incref`` and
``NRT_decref`` calls in its optimised LLVM IR, against :data:`LIMIT`: about one per array of
the argument records (:func:`array_fields`), plus the few of the rare tie-settling branch.
A phase that counts references per call adds one per array it reads (a dozen or more).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numba as nb
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
#: Calls allowed beyond one per array of the arguments (the tie-settling branch, and arrays
#: that numba references twice at entry).
SLACK = 16


def array_fields(*records) -> int:
    """Arrays held by the given records."""
    return sum(isinstance(x, np.ndarray) for r in records for x in r)


def trial_refcounts() -> tuple[int, int, int]:
    """``(increfs, decrefs, limit)`` in the optimised IR of a fresh compilation of the campaign trial."""
    import sim
    from sim.campaign import kernel as ck
    from sim.campaign.model import kernel_records
    from sim.execution.prepare import prepare

    prepared = prepare(sim.load_scenario(ROOT / "scenarios" / "celebrity_vs_micro.yaml"))
    world, posts, params = kernel_records(prepared.world.population, prepared.model, prepared.plans[-1])
    s = ck._scratch(world, posts)
    buf = ck._buffer(world.indptr, ck._BATCH)
    n = world.indptr.shape[0] - 1
    out = ck._Out(np.zeros(len(ck.TOTALS), np.int64), np.zeros((params.days, len(ck.SERIES)), np.int64),
                  np.zeros((posts.n_partners, len(ck.PARTNER)), np.int64),
                  np.zeros((world.n_segments, len(ck.SEGMENT)), np.int64), np.empty(n, np.int32),
                  np.empty(n, np.int32), np.empty(n, np.int64), np.empty(n, np.int32), np.empty(n, np.int32))
    trial = nb.njit(nogil=True)(ck._campaign_trial.py_func)
    trial(world, posts, params, np.uint64(1), np.int64(0), np.int32(1), s, buf, out)
    ir = next(iter(trial.inspect_llvm().values()))
    body = re.search(r"define [^\n]*_campaign_trial[^\n]*\{(.*?)\n\}", ir, re.S).group(1)
    limit = array_fields(world, posts, params, s, buf, out) + SLACK
    return len(re.findall(r"call void @NRT_incref", body)), len(re.findall(r"call void @NRT_decref", body)), limit


def main() -> int:
    inc, dec, limit = trial_refcounts()
    ok = inc <= limit and dec <= limit
    print(f"_campaign_trial: {inc} NRT_incref and {dec} NRT_decref calls in its IR (limit {limit}): "
          f"{'ok' if ok else 'TOO MANY: some phase counts references per call (see the module notes)'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
