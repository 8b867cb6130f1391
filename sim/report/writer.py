"""A run's report, written into its folder: summary tables, figures, ``report.html``, the manifest.

What is written follows from what the results hold: every run gets its summary and final-size
figure; runs whose strategies cost something get the planner's table and its frontier; runs with
per-partner and per-day tables (campaigns) get attribution, splits, the time series and the
funnel; Sobol and Morris sweeps get their sensitivity indices. The manifest, written last with
status ``complete``, marks the folder finished.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from sim.execution.output import manifest
from sim.execution.store import RunStore
from sim.families.chunks import ChunkTables
from sim.families.registry import family_of
from sim.report import figures
from sim.report.html import write_report
from sim.results.data import Results

#: Most strategies drawn in one time-series, funnel or size figure.
FEATURED = 8


def featured(results: Results) -> tuple[int | None, list[str]]:
    """What the per-strategy figures show: a sweep's middle point, and every strategy, or (with more
    than :data:`FEATURED` and a planner's table) the baseline and the Pareto frontier at that point,
    cheapest first."""
    point = len(results.design.points) // 2 if results.is_sweep else None
    table = results.strategy_table()
    if len(results.strategies) <= FEATURED or table is None:
        return point, results.strategies[:FEATURED]
    if point is not None:
        table = table[table["point"] == point]
    front = table[table["on_frontier"]].sort_values("cost")["strategy"].tolist()
    base = results.scenario.baseline_name
    return point, [base, *[s for s in front if s != base]][:FEATURED]


def write_reports(store: RunStore, results: Results) -> None:
    """Write summary, reports, figures, the HTML report and the final manifest into a run folder."""
    store.write_csv("summary.csv", results.summary())
    if results.is_sweep:
        store.write_csv("points.csv", results.points)
    point, shown = featured(results)

    def at(frame: pd.DataFrame) -> pd.DataFrame:
        return frame if point is None else frame[frame["point"] == point]

    world = results.world if point is None else results.point_worlds[point]
    planner = results.strategy_table()
    if planner is not None:
        store.write_csv("strategies.csv", planner)
        store.write_csv("frontier.csv", planner[planner["on_frontier"]])
        store.write_figure("frontier.png", figures.frontier_figure(planner, results.design.labels))
    campaign = results.campaign
    if campaign is not None:
        if campaign.trees is not None:
            store.write_table("trees.parquet", campaign.trees)
        store.write_csv("partners.csv", campaign.partner_report())
        splits = campaign.split_report()
        store.write_csv("splits.csv", splits)
        store.write_figure("adoption_over_time.png", figures.adoption_over_time_figure(at(campaign.timeseries), shown))
        store.write_figure("funnel.png", figures.funnel_figure(at(splits), shown))
    accounts, label = family_of(results.scenario).size_axis(world)
    store.write_figure("final_size.png", figures.final_size_figure(at(results.table), shown, accounts, label))
    sensitivity = results.sensitivity()
    if sensitivity is not None:
        store.write_csv("sensitivity.csv", sensitivity)
        store.write_figure("sensitivity.png", figures.sensitivity_figure(sensitivity))
    done = manifest(results)
    write_report(store, results, done, point, shown)
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
