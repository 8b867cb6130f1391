"""Results of a run: the trial table, its summary, and how to write them out.

The trial table has one row per (strategy, trial). Classic models give the columns

=================  =======  ================================================
``strategy``       str      strategy name
``trial``          int64    trial number (the same numbers for every strategy)
``adopted``        int64    final number of active accounts, recruits included
``adopted_fraction`` float  ``adopted / n`` (n = accounts in the world)
``steps``          int32    step of the last activation (0: nothing spread)
=================  =======  ================================================

Campaign runs give :data:`sim.campaign.spec.CAMPAIGN_OUTCOMES` (counts in real accounts,
fractions of the audience, USD), plus per-day, per-partner and per-segment tables.

Rows are ordered by sweep point (sweeps only), then strategy (as listed in the scenario), then
trial, whatever the executor, the number of workers or interruptions.
"""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.campaign.metrics import partner_report, split_report
from sim.campaign.spec import CAMPAIGN_OUTCOMES
from sim.chunks import ChunkTables
from sim.classic.spec import CLASSIC_OUTCOMES
from sim.scenario import Scenario
from sim.store import RESULTS_LAYOUT, RunStore
from sim.summary import strategy_table as planner_table
from sim.summary import summarize
from sim.sweeps.design import Design
from sim.sweeps.spec import DesignKind


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@functools.cache
def _package_versions() -> tuple[tuple[str, str | None], ...]:
    # Read once per process: parsing the installed packages' metadata takes ~30 ms, which
    # a sweep of many short runs would pay every time.
    versions = []
    for pkg in ("advocacy-sim", "numpy", "numba", "networkx", "scipy", "pandas", "pyarrow", "pydantic", "mesa"):
        try:
            versions.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            versions.append((pkg, None))
    return tuple(versions)


def with_decision(table: pd.DataFrame, decision) -> pd.DataFrame:
    """The planner's table with the decision columns of each strategy (across assumption points), rows
    best strategy first (then by point)."""
    cols = ["strategy", "rank", "within_budget", "budget", "unspent", "p_best", "regret_mean", "regret_max",
            "adopters_p10", "adopters_p50", "adopters_p90"]
    out = table.merge(decision.table[cols], on="strategy", how="left")
    keys = ["rank", "point"] if "point" in out.columns else ["rank"]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def provenance() -> dict[str, Any]:
    """Where a result came from: git commit, Python and package versions, command line, machine."""
    return {
        "git_commit": _git_commit(),
        "python": sys.version.split()[0],
        "packages": dict(_package_versions()),
        "command": sys.argv,
        "machine": {"platform": platform.platform(), "processor": platform.machine()},
    }


