"""The optimizer's plan beside the grid's strategies, on the trials results are reported on.

The search chose its plan on trials of its own (stream ``OPTIMIZE``); here the plan and the grid's
strategies are compared on the run's trials, which the search never saw, as paired differences
(common random numbers) per assumption point, averaged with the points' weights.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.base import fmt
from sim.base.stats import Z95, mean_interval
from sim.results.assumptions import AssumptionPoints


@dataclass(frozen=True)
class PairedGain:
    """Expected sign-ups of one strategy minus another's, paired trial by trial at each point.

    Attributes
    ----------
    mean : float
        Weighted mean over points of the per-point mean difference (sign-ups).
    sem : float
        Its Monte Carlo standard error (per-point paired standard errors, combined with the weights).
    """

    mean: float
    sem: float


def paired_gain(table: pd.DataFrame, a: str, b: str, points: AssumptionPoints) -> PairedGain:
    """``a`` minus ``b`` in sign-ups over the run's trials, paired per trial at each point."""
    has_point = "point" in table.columns
    means, variances = [], []
    for p in points.ids:
        sub = table[table["point"] == p] if has_point else table
        x = sub[sub["strategy"] == a].sort_values("trial")["adopted"].to_numpy(np.float64)
        y = sub[sub["strategy"] == b].sort_values("trial")["adopted"].to_numpy(np.float64)
        d = mean_interval(x - y)
        means.append(d.mean)
        variances.append(d.sem**2)
    w = points.weights
    return PairedGain(float(np.sum(w * np.array(means))), float(math.sqrt(np.sum(w**2 * np.array(variances)))))


def comparison(results, found, name: str) -> tuple[str, list[str], dict]:
    """HTML section, terminal lines and numbers comparing the optimizer's plan with the grid.

    Parameters
    ----------
    results : Results
        The run with the plan among its strategies (named ``name``).
    found : SearchResult
        The search.
    name : str
        The plan's strategy name in ``results``.

    Returns
    -------
    (html, lines, numbers)
        ``numbers``: ``grid_best`` (the best grid strategy inside the search space on the run's
        trials, by the decision's expected objective), ``gain`` and ``gain_sem`` (the plan minus it,
        sign-ups), ``evaluations``.
    """
    d = results.decision()
    table = d.table.set_index("strategy")
    inside = [s for s in found.grid if s in table.index]
    grid_best = max(inside, key=lambda s: table.loc[s, "objective_mean"]) if inside else None
    problem = found.problem
    rows = [name] + ([grid_best] if grid_best else [])
    others = [s for s in d.table["strategy"] if s != name and s not in rows and table.loc[s, "within_budget"]]
    if others and others[0] != grid_best:
        rows.append(others[0])  # the best strategy of the whole run, when it is outside the space
    gain = paired_gain(results.table, name, grid_best, d.points) if grid_best else None
    head = ("<tr><th>strategy</th><th>what</th><th>spend</th><th>unspent</th><th>expected sign-ups</th>"
            "<th>p10</th><th>vs best grid strategy in the space</th></tr>")
    body = []
    for s in rows:
        r = table.loc[s]
        what = ("the optimizer's plan" if s == name else "best grid strategy inside the search space"
                if s == grid_best else "best strategy of the run (outside the search space)")
        diff = ""
        if gain is not None and s == name:
            diff = f"{fmt.signed_count(gain.mean)} ± {fmt.count(Z95 * gain.sem)}"
        body.append(f"<tr><td>{html.escape(s)}</td><td>{what}</td><td>{fmt.money(r['cost'])}</td>"
                    f"<td>{fmt.money(problem.budget - r['cost'] if s == name else r['unspent'])}</td>"
                    f"<td>{fmt.count(r['adopters_mean'])}</td>"
                    f"<td>{fmt.count(r['adopters_p10'])}</td><td>{diff}</td></tr>")
    plan = found.best_evaluation
    parts = "; ".join(f"{c}: {fmt.money(b)} ({plan.partners.get(c, 0)} "
                      f"partner{'' if plan.partners.get(c, 0) == 1 else 's'})"
                      for c, b in plan.budgets.items())
    source = found.best_source
    picked = ("a grid strategy was best" if source.startswith("grid:") else "found by the search")
    n_eval = len(found.trace)
    crit = "expected" if problem.criterion == "expected" else "robust (10th percentile over the points)"
    lines = [f"Optimizer: {n_eval} plans evaluated ({len(found.grid)} grid strategies first) by Optuna's TPE "
             f"sampler on {problem.trials} trials per point of their own; criterion {crit} {problem.objective.value}."]
    capped = problem.max_partners is not None and sum(plan.partners.values()) >= problem.max_partners
    why = (f"the cap of {problem.max_partners} partners is reached" if capped
           else "no partner it could still add fits")
    lines.append(f"Optimizer's plan ({picked}, schedule {_schedule_name(found)}): {parts}; spends "
                 f"{fmt.money(plan.cost)} of {fmt.money(problem.budget)}"
                 + (f", {fmt.money(plan.unspent)} left unspent ({why})" if plan.unspent >= 0.5 else "") + ".")
    if gain is not None:
        lines.append(f"On the report's trials (not the ones it was chosen on): {fmt.signed_count(gain.mean)} "
                     f"sign-ups against {grid_best}, the best grid strategy inside the search space "
                     f"(± {fmt.count(Z95 * gain.sem)}, 95% Monte Carlo).")
    section = ("<h2>The optimizer's plan and the grid</h2>"
               + "".join(f"<p>{html.escape(x)}</p>" for x in lines)
               + f'<div class="scroll"><table id="optimizer-table"><thead>{head}</thead><tbody>{"".join(body)}'
               "</tbody></table></div><p class=note>The search's trace (every plan evaluated, its shares, "
               "partners, spend and value) is in optimize.csv; the plan as a runnable scenario in optimized.yaml."
               "</p>")
    numbers = {"grid_best": grid_best, "gain": None if gain is None else gain.mean,
               "gain_sem": None if gain is None else gain.sem, "evaluations": n_eval}
    return section, lines, numbers


def _schedule_name(found) -> str:
    row = found.trace.loc[found.trace["value"].idxmax()]
    return str(row["schedule"])
