"""A run's report, written into its folder: summary tables, figures, ``report.html``, the manifest.

What is written follows from what the results hold: every run gets its summary and final-size
figure; runs whose strategies cost something get the planner's table and its frontier; runs with
per-partner and per-day tables (campaigns) get attribution, splits, the time series and the
funnel; Sobol and Morris sweeps get their sensitivity indices. The manifest, written last with
status ``complete``, marks the folder finished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.execution.output import manifest
from sim.execution.store import RunStore
from sim.families.chunks import ChunkTables
from sim.families.registry import family_of
from sim.report import figures
from sim.report.html import write_report
from sim.results.data import Results
from sim.results.decision import with_decision

#: Most strategies drawn in one time-series, funnel or size figure.
FEATURED = 8


def featured(results: Results) -> tuple[int | None, list[str]]:
    """What the per-strategy figures show: a sweep's middle point, and every strategy, or (with more
    than :data:`FEATURED` and a planner's decision) the best strategies for the planner's objective,
    then the baseline they are compared with."""
    point = len(results.design.points) // 2 if results.is_sweep else None
    decision = results.decision()
    if len(results.strategies) <= FEATURED or decision is None:
        return point, results.strategies[:FEATURED]
    ranked = decision.table["strategy"].tolist()
    base = results.scenario.baseline_name
    best = [s for s in ranked if s != base][: FEATURED - 1]
    return point, [*best, base]


def write_reports(store: RunStore, results: Results, *, sections: Sequence[str] = (),
                  annotations: Mapping[str, Any] | None = None) -> None:
    """Write summary, reports, figures, the HTML report and the final manifest into a run folder.

    Parameters
    ----------
    store : RunStore
    results : Results
    sections : sequence of str
        HTML sections the report shows after its table of strategies (the optimizer's comparison
        with the grid).
    annotations : mapping, optional
        Entries added to the manifest: what produced the run beyond its scenario (the optimizer's
        search).
    """
    store.write_csv("summary.csv", results.summary())
    if results.is_sweep:
        store.write_csv("points.csv", results.points)
    point, shown = featured(results)

    def at(frame: pd.DataFrame) -> pd.DataFrame:
        return frame if point is None else frame[frame["point"] == point]

    if point is None:
        world = results.world
    else:  # a featured point is a sweep's, and sweeps keep every point's world
        assert results.point_worlds is not None
        world = results.point_worlds[point]
    colors = figures.family_colors(results.strategies)  # one colour per strategy family in every figure
    planner = results.strategy_table()
    if planner is not None:
        decision = results.decision()
        assert decision is not None  # both exist exactly when the outcomes have a cost
        store.write_csv("strategies.csv", with_decision(planner, decision))
        store.write_csv("frontier.csv", planner[planner["on_frontier"]])
        store.write_figure("frontier.png", figures.frontier_figure(planner, results.design.labels, decision, colors,
                                                                   results.optimized))
    campaign = results.campaign
    if campaign is not None:
        if campaign.trees is not None:
            store.write_table("trees.parquet", campaign.trees)
        store.write_csv("partners.csv", campaign.partner_report())
        splits = campaign.split_report()
        store.write_csv("splits.csv", splits)
        store.write_figure("adoption_over_time.png",
                           figures.adoption_over_time_figure(at(campaign.timeseries), shown, colors))
        store.write_figure("funnel.png", figures.funnel_figure(at(splits), shown, colors))
    accounts, label = family_of(results.scenario).size_axis(world)
    store.write_figure("final_size.png", figures.final_size_figure(at(results.table), shown, accounts, label,
                                                                   colors))
    sensitivity = results.sensitivity()
    if sensitivity is not None:
        store.write_csv("sensitivity.csv", sensitivity)
        store.write_figure("sensitivity.png", figures.sensitivity_figure(sensitivity))
    done = {**manifest(results), **(annotations or {})}
    write_report(store, results, done, point, shown, sections)
    store.write_manifest(done)
    store.finish()


def save(results: Results, folder: str | Path, *, overwrite: bool = False) -> Path:
    """Write a results folder (trial table, summary, figures, manifest) and return its path.

    The tables are written as one part per (point,) strategy.

    Raises
    ------
    sim.execution.store.StoreError
        If ``folder`` holds another scenario's results and ``overwrite`` is False.
    """
    store = RunStore(folder)
    store.open(results.scenario.digest(), overwrite=overwrite)
    store.remove_parts()
    c = results.campaign
    frames = (results.table, *((c.timeseries, c.partners, c.segments) if c is not None else (None, None, None)))
    points = range(len(results.design.points)) if results.is_sweep else [None]
    for p in points:
        for i, name in enumerate(results.strategies):
            def rows(t: pd.DataFrame, name: str = name, p: int | None = p) -> pd.DataFrame:
                keep = t["strategy"] == name
                return t[keep & (t["point"] == p)] if p is not None else t[keep]

            tables = ChunkTables(*(None if t is None else pa.Table.from_pandas(rows(t), preserve_index=False)
                                   for t in frames))
            for table_name, part in tables.named():
                store.write_part((p or 0, i, 0), part, table_name)
    write_reports(store, results)
    return store.folder
