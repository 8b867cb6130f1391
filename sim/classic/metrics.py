"""Classic-model outcomes as a table: one row per (strategy, trial)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from sim.families.chunks import ChunkTables, strategy_column

#: Bytes per row of the trial table while it is held: eight per column of :func:`classic_tables`.
ROW_BYTES = 5 * 8


def classic_tables(names: Sequence[str], strategy: int, trials: np.ndarray, adopted: np.ndarray,
                   steps: np.ndarray, accounts: int) -> ChunkTables:
    """One chunk's trial table for strategy number ``strategy`` of ``names``.

    Parameters
    ----------
    trials : int64 array
        Trial numbers of the chunk.
    adopted, steps : int arrays
        Final active accounts (recruits included) and step of the last activation, per trial.
    accounts : int
        Accounts in the world (for ``adopted_fraction``).
    """
    return ChunkTables(pa.table({
        "strategy": strategy_column(names, strategy, len(trials)),
        "trial": trials,
        "adopted": adopted,
        "adopted_fraction": adopted / accounts,
        "steps": steps,
    }))
