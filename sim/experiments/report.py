"""What one experiment run produces, and the folder it is written to.

A :class:`Report` holds the checks and findings (:mod:`sim.experiments.comparison`), the figures
(matplotlib ``Figure`` objects, no pyplot) and the data behind them. :meth:`Report.write`
puts them in ``<out>/<id>/``: ``comparison.csv`` and ``comparison.md`` (the table: verification,
then validation, then findings, each line with its kind),
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
from functools import partial
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.base.files import atomic_text, atomic_write
from sim.base.provenance import provenance
from sim.experiments.comparison import Check, Finding, Kind
from sim.experiments.schema import ExperimentSpec

#: Verification results (a FAIL fails ``reproduce``) and validation results (reported only).
PASS, FAIL = "pass", "FAIL"
HIT, MISS = "PASS", "MISS"
#: The kind column of a finding's row.
FINDING = "finding"
#: Reason shown beside a MISS that the definition does not explain.
UNDOCUMENTED = "undocumented: explain it under `misses:` in the definition and in docs/experiments.md"


def status(check: Check, spec: ExperimentSpec | None = None) -> str:
    """``pass`` / ``FAIL`` for a verification check, ``PASS`` / ``MISS`` for a validation check."""
    if check.kind is Kind.VERIFICATION:
        return PASS if check.passed else FAIL
    return HIT if check.passed else MISS


def reason(check: Check, spec: ExperimentSpec) -> str:
    """Why a validation check misses (from the definition's ``misses:``), or '' where it passes."""
    if check.kind is Kind.VERIFICATION or check.passed:
        return ""
    return spec.misses.get(check.name, UNDOCUMENTED)


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
        Verification and validation checks.
    findings : list of Finding
        The model's conclusions about claims: reported, never checked.
    figures : dict of str to Figure
        Figure name (file stem after ``<id>_``) -> figure.
    tables : dict of str to DataFrame
        The numbers behind the figures and checks (``data/<name>.csv``).
    texts : dict of str to str
        Written documents (``data/<file name>``, e.g. ``conditions.md``).
    publish_tables, publish_texts : list of str
        Tables and texts a full run also publishes to ``docs/<id>/`` (beside ``docs/figures/``).
    elapsed : float
        Seconds.
    """

    spec: ExperimentSpec
    quick: bool
    checks: list[Check] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    figures: dict[str, Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    publish_tables: list[str] = field(default_factory=list)
    publish_texts: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    #: Called with ``docs/<id>/`` after a full run published its tables there (the claims audit
    #: rewrites the README's summary and calibration.md's table from them).
    on_publish: Callable[[Path], None] | None = None

    def statuses(self) -> list[str]:
        """Status of each check, in order."""
        return [status(c) for c in self.checks]

    @property
    def ok(self) -> bool:
        """Every verification check passes (validation misses and findings never make a run fail)."""
        return FAIL not in self.statuses()

    @property
    def misses(self) -> list[Check]:
        """The validation checks that miss their published value."""
        return [c for c in self.checks if c.kind is Kind.VALIDATION and not c.passed]

    def _ordered(self) -> list[Check]:
        order = {Kind.VERIFICATION: 0, Kind.VALIDATION: 1}
        return sorted(self.checks, key=lambda c: order[c.kind])

    def comparison(self) -> pd.DataFrame:
        """The table: one row per check (verification, then validation) and per finding.

        Columns: experiment, kind, check, published, source, ours (text), ours_value,
        ours_low, ours_high, criterion, result (pass / FAIL, PASS / MISS, or the finding's
        verdict), reason (why a validation check misses).
        """
        rows = []
        for c in self._ordered():
            rows.append({"experiment": self.spec.id, "kind": c.kind.value, "check": c.name, "published": c.published,
                         "source": c.source, "ours": c.ours.text(c.unit), "ours_value": c.ours.value,
                         "ours_low": c.ours.low, "ours_high": c.ours.high, "criterion": c.criterion,
                         "result": status(c), "reason": reason(c, self.spec)})
        for f in self.findings:
            rows.append({"experiment": self.spec.id, "kind": FINDING, "check": f.name, "published": f.claim,
                         "source": "", "ours": f.ours.text(f.unit), "ours_value": f.ours.value,
                         "ours_low": f.ours.low, "ours_high": f.ours.high,
                         "criterion": f"{f.reading}. {f.detail}".strip(),
                         "result": f.verdict, "reason": ""})
        columns = ["experiment", "kind", "check", "published", "source", "ours", "ours_value", "ours_low",
                   "ours_high", "criterion", "result", "reason"]
        return pd.DataFrame(rows, columns=columns)

    def markdown(self) -> str:
        """The table as Markdown (for docs/experiments.md): checks by kind, then findings."""
        out = []
        checks = self._ordered()
        if checks:
            out += ["| kind | check | published | ours (95% CI) | criterion | source | result |",
                    "|---|---|---|---|---|---|---|"]
            for c in checks:
                result = status(c)
                why = reason(c, self.spec)
                cells = [c.kind.value, c.name, c.published, c.ours.text(c.unit), c.criterion, c.source,
                         f"{result}: {why}" if why else result]
                out.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        if self.findings:
            out += ([""] if out else []) + ["| finding | claim | reading | ours (95% CI) | verdict | evidence |",
                                                "|---|---|---|---|---|---|"]
            for f in self.findings:
                cells = [f.name, f.claim, f.reading, f.ours.text(f.unit), f"**{f.verdict}**", f.detail]
                out.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        return "\n".join(out) + "\n"

    def write(self, folder: Path, publish: Path | None = None, command: list[str] | None = None) -> list[Path]:
        """Write the report into ``folder`` (and figures into ``publish``); returns the figure files."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data").mkdir(exist_ok=True)
        atomic_text(folder / "comparison.csv", self.comparison().to_csv(index=False))
        atomic_text(folder / "comparison.md", self.markdown())
        for name, table in self.tables.items():
            atomic_text(folder / "data" / f"{name}.csv", table.to_csv(index=False))
        for name, text in self.texts.items():
            atomic_text(folder / "data" / name, text)
        if publish is not None and (self.publish_tables or self.publish_texts):
            docs = publish.parent / self.spec.id
            docs.mkdir(parents=True, exist_ok=True)
            for name in self.publish_tables:
                atomic_text(docs / f"{name}.csv", self.tables[name].to_csv(index=False))
            for name in self.publish_texts:
                atomic_text(docs / name, self.texts[name])
            if self.on_publish is not None:
                self.on_publish(docs)
        written = []
        targets = [folder] + ([publish] if publish is not None else [])
        for name, fig in self.figures.items():
            for target in targets:
                target.mkdir(parents=True, exist_ok=True)
                for ext in ("png", "svg"):
                    path = target / f"{self.spec.id}_{name}.{ext}"
                    # svg: no timestamp or random ids, so regenerated figures diff cleanly
                    meta = {"Date": None} if ext == "svg" else {"Software": None}
                    atomic_write(path, partial(fig.savefig, dpi=150, metadata=meta, format=ext))
                    written.append(path)
        manifest = {"experiment": self.spec.id, "title": self.spec.title, "reference": self.spec.reference,
                    "quick": self.quick, "definition": self.spec.model_dump(mode="json"),
                    "seed": self.spec.seed, "ok": self.ok, "misses": [c.name for c in self.misses],
                    "elapsed_seconds": round(self.elapsed, 2),
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
