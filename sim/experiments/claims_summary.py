"""The claims audit's published tables as prose: the README's summary of findings and docs/calibration.md §7.

A full run of the audit (``python run_experiment.py experiments/source_claims.yaml``) publishes
its tables to ``docs/source_claims/`` (``claims.csv``, ``platforms.csv``, ``breakeven.csv``).
The README and docs/calibration.md quote them between marker comments
(``<!-- claims-summary:begin -->`` ... ``<!-- claims-summary:end -->`` and ``<!-- claims-table:begin
-->`` ... ``<!-- claims-table:end -->``); this module writes those blocks from the tables, so no
number in them is typed by hand and none can drift from the run. A full run of the audit rewrites
them itself after publishing (:func:`sim.experiments.claims._publish_summary`); by hand::

    python -m sim.experiments.claims_summary          # rewrite both blocks
    python -m sim.experiments.claims_summary --check  # exit 1 if either block is stale

A claim of the definition that the published tables do not have yet (added after the last full
run) is listed as not yet run. The text states what the tables say; it judges nothing (a claim's
verdict is a finding, never a check).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "experiments" / "source_claims.yaml"
TABLES = ROOT / "docs" / "source_claims"
SUMMARY = ("<!-- claims-summary:begin -->", "<!-- claims-summary:end -->")
TABLE = ("<!-- claims-table:begin -->", "<!-- claims-table:end -->")


def _pct(x: float) -> str:
    return f"{x:.0%}" if x == x else "n/a"


def _num(name: str, v: float) -> str:
    if v != v:
        return "n/a"
    if name.startswith(("price_", "partnership_")) or name == "audience_size":
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / name
    return pd.read_csv(path) if path.is_file() else None


def _breakevens(be: pd.DataFrame | None, claim: str, platform: str) -> str:
    if be is None:
        return ""
    rows = be[(be.claim == claim) & (be.platform == platform)]
    parts = [f"{r.parameter} = {_num(r.parameter, r.value)} [{_num(r.parameter, r.low)}, {_num(r.parameter, r.high)}]"
             for r in rows.itertuples() if r.value == r.value]
    return "; ".join(parts)


def _current(table: pd.DataFrame | None, definition) -> dict[str, dict]:
    """The published rows whose comparison is the definition's (same fingerprint), by claim id."""
    from sim.experiments.claims import fingerprint

    if table is None or "definition" not in table:
        return {}
    p = definition.parameters
    return {r["claim"]: r for r in table.to_dict("records")
            if any(c.id == r["claim"] and fingerprint(p, c) == r["definition"] for c in p.claims)}


def summary(definition, folder: Path = TABLES) -> str:
    """One bullet per claim of the definition: where it holds on its headline platform and each platform,
    the verdict, the conditions and the break-even values; a claim the published tables lack (or hold
    for another comparison under its id) is listed as not yet run."""
    claims = definition.parameters.claims
    table = _read(folder, "claims.csv")
    be = _read(folder, "breakeven.csv")
    rows = _current(table, definition)
    lines = []
    for c in claims:
        if c.kind != "claim":
            continue
        r = rows.get(c.id)
        if r is None:
            lines.append(f"- **`{c.id}`** ({c.published}): {c.reading}. *Not yet run: the published tables "
                         "predate this comparison.*")
            continue
        per = [f"{p} {_pct(r[f'share_{p}'])}" for p in ("instagram", "tiktok", "mix")
               if f"share_{p}" in r and r[f"share_{p}"] == r[f"share_{p}"] and p != r["platform"]]
        text = (f"- **`{c.id}`** ({c.published}): holds in **{_pct(r['share_holds'])}** "
                f"({_pct(r['share_low'])}-{_pct(r['share_high'])}) of the space on {r['platform']}"
                + (f" ({', '.join(per)})" if per else "") + f"; {r['verdict']}. {str(r['conditions']).capitalize()}.")
        extra = r.get("share_of_advantage", math.nan)
        if extra == extra and extra is not None:
            text += f" Share of the swarm's mean log advantage from re-sharing: {extra:.0%}."
        bes = _breakevens(be, c.id, r["platform"])
        if bes:
            text += f" Break-even: {bes}."
        lines.append(text)
    return "\n".join(lines)


def table(definition, folder: Path = TABLES) -> str:
    """A markdown table with one row per claim (and effect) and platform, from ``platforms.csv``."""
    claims = definition.parameters.claims
    current = _current(_read(folder, "claims.csv"), definition)
    plat = _read(folder, "platforms.csv")
    if plat is not None:
        plat = plat[plat.claim.isin(current)]
    be = _read(folder, "breakeven.csv")
    head = ("| claim | platform | holds in (95% CI) | median advantage ratio | verdict | conditions (PRIM) | "
            "top total Sobol indices | break-even (95% CI) |\n|---|---|---|---|---|---|---|---|")
    out = [head]
    for c in claims:
        mine = plat[plat.claim == c.id] if plat is not None else pd.DataFrame()
        if not len(mine):
            out.append(f"| `{c.id}` | | not yet run (the published tables predate this comparison) | | | | | |")
            continue
        for r in mine.itertuples():
            share = f"{_pct(r.share_holds)} ({_pct(r.share_low)}-{_pct(r.share_high)})"
            ratio = f"{r.median_ratio:.3g} [{r.median_low:.3g}, {r.median_high:.3g}]"
            bes = _breakevens(be, c.id, r.platform) or "none in range"
            out.append(f"| `{c.id}` | {r.platform} | {share} | {ratio} | {r.verdict} | {r.conditions} | "
                       f"{r.top_parameters} | {bes} |")
    return "\n".join(out)


def _replace(text: str, markers: tuple[str, str], body: str) -> str:
    begin, end = markers
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"markers {begin} ... {end} not found")
    return text[: i + len(begin)] + "\n" + body + "\n" + text[j:]


def rewritten(definition, folder: Path = TABLES, root: Path = ROOT) -> dict[Path, str]:
    """README.md and docs/calibration.md with their blocks written from the tables."""
    readme = root / "README.md"
    calib = root / "docs" / "calibration.md"
    return {readme: _replace(readme.read_text(), SUMMARY, summary(definition, folder)),
            calib: _replace(calib.read_text(), TABLE, table(definition, folder))}


def main(argv: list[str] | None = None) -> int:
    """Rewrite the blocks (or, with ``--check``, exit 1 where one is stale)."""
    parser = argparse.ArgumentParser(prog="python -m sim.experiments.claims_summary",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a block differs from the tables")
    args = parser.parse_args(argv)
    from sim.experiments import load_experiment

    stale = []
    for path, text in rewritten(load_experiment(DEFINITION)).items():
        if path.read_text() != text:
            stale.append(path)
            if not args.check:
                path.write_text(text)
    if args.check and stale:
        print("stale: " + ", ".join(str(p.relative_to(ROOT)) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
