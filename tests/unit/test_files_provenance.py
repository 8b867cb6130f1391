"""Atomic writes leave the old file or the new one, never half of one nor a temporary; provenance
names the checkout's commit and the versions in use."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest

from sim.base.files import atomic_text, atomic_write
from sim.base.provenance import REPO, git_commit, package_versions, provenance


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out" / "table.csv"
    assert atomic_text(target, "a,b\n1,2\n") == target
    assert target.read_text() == "a,b\n1,2\n"
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new"))
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    target = tmp_path / "manifest.json"
    target.write_text("old")

    def half_then_crash(tmp):
        tmp.write_text("half of the new")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_atomic_write_through_a_scratch_folder(tmp_path):
    scratch = tmp_path / ".incoming"
    parts = tmp_path / "runs.parquet"
    atomic_write(parts / "part-0.parquet", lambda tmp: tmp.write_text("x"), scratch)
    atomic_write(tmp_path / "part-0.parquet", lambda tmp: tmp.write_text("y"), scratch)  # same name, other folder
    assert (parts / "part-0.parquet").read_text() == "x" and (tmp_path / "part-0.parquet").read_text() == "y"
    assert list(parts.iterdir()) == [parts / "part-0.parquet"] and list(scratch.iterdir()) == []


def test_git_commit_is_the_checkouts_head(tmp_path):
    head = subprocess.run(["git", "log", "-1", "--format=%H"], cwd=REPO, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    assert git_commit() == head.stdout.strip()
    assert git_commit(tmp_path) is None  # outside any repository


def test_provenance_records_versions_and_command():
    p = provenance().as_dict()
    assert p["python"] == sys.version.split()[0]
    assert p["packages"]["numpy"] == np.__version__ == metadata.version("numpy")
    assert dict(package_versions())["numba"] == metadata.version("numba")
    assert p["command"] == sys.argv and set(p["machine"]) == {"platform", "processor"}