@dataclass(frozen=True, eq=False)
class Results:
    """What :func:`sim.run` returns.

    Attributes
    ----------
    scenario : Scenario
        The scenario as run (overrides applied).
    table : DataFrame
        The trial table (see module docstring).
    world : dict
        Facts about the world: accounts, edges, graph description.
    info : dict
        Provenance and timing (see :func:`provenance`).
    timeseries, partners, segments : DataFrame or None
        Campaign runs: per (strategy, trial, day), (strategy, trial, partner) and
        (strategy, trial, segment) rows.
    roster : DataFrame or None
        Campaign runs: who each strategy's partners are (creator, tier, platform, cost).
    trees : DataFrame or None
        Campaign runs with ``cascade_trees``: one row per adopter of the chosen trials
        (account, day, parent, post, partner, generation).
    design : Design or None
        The points the run covered (a sweep's design; one point without a sweep). With a
        sweep, every table has a ``point`` column and :attr:`points` gives their values.
    point_worlds : tuple of dict or None
        Sweeps: the facts of every point's world (``world`` is point 0's; they differ when the
        sweep varies the world).
    """

    scenario: Scenario
    table: pd.DataFrame
    world: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)
    timeseries: pd.DataFrame | None = None
    partners: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    roster: pd.DataFrame | None = None
    trees: pd.DataFrame | None = None
    design: Design | None = None
    point_worlds: tuple[dict[str, Any], ...] | None = None
    #: The optimizer's plan among the strategies (``run_experiment.py optimize``), and HTML the report
    #: shows after its table (the optimizer's comparison with the grid).
    optimized: str | None = None
    extra_html: str = ""

    @property
    def is_sweep(self) -> bool:
        """Whether the run swept uncertainties (its tables have a ``point`` column)."""
        return self.design is not None and self.design.is_sweep

    @property
    def points(self) -> pd.DataFrame | None:
        """Sweeps: one row per point, ``point`` and the value of each uncertainty (by label)."""
        if not self.is_sweep:
            return None
        return pd.DataFrame([{"point": p.index, **dict(p.values)} for p in self.design.points])

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The outcome columns of the trial table."""
        return CAMPAIGN_OUTCOMES if self.scenario.is_campaign else CLASSIC_OUTCOMES

    @property
    def strategies(self) -> list[str]:
        """Strategy names in scenario order."""
        return [s.name for s in self.scenario.strategy_list]

    def summary(self) -> pd.DataFrame:
        """Per (point,) strategy and outcome: mean, standard error, 95% CI, and the paired difference
        to the baseline strategy (see :func:`sim.summary.summarize`); sweeps add the points' values."""
        out = self._summary
        return out if not self.is_sweep else self.points.merge(out, on="point", how="right")

    @functools.cached_property
    def _summary(self) -> pd.DataFrame:
        # Computed once: the summary feeds the CSV, the planner's table, the figures and the report.
        return summarize(self.table, self.strategies, self.outcomes, self.scenario.baseline_name)

    def strategy_table(self) -> pd.DataFrame | None:
        """Campaign runs: the planner's table, one row per (point,) strategy: cost, adopters with CI,
        paired difference to the baseline, costs per engagement and adopter, Pareto frontier."""
        if not self.scenario.is_campaign:
            return None
        return planner_table(self._summary, self.points)

    def decision(self, points=None, *, objective: str | None = None, budget: float | None = None):
        """Campaign runs: the planner's answer (:class:`sim.decision.Decision`): the recommended strategy for
        the scenario's ``objective`` within its ``budget``, its range across assumption points, chance of
        being best, regret, the robust choice and the assumption that most changes the answer.

        Parameters
        ----------
        points : AssumptionPoints, optional
            The points and their weights (default: the run's sweep points, equally weighted).
        objective, budget : optional
            Override the scenario's ``objective`` and ``budget``.
        """
        if not self.scenario.is_campaign:
            return None
        if points is None and objective is None and budget is None:
            return self._decision
        return self._decide(points, objective, budget)

    @functools.cached_property
    def _decision(self):
        return self._decide(None, None, None)

    def _decide(self, points, objective, budget):
        from sim.decision import AssumptionPoints, decide, strategy_budgets

        s = self.scenario
        budgets = strategy_budgets(s)
        if self.optimized is not None and s.optimize is not None:  # the plan was given the optimizer's budget
            budgets[self.optimized] = float(s.optimize.budget or s.budget)
        return decide(self.table, self.strategies, points or AssumptionPoints.from_design(self.design),
                      objective=objective or s.objective, budget=budget if budget is not None else s.budget,
                      budgets=budgets, seed=s.seed)

    def sensitivity(self) -> pd.DataFrame | None:
        """Sobol and Morris sweeps: sensitivity indices per strategy and outcome, with 95% CIs
        (see :func:`sim.sweeps.sensitivity.indices`); None for other runs."""
        if not self.is_sweep or self.design.spec.design not in (DesignKind.SOBOL, DesignKind.MORRIS):
            return None
        return self._sensitivity

    @functools.cached_property
    def _sensitivity(self) -> pd.DataFrame:
        from sim.sweeps.sensitivity import indices  # SALib, imported only when analysed

        return indices(self.design, self.table, self.strategies)

    def partner_report(self) -> pd.DataFrame | None:
        """Campaign runs: per partner, mean attributed impressions, engagements, adopters, costs."""
        if self.partners is None:
            return None
        return partner_report(self.partners, self.roster)

    def split_report(self) -> pd.DataFrame | None:
        """Campaign runs: outcomes split by tier, platform, tier x platform and audience segment."""
        if self.partners is None:
            return None
        return split_report(self.partners, self.roster, self.segments)

    def manifest(self, status: str = "complete") -> dict[str, Any]:
        """The ``manifest.json`` content of this result."""
        return {
            "status": status,
            "scenario_name": self.scenario.name,
            "scenario_sha256": self.scenario.digest(),
            "results_layout": RESULTS_LAYOUT,
            "seed": self.scenario.seed,
            "trials": self.scenario.trials,
            "world": self.world,
            "baseline": self.scenario.baseline_name,
            **({"sweep": {"design": self.design.spec.design.value, "points": len(self.design.points),
                          "uncertainties": self.design.labels}} if self.is_sweep else {}),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **self.info,
            "scenario": self.scenario.model_dump(mode="json"),
        }

    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write the results folder (trial table, summary, figures, manifest) and return its path.

        The trial table is written as one part per (point,) strategy. Raises
        :class:`sim.store.StoreError` if ``folder`` holds another scenario's results
        and ``overwrite`` is False.
        """
        store = RunStore(folder)
        store.open(self.scenario.digest(), overwrite=overwrite)
        store.remove_parts()
        points = range(len(self.design.points)) if self.is_sweep else [None]
        for p in points:
            for i, name in enumerate(self.strategies):
                def rows(t: pd.DataFrame) -> pd.DataFrame:
                    keep = t["strategy"] == name
                    return t[keep & (t["point"] == p)] if p is not None else t[keep]

                tables = ChunkTables(*(None if t is None else pa.Table.from_pandas(rows(t), preserve_index=False)
                                       for t in (self.table, self.timeseries, self.partners, self.segments)))
                for table_name, part in tables.named():
                    store.write_part((p or 0, i, 0), part, table_name)
        self.write_reports(store)
        return store.folder

    #: Most strategies drawn in one time-series, funnel or size figure.
    FEATURED = 8

    def featured(self) -> tuple[int | None, list[str]]:
        """What the per-strategy figures show: a sweep's middle point, and every strategy, or (with
        more than :attr:`FEATURED`) the baseline and the Pareto frontier at that point, cheapest first."""
        point = len(self.design.points) // 2 if self.is_sweep else None
        if len(self.strategies) <= self.FEATURED or not self.scenario.is_campaign:
            return point, self.strategies[: self.FEATURED]
        # The best strategies for the planner's objective, then the baseline they are compared with.
        ranked = self.decision().table["strategy"].tolist()
        base = self.scenario.baseline_name
        best = [s for s in ranked if s != base][: self.FEATURED - 1]
        return point, [*best, base]

    def write_reports(self, store: RunStore) -> None:
        """Write summary, reports, figures, the HTML report and the final manifest into an open store."""
        from sim import plotting

        store.write_csv("summary.csv", self.summary())
        if self.is_sweep:
            store.write_csv("points.csv", self.points)
        if self.trees is not None:
            store.write_table("trees.parquet", self.trees)
        point, shown = self.featured()

        def at(frame: pd.DataFrame) -> pd.DataFrame:
            return frame if point is None else frame[frame["point"] == point]

        world = self.world if point is None else self.point_worlds[point]

        if self.scenario.is_campaign:
            table = self.strategy_table()
            store.write_csv("strategies.csv", with_decision(table, self.decision()))
            store.write_csv("frontier.csv", table[table["on_frontier"]])
            colors = plotting.family_colors(self.strategies)
            store.write_figure("frontier.png", plotting.frontier_figure(
                table, self.design.labels if self.design else [], self.decision(), colors, self.optimized))
            store.write_csv("partners.csv", self.partner_report())
            splits = self.split_report()
            store.write_csv("splits.csv", splits)
            store.write_figure("adoption_over_time.png",
                               plotting.adoption_over_time_figure(at(self.timeseries), shown, colors))
            store.write_figure("funnel.png", plotting.funnel_figure(at(splits), shown, colors))
            figure = plotting.final_size_figure(at(self.table), shown, world["real_accounts"],
                                                "sign-ups per trial (people; partners not counted)", colors)
        else:
            figure = plotting.final_size_figure(at(self.table), shown, world["accounts"])
        store.write_figure("final_size.png", figure)
        sensitivity = self.sensitivity()
        if sensitivity is not None:
            store.write_csv("sensitivity.csv", sensitivity)
            store.write_figure("sensitivity.png", plotting.sensitivity_figure(sensitivity))
        manifest = self.manifest()
        from sim.sweeps.report import write_report

        write_report(store, self, manifest, point, shown, self.optimized, self.extra_html)
        store.write_manifest(manifest)
        store.finish()
