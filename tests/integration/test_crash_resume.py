"""kill -9 in the middle of a sweep, twice, then resume: the same table as an uninterrupted run,
no trial lost or repeated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sweep_world import write

from sim import load_scenario, run
from sim.execution.store import RunStore

ROOT = Path(__file__).resolve().parents[2]


def start(scenario: str, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "run_experiment.py"), scenario, "--out", str(out),
                             "--executor", "serial", "--quiet", *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_after(proc: subprocess.Popen, store: RunStore, parts: int, timeout: float = 120.0) -> int:
    """SIGKILL ``proc`` once at least ``parts`` more runs parts are on disk; return how many there are."""
    before = len(store.finished())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(store.finished()) >= before + parts:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return len(store.finished())
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be killed: {proc.stderr.read()[-2000:]}")
        time.sleep(0.005)
    proc.kill()
    pytest.fail("no progress within the timeout")


def test_killed_sweep_resumes_to_the_uninterrupted_table(tmp_path):
    # 8 points x 12 strategies x 2 chunks = 192 chunks of 64 trials: a few seconds of work.
    path = write(tmp_path, sweep={"uncertainties": [
        {"path": "model.trust_growth", "name": "trust_growth",
         "levels": [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35]}]})
    scenario = load_scenario(path)
    reference = run(scenario)  # uninterrupted, in memory
    total = 8 * 12 * 2
    out = tmp_path / "runs"
    store = RunStore(out / scenario.name)

    first = kill_after(start(path, out), store, parts=15)
    assert first < total
    assert store.read_manifest()["status"] == "running"
    assert not any((store.folder / "runs.parquet").glob("*.tmp")), "a temporary file inside the parts folder"
    second = kill_after(start(path, out, "--resume"), store, parts=30)
    assert first < second < total

    done = start(path, out, "--resume")
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert f"resumed: {out / scenario.name} held {second} of {total} finished chunks" in err
    manifest = store.read_manifest()
    assert manifest["status"] == "complete" and manifest["chunks"] == {"total": total, "resumed": second}

    table = pd.read_parquet(out / scenario.name / "runs.parquet")
    assert len(table) == len(reference.table) and not table.duplicated(["point", "strategy", "trial"]).any()
    table = table.sort_values(["point", "strategy", "trial"], key=lambda c: c.map(
        {n: i for i, n in enumerate(reference.strategies)}) if c.name == "strategy" else c).reset_index(drop=True)
    pd.testing.assert_frame_equal(table, reference.table.astype(table.dtypes.to_dict()), check_dtype=False)
    resumed = pd.read_csv(out / scenario.name / "summary.csv")
    fresh = reference.summary()
    pd.testing.assert_frame_equal(resumed, fresh, check_dtype=False)


def test_resume_of_another_scenario_is_refused(tmp_path):
    path = write(tmp_path, trials=64)
    out = tmp_path / "runs"
    assert start(path, out).wait(timeout=300) == 0
    other = write(tmp_path, trials=64, seed=10)
    proc = start(other, out, "--resume")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "--resume" in err and "another scenario's results" in err


def test_kills_at_random_moments_then_resume_give_the_same_table(tmp_path):
    """SIGKILL at four seeded-random moments (during start-up, world building, chunks or the
    reports), resuming each time; then the table and summary equal an uninterrupted run's."""
    import numpy as np

    path = write(tmp_path, sweep={"uncertainties": [
        {"path": "model.trust_growth", "name": "trust_growth", "levels": [0.0, 0.1, 0.2, 0.3]}]})
    scenario = load_scenario(path)
    reference = run(scenario)
    out = tmp_path / "runs"
    store = RunStore(out / scenario.name)
    delays = np.random.default_rng(2026).uniform(0.5, 6.0, size=4)
    for delay in delays:
        proc = start(path, out)
        try:
            proc.wait(timeout=float(delay))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        parts = store.finished()
        assert len(parts) == len(set(parts)) <= 4 * 12 * 2
        assert not any((store.folder / "runs.parquet").glob("*.tmp"))
    done = start(path, out, "--resume")
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    table = pd.read_parquet(out / scenario.name / "runs.parquet")
    assert not table.duplicated(["point", "strategy", "trial"]).any()
    pd.testing.assert_frame_equal(table, reference.table.astype(table.dtypes.to_dict()), check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(out / scenario.name / "summary.csv"), reference.summary(),
                                  check_dtype=False)
