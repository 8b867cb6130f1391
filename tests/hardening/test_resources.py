"""Resource guards and a full disk: refused up front with the estimate and the limit, or ended with
a clear message and every finished part intact."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import sim.execution.prepare as prepare_module
import sim.execution.runner as runner
import sim.execution.store as store_module
from sim import load_scenario, run
from sim.cli import main
from sim.execution.store import RunStore
from sim.input.scenario import ScenarioError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from sweep_world import write  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_max_memory_refuses_a_world_that_would_not_fit(tmp_path, capsys):
    quick = ROOT / "scenarios" / "quickstart.yaml"
    assert main([str(quick), "--max-memory", "1M", "--out", str(tmp_path), "--quiet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"{quick}:") and ": world: this world needs about" in line
    assert "limit is 1.0 MiB" in line and "--max-memory" in line
    assert not (tmp_path / "quickstart").exists()


def test_result_tables_too_large_for_the_limit_are_refused_before_running(tmp_path):
    from sim.families.registry import family_of
    from sim.world import footprint

    s = load_scenario(write(tmp_path, trials=4096))
    world = footprint.estimate(s.world, 1, family_of(s).scratch_slots(s)).peak_bytes
    assert world < 60 * 2**20  # the world fits in the limit below; 4,096 trials' tables do not
    with pytest.raises(ScenarioError) as err:
        run(s, max_memory=60 * 2**20, executor=runner.ExecutorSpec(runner.ExecutorKind.SERIAL), out=tmp_path / "r")
    (line,) = err.value.problems
    assert ": trials: the result tables (" in line and "limit is" in line
    assert not (tmp_path / "r").exists()


def test_output_larger_than_the_free_disk_is_refused(tmp_path, monkeypatch):
    s = load_scenario(write(tmp_path, trials=64))
    monkeypatch.setattr(runner.shutil, "disk_usage", lambda p: type("U", (), {"free": 10_000})())
    with pytest.raises(ScenarioError, match="on disk, but the output folder's disk has"):
        run(s, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_a_full_disk_ends_the_run_clearly_and_keeps_finished_parts(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, trials=128)
    out = tmp_path / "runs"
    real = store_module.pq.write_table
    calls = {"n": 0}

    def filling(table, where, *a, **k):
        calls["n"] += 1
        if calls["n"] > 30:  # the disk fills after 30 part files
            Path(where).write_bytes(b"PAR1 half")
            raise OSError(errno.ENOSPC, "No space left on device", str(where))
        return real(table, where, *a, **k)

    monkeypatch.setattr(store_module.pq, "write_table", filling)
    assert main([path, "--out", str(out), "--executor", "serial", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "could not write the results: No space left on device" in err and "rerun the command to resume" in err
    folder = out / "small_sweep"
    store = RunStore(folder)
    done = store.finished()
    assert 0 < len(done) < 96
    assert not list((folder / ".incoming").glob("*")), "no half-written temporary left behind"
    for name in ("runs", "timeseries", "partners", "segments"):  # every part on disk reads whole
        for part in (folder / f"{name}.parquet").glob("part-*.parquet"):
            pq.read_table(part)
    monkeypatch.setattr(store_module.pq, "write_table", real)
    assert main([path, "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    resumed = pd.read_parquet(folder / "runs.parquet")
    reference = run(load_scenario(path)).table
    assert len(resumed) == len(reference) and not resumed.duplicated(["point", "strategy", "trial"]).any()


def test_points_that_differ_only_in_trust_build_one_world_in_a_run(tmp_path, monkeypatch):
    built = []
    real = prepare_module.build_world
    monkeypatch.setattr(prepare_module, "build_world", lambda spec, seed: built.append(seed) or real(spec, seed))
    run(load_scenario(write(tmp_path, trials=8)))  # two points of trust_growth: one world
    assert len(built) == 1
