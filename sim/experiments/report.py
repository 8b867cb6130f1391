"""What one experiment run produces, and the folder it is written to.

A :class:`Report` holds the checks (:mod:`sim.experiments.comparison`), the figures
(matplotlib ``Figure`` objects, no pyplot) and the data behind them. :meth:`Report.write`
puts them in ``<out>/<id>/``: ``comparison.csv`` and ``comparison.md`` (the table),
``data/<table>.csv``, ``<id>_<figure>.png`` and ``.svg``, and ``manifest.json`` (definition as
resolved, sizes, seed, git commit, versions, elapsed time). Full-size runs also publish their
figures to ``docs/figures/``.

:class:`Workspace` keeps finished pieces of a long run (one Parquet file per piece, written
atomically): a rerun of the same definition and sizes reads them instead of recomputing, so a
killed run loses only the piece in progress.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.base.files import atomic_text, atomic_write
from sim.base.provenance import provenance
from sim.experiments.comparison import Check
from sim.experiments.schema import ExperimentSpec

PASS, FAIL, DEVIATION = "pass", "FAIL", "deviation"


def status(check: Check, spec: ExperimentSpec) -> str:
    """``pass``; ``deviation`` if it fails with a documented deviation; ``FAIL`` otherwise."""
    if check.passed:
        return PASS
    return DEVIATION if check.name in spec.deviations else FAIL


@dataclass
class Report:
    """The outcome of one experiment run.

    Attributes
    ----------
    spec : ExperimentSpec
        The definition that was run.
    quick : bool
        Whether the reduced sizes were used.
    checks : list of Check
    figures : dict of str to Figure
        Figure name (file stem after ``<id>_``) -> figure.
    tables : dict of str to DataFrame
        The numbers behind the figures and checks.
    elapsed : float
        Seconds.
    """

    spec: ExperimentSpec
    quick: bool
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    elapsed: float = 0.0

    def statuses(self) -> list[str]:
        """Status of each check, in order."""
        return [status(c, self.spec) for c in self.checks]

    @property
    def ok(self) -> bool:
        """No check fails without a documented deviation."""
        return FAIL not in self.statuses()

    def comparison(self) -> pd.DataFrame:
        """The comparison table: published, ours (95% interval), criterion, verdict."""
        rows = []
        for c, s in zip(self.checks, self.statuses(), strict=True):
            rows.append({"experiment": self.spec.id, "check": c.name, "published": c.published,
                         "ours": c.ours.text(c.unit), "ours_value": c.ours.value, "ours_low": c.ours.low,
                         "ours_high": c.ours.high, "criterion": c.criterion, "result": s,
                         "deviation": self.spec.deviations.get(c.name, "") if s == DEVIATION else ""})
        return pd.DataFrame(rows)

    def markdown(self) -> str:
        """The comparison table as Markdown (for docs/experiments.md)."""
        lines = ["| check | published | ours (95% CI) | criterion | result |", "|---|---|---|---|---|"]
        for c, s in zip(self.checks, self.statuses(), strict=True):
            cells = [c.name, c.published, c.ours.text(c.unit), c.criterion, s]
            lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        return "\n".join(lines) + "\n"

    def write(self, folder: Path, publish: Path | None = None, command: list[str] | None = None) -> list[Path]:
        """Write the report into ``folder`` (and figures into ``publish``); returns the figure files."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data").mkdir(exist_ok=True)
        atomic_text(folder / "comparison.csv", self.comparison().to_csv(index=False))
        atomic_text(folder / "comparison.md", self.markdown())
        for name, table in self.tables.items():
            atomic_text(folder / "data" / f"{name}.csv", table.to_csv(index=False))
        written = []
        targets = [folder] + ([publish] if publish is not None else [])
        for name, fig in self.figures.items():
            for target in targets:
                target.mkdir(parents=True, exist_ok=True)
                for ext in ("png", "svg"):
                    path = target / f"{self.spec.id}_{name}.{ext}"
                    # svg: no timestamp or random ids, so regenerated figures diff cleanly
                    meta = {"Date": None} if ext == "svg" else {"Software": None}
                    atomic_write(path, lambda tmp, fig=fig, ext=ext, meta=meta: fig.savefig(
                        tmp, dpi=150, metadata=meta, format=ext))
                    written.append(path)
        manifest = {"experiment": self.spec.id, "title": self.spec.title, "reference": self.spec.reference,
                    "quick": self.quick, "definition": self.spec.model_dump(mode="json"),
                    "seed": self.spec.seed, "ok": self.ok, "elapsed_seconds": round(self.elapsed, 2),
                    "checks": self.comparison().drop(columns=["ours"]).to_dict(orient="records"),
                    "command": command or [], **provenance().as_dict()}
        atomic_text(folder / "manifest.json", json.dumps(manifest, indent=2, default=str))
        return written


class Workspace:
    """Finished pieces of one run, kept on disk so that a killed run resumes where it stopped.

    Parameters
    ----------
    folder : Path or None
        ``<out>/<id>/parts``; None keeps nothing (everything is computed).
    key : str
        Identifies the definition and sizes; pieces written under another key are discarded.
    """

    def __init__(self, folder: Path | None, key: str) -> None:
        self.folder = folder
        self.key = hashlib.sha256(key.encode()).hexdigest()[:16]
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = folder / "KEY"
            if not stamp.exists() or stamp.read_text() != self.key:
                for old in folder.glob("*.parquet"):
                    old.unlink()
                atomic_text(stamp, self.key)

    def piece(self, name: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """The piece ``name``: read if already finished, else computed and written atomically."""
        if self.folder is None:
            return compute()
        path = self.folder / f"{name}.parquet"
        if path.exists():
            return pd.read_parquet(path)
        frame = compute()
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
        return frame


class Steps:
    """Progress of a run in units of work: a rich progress bar, or nothing."""

    def __init__(self, progress=None, description: str = "") -> None:
        self.progress = progress
        self.task = None
        self.description = description
        self.started = time.perf_counter()

    def total(self, n: int) -> None:
        """Announce the number of units of work."""
        if self.progress is not None:
            self.task = self.progress.add_task(self.description, total=n)

    def advance(self, n: int = 1) -> None:
        """Mark ``n`` units done."""
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, n)


def pieces(ws: Workspace, steps: Steps, units: dict[str, Callable[[], pd.DataFrame]]) -> pd.DataFrame:
    """Compute (or read back) the named pieces of a run in order, advancing ``steps``; one table of them all."""
    steps.total(len(units))
    parts = []
    for name, compute in units.items():
        parts.append(ws.piece(name, compute))
        steps.advance()
    return pd.concat(parts, ignore_index=True)
