"""report.html renders in headless Chromium: every figure decodes, every table has rows, no script error."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sweep_world import write

from sim import load_scenario, run

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# CI installs Chromium (.ci/run) and sets this, so there a missing browser fails instead of skipping.
REQUIRED = os.environ.get("ADVOCACY_SIM_REQUIRE_BROWSER") == "1"

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium(*args: str, profile: Path) -> str:
    if BROWSER is None:
        if REQUIRED:
            pytest.fail("Chromium is required (apt-get install chromium) and was not found")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    out = subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    results = run(load_scenario(write(folder, trials=40)), out=folder / "small_sweep")
    assert results.is_sweep
    return folder / "small_sweep" / "report.html"


def test_report_renders_its_figures_and_tables_without_errors(report, tmp_path):
    dom = chromium("--dump-dom", report.as_uri(), profile=tmp_path / "profile")
    body = re.search(r"<body([^>]*)>", dom).group(1)
    check = re.search(r'data-render-check="([^"]*)"', body)
    assert check is not None, "the page's check script did not run"
    assert check.group(1) == "ok", check.group(1)
    assert int(re.search(r"data-figures=\"(\d+)\"", body).group(1)) == 4  # frontier, time, funnel, sizes
    assert int(re.search(r'data-tables="(\d+)"', body).group(1)) >= 2   # one strategy table per point
    for name in ("celebrity.burst.10k", "micro.weekly.20k", "nano.burst.20k", "trust_growth = 0.2"):
        assert name in dom
    assert 'class="frontier"' in dom  # the Pareto frontier is marked
    assert "http://" not in dom.split("<h2>Manifest</h2>")[0] and "https://" not in dom.split("<h2>Manifest")[0]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    chromium("--window-size=1280,2400", f"--screenshot={shot}", report.as_uri(), profile=tmp_path / "profile2")
    assert shot.stat().st_size > 50_000  # a page of text, tables and figures, not a blank one


def test_a_broken_figure_is_caught_by_the_check(report, tmp_path):
    """The check can fail: the same page with one figure's data cut short reports it."""
    text = report.read_text()
    broken = tmp_path / "broken.html"
    broken.write_text(text.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1))
    dom = chromium("--dump-dom", broken.as_uri(), profile=tmp_path / "profile")
    assert re.search(r'data-render-check="failed: figure', dom)
