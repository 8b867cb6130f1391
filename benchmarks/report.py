"""Reports of a benchmark run: the headline ratio, the Markdown tables, the JSON encoding.

:func:`markdown` turns the run's JSON record (built by :mod:`benchmarks.suite`, written by
:mod:`benchmarks.run`) into the tables ``docs/performance.md`` quotes; :func:`headline` is
the ratio every run prints last. Nothing here measures anything.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.cases import HEADLINE, HEADLINE_GOAL, PARALLEL_FLOOR
from benchmarks.measure import Z_LIMIT, median


def _fmt(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "–"
    if digits == 0:
        return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"
    return f"{x:,.{digits}f}"


def _yes(b: bool | None) -> str:
    return "–" if b is None else ("**met**" if b else "not met")


def headline(report: dict) -> list[str]:
    """The ratio of the headline case (:data:`HEADLINE`), printed last in every run and atop the tables."""
    rec = next((c for c in report["cases"] if c.get("name") == HEADLINE), None)
    if rec is None or rec.get("status") != "ok":
        return [f"{HEADLINE}: not measured in this run"]
    r, s = rec["ratios"], report["settings"]
    floor = rec.get("spec", {}).get("floor")
    k, klo, khi = r["kernel_vs_cynetdiff"], *r["kernel_vs_cynetdiff_range"]
    q = r["run_trial_phase_vs_cynetdiff"]
    qlo, qhi = r.get("run_trial_phase_vs_cynetdiff_range", [q, q])

    def verdict(x: float) -> str:
        if floor is None:
            return ""
        return f"; floor {floor:g}× {'met' if x >= floor else 'NOT met'}, goal {HEADLINE_GOAL:g}× " + (
            "met" if x >= HEADLINE_GOAL else "not met"
        )

    return [
        f"HEADLINE {HEADLINE} ({rec['label']}, 50 recruits) — ours ÷ cynetdiff (faster of its C and Python "
        f"loops), median of paired repeats in alternating order, commit {str(report['machine']['git_commit'])[:10]}:",
        f"  kernel:             {k:.2f}× (range {klo:.2f}–{khi:.2f}, {s['repeats']} repeats){verdict(k)}",
        f"  run(), trials only: {q:.2f}× (range {qlo:.2f}–{qhi:.2f}, {s['run_repeats']} repeats){verdict(q)}",
        f"  other processes used {rec['load']['foreign_cores']:.2f} cores during the case",
    ]


def markdown(report: dict) -> str:
    """Markdown tables of a report (quoted by docs/performance.md)."""
    measured = [c for c in report["cases"] if c.get("status") == "ok"]
    cases = [c for c in measured if c.get("kind", "cascade") == "cascade"]
    campaigns = [c for c in measured if c.get("kind") == "campaign"]
    lines = []
    m = report["machine"]
    lines += [
        f"Machine: {m['cpu_model']}, {m['usable_cpus']} usable cores, {m['memory_gib']} GiB; "
        f"Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
        + f"; git {str(m['git_commit'])[:10]}{' (dirty)' if m['git_dirty'] else ''}; "
        f"run {report['started']} – {report.get('finished', '(unfinished)')} by `{report['command'].strip()}`.",
        "",
        *(f"    {line}" for line in headline(report)),
        "",
    ]
    if cases:
        lines += _cascade_tables(cases)
    for c in campaigns:
        lines += _campaign_tables(c)
    lines += [
        "",
        "Machine load during each case (cores used by other processes; load average at start → end):",
        "",
        "| case | other processes (cores) | load average 1 min | attempts |",
        "|---|---:|---|---:|",
    ]
    for c in measured:
        ld = c["load"]
        lines.append(
            f"| {c['label']} | {ld['foreign_cores']:.2f} | {ld['loadavg_start'][0]} → {ld['loadavg_end'][0]} "
            f"| {len(c.get('attempts', [])) or 1} |"
        )
    skipped = [c for c in report["cases"] if c.get("status") != "ok"]
    if skipped:
        lines += ["", "Not measured:", ""]
        lines += [
            f"- `{c['name']}` ({c.get('metric', '')}): {c.get('note') or c.get('error')}"
            for c in skipped
        ]
    return "\n".join(lines) + "\n"


def _cascade_tables(cases: list[dict]) -> list[str]:
    """Build the cascade cases' tables: trials/s, work and memory, agreement, two workers."""
    lines = [
        "Trials per second (median of repeats; single thread):",
        "",
        "| case | ours: kernel | ours: run(), trials only | ours: run(), end to end | cynetdiff (C loop) "
        "| cynetdiff (Python loop) | NDlib | kernel ÷ cynetdiff: median (range) | best of "
        "| run() ÷ cynetdiff | floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        e, r = c["engines"], c["ratios"]
        nd = e.get("ndlib", {})
        nd_s = (
            _fmt(nd.get("trials_per_s"), 2)
            if nd.get("trials_per_s")
            else (f"< {nd['upper_bound']:.2f}" if nd.get("upper_bound") else "–")
        )
        lo, hi = r["kernel_vs_cynetdiff_range"]
        floor = c.get("floor")
        floor_s = (
            "–"
            if not floor
            else f"{floor['required']:g}× — kernel {_yes(floor['kernel'])}, run() {_yes(floor['run_trial_phase'])}"
        )
        lines.append(
            f"| {c['label']} | {_fmt(e['ours_kernel']['trials_per_s'])} "
            f"| {_fmt(e['ours_run']['trial_phase_trials_per_s'])} "
            f"| {_fmt(e['ours_run']['trials_per_s'])} | {_fmt(e['cynetdiff_bulk']['trials_per_s'])} "
            f"| {_fmt(e['cynetdiff_loop']['trials_per_s'])} | {nd_s} "
            f"| {r['kernel_vs_cynetdiff']:.2f}× ({lo:.2f}–{hi:.2f}) | {r['kernel_vs_cynetdiff_best_of']:.2f}× "
            f"| {r['run_trial_phase_vs_cynetdiff']:.2f}× "
            f"| {floor_s} |"
        )
    lines += _engine_table(cases)
    lines += [
        "",
        "Work, memory and set-up:",
        "",
        "| case | mean final size | edges examined / trial | edges/s ours (kernel) | edges/s cynetdiff | "
        "ours kernel: set-up + trials MiB | run() peak MiB | cynetdiff set-up + trials MiB | NDlib peak MiB "
        "| run() world build s | cynetdiff set-up s | NDlib set-up s | spread kernel / cynetdiff |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        e, ee = c["engines"], c["edges_examined"]
        k, cy, nd = e["ours_kernel"], e["cynetdiff"], e.get("ndlib", {})
        lines.append(
            f"| {c['label']} | {k['mean']:,.1f} | {ee['per_trial_mean']:,.0f} "
            f"| {c['edges_per_s']['ours_kernel'] / 1e6:,.0f} M | {c['edges_per_s']['cynetdiff_bulk'] / 1e6:,.0f} M "
            f"| {k['setup_mem']['retained_mib']:.1f} + {k['trials_mem']['peak_mib']:.1f} "
            f"| {e['ours_run']['mem']['peak_mib']:.0f} "
            f"| {cy['setup_mem']['retained_mib']:.1f} + {cy['trials_mem']['peak_mib']:.1f} "
            f"| {nd.get('mem', {}).get('peak_mib', '–')} | {median(e['ours_run']['prepare_seconds']):.2f} "
            f"| {cy['setup_s']:.2f} | {nd.get('setup_s', '–')} "
            f"| ±{k['spread'] * 50:.0f}% / ±{e['cynetdiff_bulk']['spread'] * 50:.0f}% |"
        )
    lines += [
        "",
        f"Agreement of mean final size with our kernel (z; |z| ≤ {Z_LIMIT:g} passes):",
        "",
        "| case | ours mean ± se (trials) | cynetdiff Python loop | cynetdiff C loop | NDlib "
        "| run() = kernel, trial for trial |",
        "|---|---|---|---|---|---|",
    ]
    for c in cases:
        a = c["agreement"]
        ref = a["reference"]

        def zs(x):
            if not x or x.get("z") is None:
                return "–"
            return f"{x['z']:+.2f} ({x['trials']:,} trials) {'pass' if x['pass'] else '**FAIL**'}"

        lines.append(
            f"| {c['label']} | {ref['mean']:.2f} ± {ref['sd'] / math.sqrt(ref['trials']):.2f} ({ref['trials']:,}) "
            f"| {zs(a['cynetdiff_loop'])} | {zs(a['cynetdiff_bulk'])} | {zs(a.get('ndlib'))} "
            f"| {'yes' if a['ours_run_identical'] else '**NO**'} |"
        )
    par = [c for c in cases if "parallel" in c]
    if par:
        lines += [
            "",
            f"Two workers on 2 cores (speedup over one; floor {PARALLEL_FLOOR:g}×; results identical to one worker):",
            "",
            "| case | trials | kernel, 2 threads | run(workers=2), trials only | run(workers=2), end to end "
            "| identical | other processes (cores) |",
            "|---|---:|---:|---:|---:|---|---:|",
        ]
        for c in par:
            p = c["parallel"]
            lines.append(
                f"| {c['label']} | {p['batch']:,} | {p['kernel_speedup']:.2f}× | {p['run_trial_phase_speedup']:.2f}× "
                f"| {p['run_end_to_end_speedup']:.2f}× | {'yes' if p['identical_results'] else '**NO**'} "
                f"| {p['load']['foreign_cores']:.2f} |"
            )
    return lines


def _engine_table(cases: list[dict]) -> list[str]:
    """Our other engines (``--engine``), timed interleaved with the kernel and cynetdiff; none: no table."""
    rows = []
    for c in cases:
        for name, r in c["ratios"].get("engines", {}).items():
            e = c["engines"][f"ours_{name}"]
            lo, hi = r["vs_cynetdiff_range"]
            rows.append(
                f"| {c['label']} | {e['label']} | {_fmt(e['trials_per_s'])} | {r['vs_kernel']:.2f}× "
                f"| {r['vs_cynetdiff']:.2f}× ({lo:.2f}–{hi:.2f}) "
                f"| {'yes' if e['identical_to_kernel'] else '**NO**'} ({e['identical_trials']:,} trials) "
                f"| {e['setup_s']:.2f} |"
            )
    if not rows:
        return []
    return [
        "",
        "Other engines of ours (interleaved with the kernel and cynetdiff; ratios are medians of paired repeats):",
        "",
        "| case | engine | trials/s | ÷ numba kernel | ÷ cynetdiff: median (range) | final sizes = kernel's "
        "| set-up s |",
        "|---|---|---:|---:|---:|---|---:|",
        *rows,
    ]


def _campaign_tables(c: dict) -> list[str]:
    """Build the campaign case's section: per-strategy kernel rates and floor, whole scenario."""
    w, sc, fl = c["world"], c["scenario"], c["floor"]
    mesa = c.get("mesa", {})
    lines = [
        "",
        "### Campaign model",
        "",
        f"`{c['name']}`: `{sc['path']}` as it is ({w['accounts']:,} audience accounts + "
        f"{w['creators']:,} creators, {w['edges']:,} follow edges, {sc['days']} days, "
        f"{sc['adoption']} adoption, seed {sc['seed']}). Our kernel, single thread, per "
        "strategy (median of repeats, range over repeats); exposures = impressions (follower "
        "and discovery exposures); pairs = follower–post pairs examined (every follower of "
        "every post's author); both from the kernel's own totals over the trials timed. "
        f"Floor: ≥ {fl['required'] / 1e6:g} M pairs examined per second per core, each strategy.",
        "",
        "| strategy | partners / posts | exposures / trial | pairs examined / trial "
        "| ours: kernel trials/s | exposures/s | pairs examined/s (M) | pairs/s range (M) "
        f"| floor {fl['required'] / 1e6:g} M | Mesa trials/s | kernel ÷ Mesa |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for st in c["strategies"]:
        k, pt, ps, ex = st["kernel"], st["per_trial_mean"], st["pairs_per_s"], st["exposures_per_s"]
        on_mesa = mesa.get("strategy") == st["strategy"] and "error" not in mesa
        if on_mesa and mesa.get("trials_per_s"):
            m_rate, m_ratio = _fmt(mesa["trials_per_s"], 2), f"{mesa['kernel_vs_mesa']:,.0f}×"
        elif on_mesa and mesa.get("upper_bound"):
            m_rate, m_ratio = f"< {mesa['upper_bound']:.2f}", "–"
        else:
            m_rate, m_ratio = "–", "–"
        lines.append(
            f"| {st['strategy']} | {st['partners']:,} / {st['posts']:,} | {pt['impressions']:,.0f} "
            f"| {pt['pairs_examined']:,.0f} | {_fmt(k['trials_per_s'])} "
            f"| {ex['median'] / 1e6:,.2f} M "
            f"| {ps['median'] / 1e6:,.1f} | {ps['min'] / 1e6:,.1f}–{ps['max'] / 1e6:,.1f} "
            f"| {_yes(st['floor']['met'])} | {m_rate} | {m_ratio} |"
        )
    lines.append(
        f"| **all strategies** | | | | {_fmt(c['kernel_all_strategies']['trials_per_s'])} | | | "
        f"| {_yes(fl['all'])} | | |"
    )
    r = c["ours_run"]
    n_s = len(c["strategies"])
    if "error" in mesa:
        m_same = f"error: {mesa['error']}"
    elif mesa:
        m_same = (
            f"{'yes' if mesa['totals_identical'] else '**NO**'} ({mesa['trials']:,} trials of "
            f"{mesa['strategy']})"
        )
    else:
        m_same = "– (not run)"
    m_mem = f"{mesa['setup_s']:.2f} s / {mesa['mem']['peak_mib']:.0f}" if mesa.get("mem") else "–"
    kmem = max(st["trials_mem"]["peak_mib"] for st in c["strategies"])
    spread = max(st["kernel"]["spread"] for st in c["strategies"])
    lines += [
        "",
        f"Whole scenario: `sim.run(scenario, trials={r['trials_per_strategy']:,}, workers=1)` "
        f"({n_s} strategies; a trial is one strategy's trial), against the kernel's per-strategy "
        "rates combined (one trial of each strategy in turn):",
        "",
        "| case | kernel, all strategies | run(), trials only | run(), end to end "
        "| run() trials only ÷ kernel | run() pairs/s (M), trials only | run() = kernel "
        "| Mesa = kernel (totals) | run() world build s | kernel set-up + trials MiB "
        "| run() peak MiB | Mesa set-up s / peak MiB | spread kernel |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|",
        f"| {c['label']} | {_fmt(c['kernel_all_strategies']['trials_per_s'])} "
        f"| {_fmt(r['trial_phase_trials_per_s'])} | {_fmt(r['trials_per_s'])} "
        f"| {r['trial_phase_vs_kernel']:.2f}× | {r['trial_phase_pairs_per_s'] / 1e6:,.1f} "
        f"| {'yes' if r['identical_to_kernel'] else '**NO**'} | {m_same} "
        f"| {median(r['prepare_seconds']):.2f} "
        f"| {c['setup_mem']['retained_mib']:.1f} + {kmem:.1f} | {r['mem']['peak_mib']:.0f} "
        f"| {m_mem} | ±{spread * 50:.0f}% |",
    ]
    return lines


def json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.bool_,)):
        return bool(o)
    raise TypeError(type(o))
