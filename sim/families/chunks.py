"""The tables of one chunk of trials, as the kernels' tabulators hand them to the runner.

A chunk is a range of trials of one strategy (at one sweep point); its tables travel from
whoever computed them (a thread, a process, a Dask worker) to the run folder and the
gathered results, as Arrow tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass(frozen=True, eq=False)
class ChunkTables:
    """Tables of one chunk of trials; ``runs`` is always there, the others for campaigns.

    Arrow tables: a chunk's columns are the kernel's arrays without a copy, and the runner
    turns the gathered chunks into pandas once (a pandas frame per chunk and table cost
    milliseconds, as much as a small chunk's trials).
    """

    runs: pa.Table
    timeseries: pa.Table | None = None
    partners: pa.Table | None = None
    segments: pa.Table | None = None

    def named(self) -> list[tuple[str, pa.Table]]:
        """(table name, table) pairs present, with ``runs`` last (it marks the chunk finished)."""
        extra = [(n, t) for n, t in (("timeseries", self.timeseries), ("partners", self.partners),
                                     ("segments", self.segments)) if t is not None]
        return [*extra, ("runs", self.runs)]


def strategy_column(names: Sequence[str], strategy: int, rows: int) -> pa.DictionaryArray:
    """A chunk's ``strategy`` column: strategy number ``strategy`` of ``names``, dictionary-encoded.

    The runner orders and labels the gathered tables from the codes; a Python string per
    row cost ~0.25 µs a row to build, hash and cast, as much as a cheap trial's kernel.
    """
    return pa.DictionaryArray.from_arrays(np.full(rows, strategy, np.int32), pa.array(list(names), pa.string()))
