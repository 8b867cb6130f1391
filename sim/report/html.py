"""``report.html``: one self-contained page a planner reads, written into the run folder.

The scenario in plain words, the strategy table (with paired differences and costs per
outcome, the Pareto frontier marked), the frontier figure, sensitivity indices, the time
series and the funnel, and the manifest. Figures are embedded as data URIs and there is no
external resource, so the file can be mailed or archived on its own. A small script checks,
once the page has loaded, that every figure decoded and every table has rows, and records the
verdict (and any script error) on ``<body data-render-check=...>``; the tests read it in
headless Chromium.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sim.base import fmt
from sim.execution.store import RunStore
from sim.families.registry import family_of
from sim.input.posterior import calibration_notes
from sim.report import answer
from sim.results.data import Results

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;
color:#1d1d1f;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
p.lead{color:#444}figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0}th,td{padding:.25em .55em;border-bottom:1px solid #eee;
text-align:right;white-space:nowrap}th{background:#f6f6f6;position:sticky;top:0}td:first-child,th:first-child{text-align:left}
tr.frontier td{background:#eef7ee;font-weight:600}details{margin:.5em 0}summary{cursor:pointer;font-weight:600}
.scroll{overflow-x:auto;max-height:70vh}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.8em}
.note{color:#666;font-size:.9em}
#answer dl{display:grid;grid-template-columns:13em 1fr;gap:.25em 1em;margin:.5em 0}
#answer dt{font-weight:600;color:#333}
#answer dd{margin:0}strong.pick{background:#e3f1e3;padding:0 .25em}
.decision{overflow-x:auto}#decision-table{font-size:.9em}#decision-table tr.pick td{background:#e3f1e3;font-weight:600}
#decision-table tr.robust td{background:#eef3fb}#decision-table tr.over td{color:#999}
#decision-table tr.optimized td:first-child::after{content:" (optimizer)";color:#666;font-weight:400}
ul.unc li{margin:.3em 0}
"""

_CHECK = """
<script>
(function () {
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message || e)); });
  window.addEventListener("load", function () {
    var bad = [];
    document.querySelectorAll("img").forEach(function (img) {
      if (!img.complete || img.naturalWidth === 0) bad.push("figure " + (img.alt || img.src.slice(0, 30)));
    });
    document.querySelectorAll("table").forEach(function (t, i) {
      if (t.querySelectorAll("tbody tr").length === 0) bad.push("table " + i + " has no rows");
    });
    var verdict = (bad.length || errors.length) ? "failed: " + bad.concat(errors).join("; ") : "ok";
    // What a planner sees without scrolling: the sorted table's columns inside the window, and
    // whether the answer starts on the first screen (read by the browser test).
    var width = document.documentElement.clientWidth, visible = [];
    document.querySelectorAll("#decision-table th[data-key]").forEach(function (th) {
      var r = th.getBoundingClientRect();
      if (r.width > 0 && r.left >= 0 && r.right <= width) visible.push(th.getAttribute("data-key"));
    });
    document.body.setAttribute("data-visible-columns", visible.join(" "));
    var answer = document.getElementById("answer");
    if (answer) document.body.setAttribute("data-answer-top", String(Math.round(answer.getBoundingClientRect().top)));
    document.body.setAttribute("data-render-check", verdict);
    document.body.setAttribute("data-figures", String(document.querySelectorAll("img").length));
    document.body.setAttribute("data-tables", String(document.querySelectorAll("table").length));
  });
})();
</script>
"""


def _money(x: float) -> str:
    return fmt.money(x)


