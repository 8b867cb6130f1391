"""Executors: the same results in the same positions, failures surfaced after finished work."""

from __future__ import annotations

import math

import pytest

from sim.execution.executor import ExecutorKind, ExecutorSpec, LocalExecutor, machine_cores


@pytest.mark.parametrize("kind", [ExecutorKind.SERIAL, ExecutorKind.LOCAL])
def test_map_keeps_order(kind):
    items = list(range(200))
    with ExecutorSpec(kind, workers=2).open() as ex:
        assert ex.map(math.factorial, items) == [math.factorial(i) for i in items]


def test_local_yields_finished_results_before_a_failure():
    got = []
    with LocalExecutor(2) as ex, pytest.raises(ValueError):
        for i, r in ex.as_completed(math.sqrt, [4.0, 9.0, 16.0, -1.0, 25.0]):
            got.append((i, r))
    assert {(0, 2.0), (1, 3.0), (2, 4.0)} <= set(got)
    assert all(i != 3 for i, _ in got)


def test_dask_local_cluster_listens_on_loopback_without_dashboard():
    spec = ExecutorSpec(ExecutorKind.DASK, workers=2)
    with spec.open() as ex:
        assert ex.workers == 2
        assert ex.map(math.factorial, range(30)) == [math.factorial(i) for i in range(30)]
        info = ex.client.scheduler_info()
        assert ex.client.scheduler.address.startswith("tcp://127.0.0.1:")
        assert all(w.startswith("tcp://127.0.0.1:") for w in info["workers"])
        http = ex.client.run_on_scheduler(
            lambda dask_scheduler: [s.getsockname()[0] for s in dask_scheduler.http_server._sockets.values()])
        assert http and set(http) == {"127.0.0.1"}  # health/metrics endpoint on loopback too
        with pytest.raises(ValueError):
            ex.map(math.sqrt, [1.0, -1.0])


def test_bad_specs_are_refused():
    with pytest.raises(ValueError):
        ExecutorSpec(ExecutorKind.LOCAL, workers=0)
    with pytest.raises(ValueError):
        ExecutorSpec(ExecutorKind.LOCAL, scheduler="tcp://127.0.0.1:8786")
    assert machine_cores() >= 1
