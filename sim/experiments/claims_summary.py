"""Command: the claims audit's published tables as prose in the README and docs/calibration.md §7.

A full run of the audit (``python run_experiment.py experiments/source_claims.yaml``) publishes
its tables to ``docs/source_claims/`` (``claims.csv``, ``platforms.csv``, ``breakeven.csv``).
The README and docs/calibration.md quote them between marker comments
(``<!-- claims-summary:begin -->`` ... ``<!-- claims-summary:end -->`` and ``<!-- claims-table:begin
-->`` ... ``<!-- claims-table:end -->``); this command writes those blocks from the tables (the writer is
:func:`sim.experiments.claims.rewritten`), so no
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
import sys


def main(argv: list[str] | None = None) -> int:
    """Rewrite the blocks (or, with ``--check``, exit 1 where one is stale)."""
    parser = argparse.ArgumentParser(prog="python -m sim.experiments.claims_summary",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a block differs from the tables")
    args = parser.parse_args(argv)
    from sim.base.files import atomic_text
    from sim.experiments import load_experiment
    from sim.experiments.claims import DEFINITION, ROOT, rewritten

    stale = []
    for path, text in rewritten(load_experiment(DEFINITION)).items():
        if path.read_text() != text:
            stale.append(path)
            if not args.check:
                atomic_text(path, text)
    if args.check and stale:
        print("stale: " + ", ".join(str(p.relative_to(ROOT)) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
