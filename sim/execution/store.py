"""The results folder of a run, written so that a crash loses no finished trials.

Layout of ``<out>/<name>/``::

    manifest.json      scenario as resolved, its hash, seed, versions, command, status
    runs.parquet/      one Parquet part per finished (point, strategy, chunk) of trials (read the
                       folder with pandas)
    timeseries.parquet/, partners.parquet/, segments.parquet/
                       campaign runs: per-day, per-partner and per-segment rows, chunked alike
    summary.csv        per (point,) strategy and outcome: mean, standard error, 95% CI, paired
                       difference to the baseline
    points.csv         sweeps: each point's values
    strategies.csv, frontier.csv
                       campaign runs: the planner's table; its Pareto frontier
    sensitivity.csv    Sobol and Morris sweeps: indices with 95% CIs
    partners.csv, splits.csv
                       campaign runs: attribution per partner; splits by tier, platform, segment
    report.html        everything above on one self-contained page
    trees.parquet      campaign runs with ``cascade_trees``: who activated whom in chosen trials
    figures/           plots

A chunk counts as finished when its ``runs`` part exists; the other tables' parts are
written before it.

Every file is written to a temporary name in ``.incoming/`` (outside
``runs.parquet/``, where a stray temporary would break readers) and moved into
place with :func:`os.replace`, which is atomic on one filesystem. A run that is
killed can be restarted with the same scenario: finished parts are kept and only
missing chunks run, giving the same table as an uninterrupted run.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.base.files import atomic_write

_PART = re.compile(r"^part-p(\d{4,})-s(\d{3,})-c(\d{5,})\.parquet$")


def _part_order(path: Path) -> tuple[int, ...]:
    """(point, strategy, chunk) of a part file whose name matches :data:`_PART`, as numbers."""
    m = _PART.match(path.name)
    assert m is not None, path  # callers pass only matching names
    return tuple(int(g) for g in m.groups())


#: A finished piece of work: (sweep point, strategy number, chunk number); point 0 without a sweep.
Job = tuple[int, int, int]

#: Version of what a run folder's parts mean: which trials chunk ``c`` holds
#: (:func:`sim.execution.runner.chunk_bounds`) and which random draws produced them (:mod:`sim.base.rng`).
#: Bump it when either changes; a folder written under another layout is never resumed
#: (its parts would cover other trials, or come from other draws). 2: chunks aligned on
#: 64-trial blocks and IC lane draws (2026-11-26). 3: campaign posts' draws keyed by creator,
#: day and rank instead of schedule position, and parts named by sweep point (2026-12-03).
#: 4: campaign action funnel, new columns ``engagers``, ``adopters_engaged``,
#: ``adopters_unengaged``, ``action_rate_engaged``, ``action_rate_reached`` (trial table) and
#: ``new_engagers`` (time series); a layout-3 folder lacks them, so resuming it would mix tables.
#: 5: campaign mechanisms of issue 19 (new draws from streams PRESS, PRESS_ENGAGE, PRESS_CONVERT;
#: new column ``press_impressions``).
#: 6: campaign click stage (``click_share``; new columns ``clickers``, ``adopters_clicked``,
#: ``click_rate_reached``, ``action_rate_clicked`` in the trial table, beside ``engagers`` and
#: ``adopters_engaged``); a layout-5 folder lacks them.
RESULTS_LAYOUT = 6


class StoreError(RuntimeError):
    """The output folder holds results of a different scenario (or is not ours)."""


class RunStore:
    """One run's output folder.

    Parameters
    ----------
    folder : Path
        The run folder (``<out>/<scenario name>``).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / "runs.parquet"
        self.figures = self.folder / "figures"
        self._incoming = self.folder / ".incoming"

    # ------------------------------------------------------------------ opening

    def open(self, digest: str, *, overwrite: bool = False) -> int:
        """Prepare the folder for a run of the scenario with hash ``digest``.

        Returns the number of chunks already finished (0 for a fresh run).

        Raises
        ------
        StoreError
            If the folder holds another scenario's results and ``overwrite`` is False, or files
            that are not a run's results (never deleted).
        """
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(f"{self.folder} is a file, not a folder; choose another --out")
        manifest = self.read_manifest()
        if self.folder.exists() and any(self.folder.iterdir()):
            if manifest is None:  # never delete what the tool did not write, even with --overwrite
                raise StoreError(f"{self.folder} holds files that are not a run's results (no manifest.json this "
                                 "tool wrote); choose another --out")
            same = manifest.get("scenario_sha256") == digest
            if not same or manifest.get("results_layout") != RESULTS_LAYOUT:
                if not overwrite:
                    if same:
                        what = (f"results of this scenario written by another version of advocacy-sim "
                                f"(results layout {manifest.get('results_layout', 1)}, now {RESULTS_LAYOUT}), "
                                "which cannot be resumed")
                    else:
                        what = "another scenario's results"
                    raise StoreError(
                        f"{self.folder} holds {what}; choose another --out or pass --overwrite to replace it")
                self._clear()
        try:
            self.parts.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StoreError(f"cannot make the folder {self.folder}: a part of its path is a file; choose another "
                             "--out") from None
        shutil.rmtree(self._incoming, ignore_errors=True)
        self._incoming.mkdir(parents=True, exist_ok=True)
        return len(self.finished())

    def _clear(self) -> None:
        for child in [*self.folder.glob("*.parquet"), self.figures, self._incoming]:
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        for child in self.folder.glob("*.csv"):
            child.unlink()
        (self.folder / "manifest.json").unlink(missing_ok=True)

    # ------------------------------------------------------------------ parts

    @staticmethod
    def part_name(job: Job) -> str:
        """File name of the part holding chunk ``c`` of strategy number ``s`` at point ``p``."""
        point, strategy, chunk = job
        return f"part-p{point:04d}-s{strategy:03d}-c{chunk:05d}.parquet"

    def finished(self) -> set[Job]:
        """(point, strategy, chunk) triples whose ``runs`` parts are on disk."""
        if not self.parts.is_dir():
            return set()
        out = set()
        for p in self.parts.iterdir():
            m = _PART.match(p.name)
            if m:
                out.add((int(m.group(1)), int(m.group(2)), int(m.group(3))))
        return out

    def remove_parts(self) -> None:
        """Delete every table's parts (before a complete set is written again)."""
        for folder in self.folder.glob("*.parquet"):
            if folder.is_dir():
                for part in folder.iterdir():
                    if _PART.match(part.name):
                        part.unlink()

    def write_part(self, job: Job, table: pa.Table, name: str = "runs") -> None:
        """Write one chunk of table ``name`` atomically into ``<name>.parquet/``.

        Dictionary-encoded columns (the runner's strategy codes) are written as their plain
        values: whoever reads the folder sees the same columns as in the results table.
        """
        folder = self.folder / f"{name}.parquet"
        folder.mkdir(parents=True, exist_ok=True)
        plain = pa.schema([pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
                           for f in table.schema])
        self._atomic(folder / self.part_name(job), lambda tmp: pq.write_table(table.cast(plain), tmp))

    def read_parts(self, name: str = "runs") -> pa.Table | None:
        """All parts of table ``name`` in (point, strategy, chunk) order; None if there are none.

        Parts written from pandas hold ``large_string`` columns, the runner's ``string``:
        both may meet in one resumed folder, so types are unified (permissive promotion).
        """
        folder = self.folder / f"{name}.parquet"
        files = [p for p in folder.iterdir() if _PART.match(p.name)] if folder.is_dir() else []
        # Numeric order: padding is a minimum width, and point 10000 sorts after point 9999.
        files.sort(key=_part_order)
        if not files:
            return None
        return pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")

    # ------------------------------------------------------------------ other files

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or None if there is none (or it is unreadable, or not one the tool writes:
        a folder holding such a file is never resumed nor deleted)."""
        try:
            manifest = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):  # missing, a folder, not UTF-8, not JSON, nested too deep
            return None
        return manifest if isinstance(manifest, dict) else None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write ``manifest.json`` atomically."""
        self._atomic(self.folder / "manifest.json",
                     lambda tmp: Path(tmp).write_text(json.dumps(manifest, indent=2, default=str) + "\n"))

    def write_table(self, name: str, table: pd.DataFrame) -> None:
        """Write a whole (small) table as one Parquet file, atomically."""
        self._atomic(self.folder / name, lambda tmp: table.to_parquet(tmp, index=False))

    def write_text(self, name: str, text: str) -> None:
        """Write a text file (UTF-8) atomically."""
        self._atomic(self.folder / name, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def write_csv(self, name: str, table: pd.DataFrame) -> None:
        """Write a CSV table atomically."""
        self._atomic(self.folder / name, lambda tmp: table.to_csv(tmp, index=False))

    def write_figure(self, name: str, figure) -> Path:
        """Save a matplotlib figure under ``figures/`` atomically; returns its path."""
        self.figures.mkdir(parents=True, exist_ok=True)
        target = self.figures / name
        self._atomic(target, lambda tmp: figure.savefig(tmp, dpi=120, bbox_inches="tight", format=target.suffix[1:]))
        return target

    def finish(self) -> None:
        """Remove the temporaries folder once everything is in place."""
        shutil.rmtree(self._incoming, ignore_errors=True)

    def _atomic(self, target: Path, write) -> None:
        atomic_write(target, write, self._incoming)
