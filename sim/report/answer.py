"""The decision in words and in one sorted table: for ``report.html`` (``id="answer"``) and the terminal.

Terms a planner meets are explained where they appear: sign-ups are the model's adopters, the
model family's own words (creator tiers with their follower ranges: "celebrity" is the mega tier)
come from the family (:meth:`sim.families.protocol.ModelFamily.terms`), and the two kinds of
uncertainty are named apart: *across assumptions* (what we do not know about the world) and
*Monte Carlo error* (what more trials would remove).
"""

from __future__ import annotations

import html

import pandas as pd
from rich.table import Table

from sim.base import fmt
from sim.base.stats import Z95
from sim.families.registry import family_of
from sim.results.data import Results
from sim.results.decision import Decision, Objective

#: The sorted table's columns: decision column -> (heading, tooltip). Kept narrow enough to be
#: read whole on a 1,280-px screen (tested in a browser).
TABLE_COLUMNS = {
    "strategy": ("strategy", "strategies are named mix.schedule.budget"),
    "cost": ("spend", "USD the strategy spends (mean over assumption points)"),
    "adopters_p10": ("sign-ups p10", "10th percentile across assumption points of the expected sign-ups"),
    "adopters_p50": ("p50", "median across assumption points"),
    "adopters_p90": ("p90", "90th percentile across assumption points"),
    "cost_per_adopter": ("USD per sign-up", "spend / expected sign-ups"),
    "p_best": ("chance best", "share of assumption points and Monte Carlo resamples where it is the best"),
    "regret_mean": ("regret", "mean shortfall to the best strategy at the same assumption point"),
}
#: Columns the browser test requires to be visible without scrolling at 1,280 px.
KEY_COLUMNS = tuple(TABLE_COLUMNS)


def _range(d: Decision, row: pd.Series) -> str:
    lo, hi = row["adopters_p10"], row["adopters_p90"]
    if d.points.n == 1:
        return "one set of assumptions: no range across assumptions (add a sweep, or run over posterior draws)"
    return f"80% range across assumptions {fmt.compact_count(lo)} to {fmt.compact_count(hi)}"


