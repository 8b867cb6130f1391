"""Results of a run: the trial table, its summary, and how to write them out.

The trial table has one row per (strategy, trial). Classic models give the columns

=================  =======  ================================================
``strategy``       str      strategy name
``trial``          int64    trial number (the same numbers for every strategy)
``adopted``        int64    final number of active accounts, recruits included
``adopted_fraction`` float  ``adopted / n`` (n = accounts in the world)
``steps``          int32    step of the last activation (0: nothing spread)
=================  =======  ================================================

Campaign runs give :data:`sim.campaign.metrics.CAMPAIGN_OUTCOMES` (counts in real accounts,
fractions of the audience, USD), plus per-day, per-partner and per-segment tables.

Rows are ordered by strategy (as listed in the scenario), then trial, whatever
the number of workers or interruptions.
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

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

from sim.campaign.metrics import CAMPAIGN_OUTCOMES, partner_report, split_report
from sim.chunks import ChunkTables
from sim.classic.metrics import CLASSIC_OUTCOMES
from sim.scenario import Scenario
from sim.store import RESULTS_LAYOUT, RunStore


def summarize(table: pd.DataFrame, strategies: list[str], outcomes: tuple[str, ...]) -> pd.DataFrame:
    """Per strategy and outcome: trials, mean, standard error, Student-t 95% confidence interval.

    Parameters
    ----------
    table : DataFrame
        The trial table.
    strategies : list of str
        Strategy names in the order to report them.
    outcomes : tuple of str
        Columns to summarise. Missing values (e.g. cost per adopter with no adopter) are
        left out of that outcome's statistics; ``trials`` counts the values used.
    """
    rows = []
    for name in strategies:
        sub = table[table["strategy"] == name]
        for col in outcomes:
            x = sub[col].to_numpy(dtype=np.float64)
            x = x[~np.isnan(x)]
            k = len(x)
            mean = float(x.mean()) if k else np.nan
            sem = float(x.std(ddof=1) / np.sqrt(k)) if k > 1 else np.nan
            half = float(stats.t.ppf(0.975, k - 1) * sem) if k > 1 else np.nan
            rows.append({"strategy": name, "outcome": col, "trials": k, "mean": mean, "sem": sem,
                         "ci95_low": mean - half, "ci95_high": mean + half})
    return pd.DataFrame(rows)


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

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The outcome columns of the trial table."""
        return CAMPAIGN_OUTCOMES if self.scenario.is_campaign else CLASSIC_OUTCOMES

    @property
    def strategies(self) -> list[str]:
        """Strategy names in scenario order."""
        return [s.name for s in self.scenario.strategy_list]

    def summary(self) -> pd.DataFrame:
        """Per strategy and outcome: mean, standard error and 95% CI (see :func:`summarize`)."""
        return summarize(self.table, self.strategies, self.outcomes)

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
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **self.info,
            "scenario": self.scenario.model_dump(mode="json"),
        }

    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write the results folder (trial table, summary, figures, manifest) and return its path.

        The trial table is written as one part per strategy. Raises
        :class:`sim.store.StoreError` if ``folder`` holds another scenario's results
        and ``overwrite`` is False.
        """
        store = RunStore(folder)
        store.open(self.scenario.digest(), overwrite=overwrite)
        for old in store.finished():
            (store.parts / store.part_name(*old)).unlink()
        for i, name in enumerate(self.strategies):
            tables = ChunkTables(*(None if t is None else pa.Table.from_pandas(t[t["strategy"] == name],
                                                                             preserve_index=False)
                                   for t in (self.table, self.timeseries, self.partners, self.segments)))
            for table_name, part in tables.named():
                store.write_part(i, 0, part, table_name)
        self.write_reports(store)
        return store.folder

    def write_reports(self, store: RunStore) -> None:
        """Write summary, reports, figures and the final manifest into an open store."""
        from sim import plotting

        store.write_csv("summary.csv", self.summary())
        if self.trees is not None:
            store.write_table("trees.parquet", self.trees)
        if self.scenario.is_campaign:
            store.write_csv("partners.csv", self.partner_report())
            splits = self.split_report()
            store.write_csv("splits.csv", splits)
            store.write_figure("adoption_over_time.png",
                               plotting.adoption_over_time_figure(self.timeseries, self.strategies))
            store.write_figure("funnel.png", plotting.funnel_figure(splits, self.strategies))
            figure = plotting.final_size_figure(self.table, self.strategies, self.world["real_accounts"],
                                                "adopters per trial (real accounts; partners not counted)")
        else:
            figure = plotting.final_size_figure(self.table, self.strategies, self.world["accounts"])
        store.write_figure("final_size.png", figure)
        store.write_manifest(self.manifest())
        store.finish()
