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
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from sim.results import Results
    from sim.store import RunStore

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;
color:#1d1d1f;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
p.lead{color:#444}figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0}th,td{padding:.25em .55em;border-bottom:1px solid #eee;
text-align:right;white-space:nowrap}th{background:#f6f6f6;position:sticky;top:0}td:first-child,th:first-child{text-align:left}
tr.frontier td{background:#eef7ee;font-weight:600}details{margin:.5em 0}summary{cursor:pointer;font-weight:600}
.scroll{overflow-x:auto;max-height:70vh}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.8em}.note{color:#666;font-size:.9em}
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
    document.body.setAttribute("data-render-check", verdict);
    document.body.setAttribute("data-figures", String(document.querySelectorAll("img").length));
    document.body.setAttribute("data-tables", String(document.querySelectorAll("table").length));
  });
})();
</script>
"""


def _money(x: float) -> str:
    return f"${x:,.0f}"


def describe(results: Results) -> list[str]:
    """The scenario in plain words: a few sentences a non-programmer can check against their plan."""
    s = results.scenario
    w = results.world
    out = []
    if s.description:
        out.append(s.description.strip())
    if s.is_campaign:
        world = s.world
        plats = ", ".join(f"{name} (a post reaches {p.organic_reach:.0%} of followers"
                          + (f", and non-followers up to {p.discovery:g}x its followers" if p.discovery else "")
                          + ")" for name, p in world.platforms.items())
        tiers = "; ".join(f"{spec.count:,} {name} creators ({spec.followers[0]:,}-{spec.followers[1]:,} followers)"
                          for name, spec in world.tiers.items())
        out.append(f"The world: {w['real_accounts']:,.0f} people (simulated as {w['accounts']:,} accounts, each "
                   f"standing for {w['scale']:g}) on {plats}. Creators: {tiers}.")
        m = s.model
        rule = ("adopts when the persuasion they accumulate, decaying by "
                f"{m.conviction_decay:.0%} a day, crosses a personal threshold" if m.adoption == "threshold"
                else "may adopt at each exposure, independently")
        out.append(f"The campaign runs {s.days} days. Someone who sees a post engages with a tier- and "
                   f"platform-specific probability, and {rule}. Trust in a creator grows by {m.trust_growth:.0%} "
                   f"of the gap to {m.trust_ceiling:.0%} per exposure; fatigue {m.fatigue:.0%} per exposure. "
                   f"{m.reshare:.0%} of adopters re-share once to their friends.")
        card = "; ".join(f"{plat}: " + ", ".join(f"{t} {_money(v)}" for t, v in tiers_.items() if t in world.tiers)
                         for plat, tiers_ in (s.rate_card or {}).items() if plat in world.platforms)
        fees = ", ".join(f"{t} {_money(v)}" for t, v in s.partnership_cost.items()) or "none"
        out.append(f"Prices per post: {card}. Fixed cost per partner (finding, vetting, contracting, "
                   f"managing): {fees}.")
    else:
        out.append(f"The world: a network of {w['accounts']:,} accounts and {w['edges']:,} follow edges "
                   f"({w['graph']}); model: {s.model.kind.replace('_', ' ')}.")
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
        parts = [f"{u.label} {min(u.levels):.3g}-{max(u.levels):.3g}" for u in sw.uncertainties]
        out.append(f"Calibrated parameters: {len(results.design.points)} draws of the posterior "
                   f"{s.parameters.posterior} ({'; '.join(parts)}), one point each; every strategy runs at every "
                   "draw, so results pooled over points carry the parameters' uncertainty.")
    elif results.is_sweep:
        sw = s.sweep
        parts = [f"{u.label} in {{{', '.join(map(str, u.levels))}}}" if u.levels is not None
                 else f"{u.label} in [{u.low:g}, {u.high:g}]" for u in sw.uncertainties]
        out.append(f"Uncertain: {'; '.join(parts)}. A {sw.design.value.replace('_', ' ')} design gives "
                   f"{len(results.design.points)} points; every strategy runs at every point.")
    if isinstance(s.parameters, str):
        out.append(f"Calibrated parameters: the point estimate {s.parameters}.")
    from sim.calibration.posterior import calibration_notes

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


def _fmt(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            money = col.startswith("cost")
            out[col] = out[col].map(lambda v, m=money: "" if pd.isna(v) else
                                    (f"{v:,.2f}" if m and abs(v) < 100 else f"{v:,.0f}" if abs(v) >= 100
                                     else f"{v:.3g}"))
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
    "cost_per_engagement": "USD/engagement",
    "cost_per_adopter": "USD/adopter",
}


def _strategy_section(results: Results, point: int | None) -> str:
    table = results.strategy_table()
    if table is None:
        summary = results.summary()
        sub = summary[summary["outcome"] == "adopted"]
        keep = [c for c in ("point", *results.design.labels, "strategy", "mean", "ci95_low", "ci95_high",
                            "diff_mean", "diff_ci95_low", "diff_ci95_high") if c in sub.columns] if results.design \
            else ["strategy", "mean", "ci95_low", "ci95_high", "diff_mean", "diff_ci95_low", "diff_ci95_high"]
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
            title = ", ".join(f"{k} = {v}" for k, v in values.items())
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
    return (f"<h2>Sensitivity</h2><p>{html.escape(method)} of <b>{html.escape(outcome)}</b> per strategy.</p>"
            + _img(store, "sensitivity.png", "How much of the variation of the outcome across the design each "
                   "uncertainty explains, per strategy.")
            + f"<details><summary>indices table</summary>{_table(wide)}</details>")


def write_report(store: RunStore, results: Results, manifest: dict[str, Any], point: int | None,
                 shown: list[str]) -> None:
    """Write ``report.html`` into the run folder (figures must be written already)."""
    s = results.scenario
    where = ""
    if point is not None:
        where = " at point " + ", ".join(f"{k} = {v}" for k, v in results.design.points[point].values)
    words = "".join(f"<p>{html.escape(x)}</p>" for x in describe(results))
    body = [f"<h1>{html.escape(s.name)}</h1>", f'<p class="lead">{words}</p>',
            "<h2>Strategies</h2>",
            "<p>Means over trials in real accounts and USD, with 95% confidence intervals. <b>vs baseline</b> is the "
            f"paired difference in adopters to {html.escape(s.baseline_name)}, trial by trial on common random "
            "numbers. Cost per adopter is cost / mean adopters. Rows on the Pareto frontier of adopters vs cost "
            "(no cheaper strategy gets more adopters) are highlighted.</p>"
            if s.is_campaign else "<p>Final adopters per strategy, 95% CIs, paired differences to the baseline.</p>",
            _strategy_section(results, point)]
    if s.is_campaign:
        body.append("<h2>Frontier</h2>" + _img(store, "frontier.png", "Mean adopters (95% CI) against cost; the line "
                                               "joins the strategies nothing cheaper beats."))
    body.append(_sensitivity_section(results, store))
    body.append("<h2>Over time and through the funnel</h2>"
                f"<p class=note>Strategies shown: {html.escape(', '.join(shown))}{html.escape(where)}.</p>")
    if s.is_campaign:
        body.append(_img(store, "adoption_over_time.png", "Cumulative adopters per day (mean, 95% band)."))
        body.append(_img(store, "funnel.png", "Impressions, engagements and adopters attributed to each partner tier."))
    body.append(_img(store, "final_size.png", "Distribution of adopters per trial."))
    body.append("<h2>Manifest</h2><details><summary>scenario as resolved, versions, commit, command</summary>"
                f"<pre>{html.escape(json.dumps(manifest, indent=2, default=str))}</pre></details>")
    page = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<title>{html.escape(s.name)}: advocacy-sim report</title><style>{_STYLE}</style>{_CHECK}</head>"
            f"<body>{''.join(body)}</body></html>")
    store.write_text("report.html", page)