def answer_sentences(d: Decision, results: Results) -> list[tuple[str, str]]:
    """The answer as (heading, sentence) pairs, plain text: what to do, how sure, what would change it."""
    scenario = results.scenario
    out: list[tuple[str, str]] = []
    per = f"{d.trials:,} trials per strategy" + (" and point" if d.points.n > 1 else "")
    if d.recommended is None:
        over = f" of {fmt.money(d.budget)}" if d.budget is not None else ""
        out.append(("Recommended", f"no strategy stays within the budget{over}: every one costs more."))
        return out
    row = d.row(d.recommended)
    goal = ("most expected sign-ups" if d.objective is Objective.ADOPTERS else "lowest expected cost per sign-up")
    within = f" within the budget of {fmt.money(d.budget)}" if d.budget is not None else ""
    spend = f"spends {fmt.money(row['cost'])}"
    if pd.notna(row["unspent"]):
        spend += f" of {fmt.money(row['budget'])}, leaving {fmt.money(row['unspent'])} unspent" \
            if row["unspent"] >= 0.5 else f" of {fmt.money(row['budget'])}, all of it"
    what = family_of(scenario).describe_plan(scenario, d.recommended, results.campaign)
    what = f"{what}; " if what else ""
    out.append(("Recommended", f"{d.recommended} ({goal}{within}): {what}{spend}."))
    mc = Z95 * row["adopters_mc_sem"]
    small = d.points.n > 1 and mc < 0.25 * max(row["adopters_p90"] - row["adopters_p10"], 1e-9)
    out.append(("Expected sign-ups",
                f"{fmt.compact_count(row['adopters_mean'])} ({_range(d, row)}). Monte Carlo error ±{fmt.count(mc)} "
                f"(95%, {per}): "
                f"{'small next to the range across assumptions' if small else 'what more trials would shrink'}."
                + (f" Cost per sign-up {fmt.money(row['cost_per_adopter'])}." if pd.notna(row["cost_per_adopter"])
                   else "")))
    over = f" across {d.points.source}" if d.points.n > 1 else ""
    out.append(("Chance of being best", f"{fmt.share(row['p_best'])}{over}, counting Monte Carlo noise "
                f"({d.resamples} resamples of the trials at each point)."))
    if d.runner_up is not None:
        units = "sign-ups" if d.objective is Objective.ADOPTERS else "USD per sign-up"
        margin = (fmt.compact_count(d.margin) if d.objective is Objective.ADOPTERS else fmt.money(d.margin))
        where = (f"; the recommendation does better at {fmt.share(d.beats_runner_up)} of the assumption points"
                 if d.points.n > 1 else "")
        margin_mc = (fmt.count(Z95 * d.margin_mc_sem) if d.objective is Objective.ADOPTERS
                     else fmt.money(Z95 * d.margin_mc_sem))
        out.append(("Runner-up", f"{d.runner_up}, behind by {margin} {units} in expectation "
                    f"(Monte Carlo error ±{margin_mc}){where}."))
    if d.robust is not None:
        rrow = d.row(d.robust)
        regret = fmt.count(rrow["regret_max"]) if d.objective is Objective.ADOPTERS else fmt.money(rrow["regret_max"])
        same = d.robust == d.recommended
        text = (f"{'the same strategy' if same else d.robust}: its largest shortfall to the best strategy at any "
                f"assumption point is {regret} (minimax regret)")
        if d.best_worst10 and d.best_worst10 != d.robust:
            text += f"; best in a bad case (10th percentile): {d.best_worst10}"
        out.append(("Robust choice", text + "."))
    unspent = d.table[d.table["within_budget"] & (d.table["unspent"] > 0.05 * d.table["budget"])]
    if len(unspent):
        names = ", ".join(f"{s} ({fmt.money(u)})" for s, u in zip(unspent["strategy"][:4], unspent["unspent"][:4],
                                                                  strict=True))
        more = f" and {len(unspent) - 4} more" if len(unspent) > 4 else ""
        out.append(("Money left unspent", f"{len(unspent)} strateg{'y leaves' if len(unspent) == 1 else 'ies leave'} "
                    "more than 5% of the budget unspent "
                    f"(partners come whole, the partner cap binds, or the creators run out): {names}{more}."))
    dr = d.driver
    if dr is not None:
        if dr.winner is not None:
            loss = fmt.compact_count(dr.loss) if d.objective is Objective.ADOPTERS else fmt.money(dr.loss)
            text = (f"{dr.label} (it explains {fmt.share(dr.explained)} of the recommendation's regret "
                    f"over the points): at {dr.where}, {dr.winner} is best instead, by {loss}.")
        else:
            lo = fmt.compact_count(dr.low) if d.objective is Objective.ADOPTERS else fmt.money(dr.low)
            hi = fmt.compact_count(dr.high) if d.objective is Objective.ADOPTERS else fmt.money(dr.high)
            text = (f"{dr.label}: it moves the recommendation's result most ({fmt.share(dr.explained)} of its "
                    f"variation), from {lo} at {dr.where} to {hi}, but the recommendation stays best at every "
                    "assumption point tried.")
        out.append(("What would change the answer", text))
    elif d.points.n == 1:
        out.append(("What would change the answer", "not known from one set of assumptions: sweep the values you "
                    "are unsure of (docs/sweeps.md) to see whether the recommendation holds."))
    return out


def glossary(results: Results, d: Decision) -> str:
    """The terms of the answer, in one paragraph."""
    s = results.scenario
    terms = "".join(f"{html.escape(t)} " for t in family_of(s).terms(s))
    return (f"<b>Sign-ups</b> are the model's adopters: people who take the campaign's action. {terms}"
            "<b>Across assumptions</b>: the strategy's mean "
            f"over trials at each assumption point ({html.escape(d.points.source)}); the 80% range is the 10th to "
            "90th percentile of those means. "
            "<b>Monte Carlo error</b>: how far the means could move with more trials (95%). "
            "<b>Chance best</b>: how often the strategy is the best one, over assumption points and resampled trials. "
            "<b>Regret</b>: shortfall to the best strategy at the same assumption point, averaged over the points.")