def describe(results: Results) -> list[str]:
    """The scenario in plain words: a few sentences a non-programmer can check against their plan."""
    s = results.scenario
    out = []
    if s.description:
        out.append(s.description.strip())
    out.extend(family_of(s).describe(s, results.world))
    grid = s.strategy_grid
    n = len(results.strategies)
    if grid is not None:
        out.append(f"{n} strategies: budgets of {', '.join(_money(b) for b in grid.budgets)} x "
                   f"{len(grid.mixes)} mixes of creators ({', '.join(grid.mixes)}) x {len(grid.schedules)} "
                   f"schedules ({', '.join(grid.schedules)}); partners chosen by {grid.select.replace('_', ' ')}.")
    else:
        out.append(f"{n} strateg{'y' if n == 1 else 'ies'}: {', '.join(results.strategies)}.")
    if results.is_sweep and s.sweep.design.value == "posterior":
        sw = s.sweep
        parts = [f"{u.label} {fmt.param(min(u.levels))}-{fmt.param(max(u.levels))}" for u in sw.uncertainties]
        out.append(f"Calibrated parameters: {len(results.design.points)} draws of the posterior "
                   f"{s.parameters.posterior} ({'; '.join(parts)}), one point each; every strategy runs at every "
                   "draw, so results pooled over points carry the parameters' uncertainty.")
    elif results.is_sweep:
        sw = s.sweep
        parts = [f"{u.label} in {{{', '.join(map(fmt.param, u.levels))}}}" if u.levels is not None
                 else f"{u.label} in [{fmt.param(u.low)}, {fmt.param(u.high)}]" for u in sw.uncertainties]
        out.append(f"Uncertain: {'; '.join(parts)}. A {sw.design.value.replace('_', ' ')} design gives "
                   f"{len(results.design.points)} points; every strategy runs at every point.")
    if isinstance(s.parameters, str):
        out.append(f"Calibrated parameters: the point estimate {s.parameters}.")
    out.extend(f"Warning: {note}." for note in calibration_notes(s))
    out.append(f"{s.trials:,} Monte Carlo trials per strategy{' and point' if results.is_sweep else ''}, root seed "
               f"{s.seed}. Strategies share every random number that does not depend on the strategy, so "
               f"differences to the baseline ({s.baseline_name}) are paired trial by trial.")
    return out


def _img(store: RunStore, name: str, caption: str) -> str:
    path = store.figures / name
    if not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


#: Columns shown as shares, as money, and as counts of people; anything else is a parameter (3 figures).
_SHARES = ("fraction", "rate", "p_best", "S1", "ST")
_MONEY = ("cost", "USD", "budget", "unspent")
_COUNTS = ("adopt", "reach", "engage", "impressions", "diff", "vs baseline", "CI", "mean", "sign-ups", "regret",
           "trials")


def _kind(col: str) -> str:
    if any(k in col for k in _MONEY):
        return "money"
    if any(k in col for k in _SHARES):
        return "share"
    if any(k in col for k in _COUNTS):
        return "count"
    return "param"


def _fmt(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    show = {"money": fmt.money, "share": fmt.share, "count": fmt.count, "param": fmt.param}
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]) or (pd.api.types.is_object_dtype(out[col]) and col != "strategy"):
            f = show[_kind(str(col))]
            out[col] = out[col].map(lambda v, f=f: "" if v is None or (isinstance(v, float) and pd.isna(v)) else
                                    f(v) if not isinstance(v, str) else v)
    return out


def _table(frame: pd.DataFrame, frontier: pd.Series | None = None) -> str:
    rows = []
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    for i, (_, row) in enumerate(_fmt(frame).iterrows()):
        cls = ' class="frontier"' if frontier is not None and bool(frontier.iloc[i]) else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


_PLANNER_COLUMNS = {
    "strategy": "strategy", "cost": "cost (USD)", "adopted": "adopters", "adopted_ci95_low": "95% CI low",
    "adopted_ci95_high": "95% CI high", "adopted_vs_baseline": "vs baseline",
    "adopted_vs_baseline_ci95_low": "diff CI low", "adopted_vs_baseline_ci95_high": "diff CI high",
    "reach": "reach", "engagements": "engagements", "engagers": "engagers",
    "adopters_engaged": "adopters who engaged", "adopters_unengaged": "adopters who never engaged",
    "clickers": "clickers", "adopters_clicked": "adopters who clicked",
    "cost_per_engagement": "USD/engagement",
    "cost_per_adopter": "USD/adopter",
}


def _strategy_section(results: Results, point: int | None) -> str:
    table = results.strategy_table()
    if table is None:
        summary = results.summary()
        sub = summary[summary["outcome"] == "adopted"]
        keep = [c for c in ("point", *results.design.labels, "strategy", "mean", "ci95_low", "ci95_high",
                            "diff_mean", "diff_ci95_low", "diff_ci95_high") if c in sub.columns]
        return _table(sub[keep])
    parts = []
    groups = table.groupby("point", sort=True) if "point" in table.columns else [(None, table)]
    for p, g in groups:
        shown = g[[c for c in _PLANNER_COLUMNS if c in g.columns]].rename(columns=_PLANNER_COLUMNS)
        body = _table(shown, g["on_frontier"].reset_index(drop=True))
        if p is None:
            parts.append(body)
        else:
            values = dict(results.design.points[int(p)].values)
            title = ", ".join(fmt.assignment(k, v) for k, v in values.items())
            parts.append(f"<details{' open' if p == point else ''}><summary>point {int(p)}: {html.escape(title)} "
                         f"({int(g['on_frontier'].sum())} on the frontier)</summary>{body}</details>")
    return "".join(parts)


