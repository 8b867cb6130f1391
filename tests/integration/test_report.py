"""report.html renders in headless Chromium: every figure decodes, every table has rows, no script error."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from sweep_world import SCENARIO, write

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
    # A world that does not saturate (every strategy would reach everyone at the shared threshold), and
    # a budget the 20k strategies exceed.
    model = {**SCENARIO["model"], "threshold": {"max": 6.0, "interest_effect": 0.5}, "reshare": 0.02}
    results = run(load_scenario(write(folder, trials=40, model=model, budget=15000.0)), out=folder / "small_sweep")
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


def test_the_answer_comes_first_and_names_the_top_of_the_table_and_of_strategies_csv(report, tmp_path):
    """At 1,280 px: the answer starts on the first screen, names the strategy at the top of the sorted
    table and of strategies.csv, and the table's key columns are all visible without scrolling."""
    from sim.report.answer import KEY_COLUMNS

    dom = chromium("--window-size=1280,900", "--dump-dom", report.as_uri(), profile=tmp_path / "profile")
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert re.search(r'data-render-check="ok"', body), body
    visible = re.search(r'data-visible-columns="([^"]*)"', body).group(1).split()
    assert set(KEY_COLUMNS) <= set(visible), (KEY_COLUMNS, visible)
    assert int(re.search(r'data-answer-top="(-?\d+)"', body).group(1)) < 900  # on the first screen
    answer = re.search(r'<section id="answer"[^>]*>(.*?)</section>', dom, re.S).group(1)
    pick = re.search(r'<strong class="pick">([^<]+)</strong>', answer).group(1)
    top = re.search(r'<table id="decision-table">.*?<tbody><tr[^>]*><td>([^<]+)</td>', dom, re.S).group(1)
    table = pd.read_csv(report.parent / "strategies.csv")
    assert {"p_best", "regret_mean", "regret_max", "adopters_p10", "adopters_p50", "adopters_p90"} <= set(table.columns)
    assert pick == top == table.iloc[0]["strategy"] and table.iloc[0]["rank"] == 1
    # Independently of the decision code: the most sign-ups on average over the (equally weighted)
    # points, from the trial table itself.
    runs = pd.read_parquet(report.parent / "runs.parquet")
    affordable = runs[runs.groupby("strategy")["cost"].transform("max") <= 15000]
    assert affordable.groupby("strategy")["adopted"].mean().idxmax() == pick
    assert 'class="over"' in dom  # the 20k strategies, shown greyed below
    assert dom.index('id="answer"') < dom.index('id="decision-table"') < dom.index("<details")


def test_a_broken_figure_is_caught_by_the_check(report, tmp_path):
    """The check can fail: the same page with one figure's data cut short reports it."""
    text = report.read_text()
    broken = tmp_path / "broken.html"
    broken.write_text(text.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1))
    dom = chromium("--dump-dom", broken.as_uri(), profile=tmp_path / "profile")
    assert re.search(r'data-render-check="failed: figure', dom)