def answer_html(d: Decision, results: Results) -> str:
    """``<section id="answer">``: the recommendation first, in words."""
    items = []
    for i, (head, text) in enumerate(answer_sentences(d, results)):
        body = html.escape(text)
        if i == 0 and d.recommended is not None:
            name = html.escape(d.recommended)
            body = body.replace(name, f'<strong class="pick">{name}</strong>', 1)
        items.append(f"<dt>{html.escape(head)}</dt><dd>{body}</dd>")
    return (f'<section id="answer" data-strategy="{html.escape(d.recommended or "")}"><h2>Answer</h2>'
            f"<dl>{''.join(items)}</dl><p class=note>{glossary(results, d)}</p></section>")


def _cell(col: str, v, objective: Objective) -> str:
    if col == "strategy":
        return str(v)
    if col in ("cost", "cost_per_adopter"):
        return fmt.money(v)
    if col == "p_best":
        return fmt.share(v)
    if col.startswith("regret"):
        return fmt.count(v) if objective is Objective.ADOPTERS else fmt.money(v)
    return fmt.count(v)


def table_html(d: Decision, optimized: str | None = None) -> str:
    """The one sorted table (best first) with the columns a planner reads; over-budget rows last, greyed."""
    heads = "".join(f'<th data-key="{k}" title="{html.escape(tip)}">{html.escape(h)}</th>'
                    for k, (h, tip) in TABLE_COLUMNS.items())
    rows = []
    for _, r in d.table.iterrows():
        cls = []
        if r["strategy"] == d.recommended:
            cls.append("pick")
        if r["strategy"] == d.robust and d.robust != d.recommended:
            cls.append("robust")
        if not r["within_budget"]:
            cls.append("over")
        if optimized is not None and r["strategy"] == optimized:
            cls.append("optimized")
        cells = "".join(f"<td>{html.escape(_cell(k, r[k], d.objective))}</td>" for k in TABLE_COLUMNS)
        rows.append(f'<tr class="{" ".join(cls)}">{cells}</tr>')
    note = ""
    if (~d.table["within_budget"]).any():
        note = (f"<p class=note>Greyed rows cost more than the budget of {fmt.money(d.budget)}: shown, never "
                "recommended.</p>")
    return (f'<div class="decision"><table id="decision-table"><thead><tr>{heads}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>{note}")


def uncertainty_html(d: Decision) -> str:
    """Monte Carlo error and assumption uncertainty, side by side in plain words, for the recommendation."""
    if d.recommended is None:
        return ""
    r = d.row(d.recommended)
    spread = r["adopters_p90"] - r["adopters_p10"]
    mc = Z95 * r["adopters_mc_sem"]
    if d.points.n == 1:
        assumptions = ("not measured: the run has one set of assumptions. Sweep the uncertain values, or run over "
                       "calibration's posterior draws, to see how much the answer depends on them.")
    else:
        assumptions = (f"{fmt.compact_count(r['adopters_p10'])} to {fmt.compact_count(r['adopters_p90'])} sign-ups "
                       f"(the middle 80% over {html.escape(d.points.source)}), a spread of {fmt.count(spread)}.")
    return ("<h2>Two kinds of uncertainty</h2><ul class=unc>"
            f"<li><b>What we do not know about the world</b> (assumptions): {assumptions}</li>"
            f"<li><b>Chance in the simulation</b> (Monte Carlo error, {d.trials:,} trials per point): "
            f"±{fmt.count(mc)} sign-ups (95%). More trials shrink this one; they do not shrink the first.</li></ul>")


def terminal_lines(d: Decision, results: Results) -> list[str]:
    """The answer for the terminal, one line per heading."""
    return [f"{head}: {text}" for head, text in answer_sentences(d, results)]


def terminal_table(d: Decision, title: str, most: int = 15) -> Table:
    """The sorted table as a rich Table (the best ``most`` rows, then a count of the rest)."""
    out = Table(title=title)
    for k, (head, _) in TABLE_COLUMNS.items():
        out.add_column(head, justify="left" if k == "strategy" else "right")
    for _, r in d.table.head(most).iterrows():
        style = "bold" if r["strategy"] == d.recommended else ("dim" if not r["within_budget"] else None)
        out.add_row(*(_cell(k, r[k], d.objective) for k in TABLE_COLUMNS), style=style)
    if len(d.table) > most:
        out.caption = f"... and {len(d.table) - most} more in strategies.csv and report.html"
    return out
