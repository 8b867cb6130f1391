"""The library's entry points: run a scenario and get :class:`~sim.results.Results` (and a results folder).

:func:`run` is the execution stage's :func:`~sim.execution.runner.execute`, its tables turned into
:class:`~sim.results.Results`, and (with ``out``) the report stage's files written into the
folder. Calibrations, reproductions and the command line run scenarios through here.
"""

from __future__ import annotations

from pathlib import Path

from sim.execution.executor import ExecutorSpec
from sim.execution.runner import execute
from sim.execution.store import RunStore
from sim.input.scenario import Scenario
from sim.report.writer import save, write_reports
from sim.results.data import Results

__all__ = ["run", "save"]


def run(
    scenario: Scenario,
    *,
    trials: int | None = None,
    seed: int | None = None,
    engine: str | None = None,
    workers: int = 1,
    executor: ExecutorSpec | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = False,
    max_memory: int | None = None,
) -> Results:
    """Run every strategy of a scenario for its trials, at every point of its sweep.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`sim.load_scenario`).
    trials, seed : int, optional
        Override the scenario's trial count and root seed.
    engine : str, optional
        Override the scenario's engine (``numba``, ``mesa``: the model family's engines all give
        the same table).
    workers : int
        Without ``executor``: 1 runs chunks in this thread, more on a local pool of that many
        threads (the kernel releases the GIL).
    executor : ExecutorSpec, optional
        Where chunks run (:mod:`sim.execution.executor`: serial, a local pool, a Dask cluster).
        The table does not depend on it, nor on the number of workers.
    out : path, optional
        Run folder to checkpoint into (``<out>`` itself, e.g. ``results/<name>``), and to write the
        report into at the end. A folder holding a killed run of the same scenario is resumed;
        finished chunks are not recomputed.
    overwrite : bool
        Replace an ``out`` folder that holds another scenario's results.
    progress : bool
        Show a progress bar.
    max_memory : int, optional
        Bytes the run may use (default: 90% of the memory available when it starts). Worlds and
        result tables that would not fit are refused before anything runs.

    Returns
    -------
    Results
        The tables, their statistics and the run's provenance.

    Raises
    ------
    ScenarioError
        If the scenario cannot be run (located problems); nothing is written.
    """
    results = Results.of(execute(scenario, trials=trials, seed=seed, engine=engine, workers=workers,
                                 executor=executor, out=out, overwrite=overwrite, progress=progress,
                                 max_memory=max_memory))
    if out is not None:
        write_reports(RunStore(out), results)
    return results
