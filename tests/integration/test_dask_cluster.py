"""--scheduler: the same command on an existing Dask cluster (here one on loopback, found through
its scheduler file) gives the table of the local pool."""

from __future__ import annotations

import json

import pandas as pd
from distributed import LocalCluster
from sweep_world import write

from sim.cli import main


def test_existing_cluster_through_a_scheduler_file_gives_the_local_table(tmp_path):
    path = write(tmp_path, trials=64)
    assert main([path, "--out", str(tmp_path / "local"), "--executor", "local", "--workers", "2", "--quiet"]) == 0
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        file = tmp_path / "scheduler.json"
        file.write_text(json.dumps({"address": cluster.scheduler_address}))
        assert main([path, "--out", str(tmp_path / "cluster"), "--scheduler", str(file), "--quiet"]) == 0
        manifest = json.loads((tmp_path / "cluster" / "small_sweep" / "manifest.json").read_text())
        assert manifest["executor"].startswith(f"dask cluster at {cluster.scheduler_address}")
    a = pd.read_parquet(tmp_path / "local" / "small_sweep" / "runs.parquet")
    b = pd.read_parquet(tmp_path / "cluster" / "small_sweep" / "runs.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_scheduler_options_are_checked(tmp_path, capsys):
    path = write(tmp_path, trials=64)
    assert main([path, "--executor", "local", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path)]) == 2
    assert "--scheduler needs --executor dask" in capsys.readouterr().err
    assert main([path, "--dashboard", "--out", str(tmp_path)]) == 2
    assert "--dashboard is for the embedded dask cluster" in capsys.readouterr().err
    assert not (tmp_path / "small_sweep").exists()