def _sensitivity_section(results: Results, store: RunStore) -> str:
    indices = results.sensitivity()
    if indices is None:
        return ""
    outcome = indices["outcome"].iloc[0]
    main = indices[(indices["outcome"] == outcome) & indices["index"].isin(["S1", "ST", "mu_star", "sigma"])]
    wide = main.pivot_table(index=["strategy", "parameter"], columns="index", values="value", sort=False).reset_index()
    method = "Sobol' indices (S1 first order, ST total; bootstrap 95% CIs in sensitivity.csv)" \
        if "ST" in wide.columns else "Morris elementary effects (mu*: mean absolute effect over the full range)"
    return (f"<p>{html.escape(method)} of <b>{html.escape(outcome)}</b> per strategy.</p>"
            + _img(store, "sensitivity.png", "How much of the variation of the outcome across the design each "
                   "uncertainty explains, per strategy.")
            + f"<details><summary>indices table</summary>{_table(wide)}</details>")


def write_report(store: RunStore, results: Results, manifest: dict[str, Any], point: int | None,
                 shown: list[str], sections: Sequence[str] = ()) -> None:
    """Write ``report.html`` into the run folder (figures must be written already).

    Runs whose strategies cost something open with the answer (``id="answer"``) and one table of
    every strategy, best first; everything else follows, collapsed. ``sections`` are HTML placed
    after the table (the optimizer's comparison with the grid); the optimizer's plan among the
    strategies is ``results.optimized``.
    """
    s = results.scenario
    where = ""
    if point is not None:
        where = " at point " + ", ".join(fmt.assignment(k, v) for k, v in results.design.points[point].values)
    words = "".join(f"<p>{html.escape(x)}</p>" for x in describe(results))
    body = [f"<h1>{html.escape(s.name)}</h1>"]
    decision = results.decision()
    if decision is not None:
        if s.description:
            body.append(f'<p class="lead">{html.escape(s.description.strip())}</p>')
        body += [answer.answer_html(decision, results),
                 "<h2>All strategies, best first</h2>", answer.table_html(decision, results.optimized), *sections,
                 answer.uncertainty_html(decision),
                 "<h2>Frontier</h2>" + _img(store, "frontier.png",
                                            "Expected sign-ups against spend; bars: 80% range across assumption "
                                            "points; colour: mix of creators; marker: schedule; the line joins the "
                                            "strategies nothing cheaper beats."),
                 f"<details><summary>The scenario in words</summary>{words}</details>",
                 f"<details><summary>Every strategy at every assumption point</summary>"
                 "<p>Means over trials in real accounts and USD, with 95% confidence intervals. <b>vs baseline</b> is "
                 f"the paired difference in sign-ups to {html.escape(s.baseline_name)}, "
                 "trial by trial on common random "
                 "numbers. Cost per adopter is cost / mean adopters. Rows on the Pareto frontier of adopters vs cost "
                 "at that point (no cheaper strategy gets more adopters) are highlighted: being on it says nothing "
                 "cheap strategies can be beaten at their price, not that they are good.</p>"
                 f"{_strategy_section(results, point)}</details>"]
    else:
        body += [f'<p class="lead">{words}</p>', "<h2>Strategies</h2>",
                 "<p>Final adopters per strategy, 95% CIs, paired differences to the baseline.</p>",
                 _strategy_section(results, point)]
    sens = _sensitivity_section(results, store)
    if sens:
        body.append(f"<details><summary>Sensitivity</summary>{sens}</details>")
    figures = [f"<p class=note>Strategies shown: {html.escape(', '.join(shown))}{html.escape(where)}.</p>"]
    if results.campaign is not None:
        figures.append(_img(store, "adoption_over_time.png", "Cumulative sign-ups per day (mean, 95% band)."))
        figures.append(_img(store, "funnel.png", "Impressions, engagements and sign-ups attributed to each partner "
                            "tier, per campaign."))
    figures.append(_img(store, "final_size.png", "Distribution of sign-ups per trial (Monte Carlo spread)."))
    body.append("<details><summary>Over time, through the funnel, and trial by trial</summary>"
                + "".join(figures) + "</details>")
    body.append("<details><summary>Manifest: scenario as resolved, versions, commit, command</summary>"
                f"<pre>{html.escape(json.dumps(manifest, indent=2, default=str))}</pre></details>")
    page = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<title>{html.escape(s.name)}: advocacy-sim report</title><style>{_STYLE}</style>{_CHECK}</head>"
            f"<body>{''.join(body)}</body></html>")
    store.write_text("report.html", page)
