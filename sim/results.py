"""Results of a run: the trial table, its summary, and how to write them out.

The trial table has one row per (strategy, trial) with the columns

=================  =======  ================================================
``strategy``       str      strategy name
``trial``          int64    trial number (the same numbers for every strategy)
``adopted``        int64    final number of active accounts, recruits included
``adopted_fraction`` float  ``adopted / n`` (n = accounts in the world)
``steps``          int32    step of the last activation (0: nothing spread)
=================  =======  ================================================

Rows are ordered by strategy (as listed in the scenario), then trial, whatever
the number of workers or interruptions.
"""

from __future__ import annotations

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
from scipy import stats

from sim.scenario import Scenario
from sim.store import RunStore

#: Outcome columns summarised per strategy.
OUTCOMES = ("adopted", "adopted_fraction", "steps")


def summarize(table: pd.DataFrame, strategies: list[str]) -> pd.DataFrame:
    """Per strategy and outcome: trials, mean, standard error, Student-t 95% confidence interval.

    Parameters
    ----------
    table : DataFrame
        The trial table.
    strategies : list of str
        Strategy names in the order to report them.
    """
    rows = []
    for name in strategies:
        sub = table[table["strategy"] == name]
        k = len(sub)
        for col in OUTCOMES:
            x = sub[col].to_numpy(dtype=np.float64)
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


def provenance() -> dict[str, Any]:
    """Where a result came from: git commit, Python and package versions, command line, machine."""
    versions = {}
    for pkg in ("advocacy-sim", "numpy", "numba", "networkx", "scipy", "pandas", "pyarrow", "pydantic", "mesa"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "git_commit": _git_commit(),
        "python": sys.version.split()[0],
        "packages": versions,
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
    """

    scenario: Scenario
    table: pd.DataFrame
    world: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def strategies(self) -> list[str]:
        """Strategy names in scenario order."""
        return [s.name for s in self.scenario.strategy_list]

    def summary(self) -> pd.DataFrame:
        """Per strategy and outcome: mean, standard error and 95% CI (see :func:`summarize`)."""
        return summarize(self.table, self.strategies)

    def manifest(self, status: str = "complete") -> dict[str, Any]:
        """The ``manifest.json`` content of this result."""
        return {
            "status": status,
            "scenario_name": self.scenario.name,
            "scenario_sha256": self.scenario.digest(),
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
            store.write_part(i, 0, self.table[self.table["strategy"] == name])
        self.write_reports(store)
        return store.folder

    def write_reports(self, store: RunStore) -> None:
        """Write summary, figures and the final manifest into an open store."""
        from sim.plotting import final_size_figure

        store.write_csv("summary.csv", self.summary())
        store.write_figure("final_size.png", final_size_figure(self.table, self.strategies, self.world["accounts"]))
        store.write_manifest(self.manifest())
        store.finish()
