"""Where chunks of work run: in this process, on a local pool, or on a Dask cluster.

Every executor runs the same task functions on the same task descriptions, and a task's
result depends only on its description (all randomness is keyed, :mod:`sim.base.rng`), so tables
are bit-identical whichever executor runs them and with any number of workers.

* ``serial``: one task after another in this process (debugging, tests, tiny runs).
* ``local``: a thread pool of this process, one thread per core by default. The kernels release
  the GIL, and threads share one copy of the world, which processes would each rebuild.
* ``dask``: a Dask cluster (``dask.distributed``). Without a scheduler address, an embedded
  ``LocalCluster`` of one single-threaded worker process per core, listening on loopback only,
  its dashboard off unless asked for; with ``scheduler`` (``tcp://host:8786`` or the path of a
  scheduler file), an existing cluster whose workers have this package installed.

Use an executor as a context manager; :meth:`Executor.map` has the signature SciPy's
optimisers expect of ``workers=`` (``differential_evolution(..., workers=ex.map)``).
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class ExecutorKind(StrEnum):
    """How tasks are run (see the module docstring)."""

    SERIAL = "serial"
    LOCAL = "local"
    DASK = "dask"


def machine_cores() -> int:
    """Cores this process may use (its CPU affinity where the OS tells it, else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor to open, and how.

    Attributes
    ----------
    kind : ExecutorKind
        ``serial``, ``local`` (the default) or ``dask``.
    workers : int or None
        Threads (``local``) or worker processes (embedded Dask cluster); None: one per core.
        Ignored by ``serial`` and by an existing Dask cluster.
    scheduler : str or None
        ``dask`` only: address of an existing scheduler (``tcp://10.0.0.5:8786``) or path of
        its scheduler file (``dask scheduler --scheduler-file FILE``). None: start a local cluster.
    dashboard : bool
        ``dask`` only: serve the embedded cluster's dashboard (on ``host``, port 8787).
    host : str
        Interface the embedded cluster's scheduler, workers and dashboard listen on; loopback
        unless told otherwise.
    """

    kind: ExecutorKind = ExecutorKind.LOCAL
    workers: int | None = None
    scheduler: str | None = None
    dashboard: bool = False
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.scheduler is not None and self.kind is not ExecutorKind.DASK:
            raise ValueError("a scheduler address only makes sense with the dask executor")

    def open(self) -> Executor:
        """Start the executor this spec describes (use the result as a context manager)."""
        if self.kind is ExecutorKind.SERIAL:
            return SerialExecutor()
        if self.kind is ExecutorKind.LOCAL:
            return LocalExecutor(self.workers or machine_cores())
        return DaskExecutor(self)


class Executor(ABC):
    """Runs ``fn(item)`` for many items; results come back with the item's position.

    Attributes
    ----------
    workers : int
        How many tasks run at once (for chunk sizing and messages).
    description : str
        One line for logs and manifests, e.g. ``"local pool, 2 threads"``.
    """

    workers: int
    description: str

    @abstractmethod
    def as_completed(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[int, Any]]:
        """``(position, fn(item))`` pairs in the order tasks finish.

        A task that raises stops the iteration with its exception after the results that
        finished before it were yielded (so a caller that writes each result as it arrives
        loses nothing); tasks not yet started are cancelled.
        """

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """``[fn(item) for item in items]``, computed on the executor, in order."""
        items = list(items)
        out: list[Any] = [None] * len(items)
        for i, result in self.as_completed(fn, items):
            out[i] = result
        return out

    def close(self) -> None:  # noqa: B027 -- an optional hook: executors without workers keep the no-op
        """Release workers and connections (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """Every task in this process, one after another, in order."""

    workers = 1
    description = "serial (this process)"

    def as_completed(self, fn, items):  # noqa: D102
        for i, item in enumerate(items):
            yield i, fn(item)


class LocalExecutor(Executor):
    """A thread pool in this process (the kernels release the GIL)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.description = f"local pool, {workers} thread{'s' if workers > 1 else ''}"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="advocacy-sim")

    def as_completed(self, fn, items):  # noqa: D102
        # At most a few tasks per thread in flight: results are yielded (and written) as they
        # finish, and a failure stops the run without computing everything queued behind it.
        pending: dict[Future, int] = {}
        todo = iter(enumerate(items))
        try:
            while True:
                while len(pending) < 2 * self.workers:
                    nxt = next(todo, None)
                    if nxt is None:
                        break
                    pending[self._pool.submit(fn, nxt[1])] = nxt[0]
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=pending.get):
                    i = pending.pop(fut)
                    yield i, fut.result()
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:  # noqa: D102
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: an embedded ``LocalCluster`` or an existing one."""

    def __init__(self, spec: ExecutorSpec) -> None:
        from distributed import Client, LocalCluster

        self._cluster = None
        if spec.scheduler is not None:
            where = Path(spec.scheduler)
            if where.suffix == ".json" or where.is_file():
                if not where.is_file():
                    raise FileNotFoundError(f"no Dask scheduler file at {where}")
                self._client = Client(scheduler_file=str(where), timeout="20s")
            else:
                self._client = Client(spec.scheduler, timeout="20s")
            self.workers = max(1, sum(w.get("nthreads", 1) for w in
                                      self._client.scheduler_info()["workers"].values()))
            self.description = f"dask cluster at {self._client.scheduler.address}, {self.workers} worker threads"
        else:
            n = spec.workers or machine_cores()
            if spec.dashboard:
                try:
                    import bokeh  # noqa: F401
                except ImportError:
                    raise RuntimeError(
                        "the Dask dashboard needs bokeh: pip install 'advocacy-sim[dashboard]'") from None
            # The scheduler serves HTTP (health, metrics) even without a dashboard; without an
            # address it would take port 8787, so give it the loopback host and a free port.
            self._cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host=spec.host,
                dashboard_address=f"{spec.host}:8787" if spec.dashboard else None,
                scheduler_kwargs=None if spec.dashboard else {"dashboard_address": f"{spec.host}:0"},
                silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
            self.workers = n
            self.description = f"embedded dask cluster, {n} worker processes on {spec.host}"
            if spec.dashboard:
                self.description += f", dashboard {self._client.dashboard_link}"

    @property
    def client(self):
        """The ``distributed.Client`` (for callers that need more than map)."""
        return self._client

    def as_completed(self, fn, items):  # noqa: D102
        from distributed import as_completed

        futures = self._client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures):
                yield index[fut.key], fut.result()
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:  # noqa: D102
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
