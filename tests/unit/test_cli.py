"""The command line: bad input exits 2 with a one-line message and writes nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOOD = textwrap.dedent("""\
    name: tiny
    seed: 3
    trials: 40
    world:
      graph: {kind: erdos_renyi, n: 300, mean_degree: 3.0}
    model: {kind: independent_cascade, edge_prob: 0.3}
    recruits: {rule: random, count: 2}
    """)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("edge_prob: 0.3", "edgeprob: 0.3", 6),                       # typo'd key
        ("edge_prob: 0.3", "edge_prob: 1.5", 6),                      # probability of 1.5
        ("{kind: erdos_renyi, n: 300, mean_degree: 3.0}",
         "{kind: edgelist, path: missing.txt, directed: true}", 5),   # missing edge-list file
        ("trials: 40", "trials: -40", 3),                             # negative trial count
    ],
)
def test_bad_input_exit_2_one_line_nothing_written(tmp_path, capsys, old, new, line):
    scenario = write(tmp_path, GOOD.replace(old, new))
    out = tmp_path / "out"
    assert main([str(scenario), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{scenario}:{line}: ")
    assert not out.exists()


def test_negative_trials_on_command_line(tmp_path, capsys):
    scenario = write(tmp_path, GOOD)
    with pytest.raises(SystemExit) as info:
        main([str(scenario), "--trials", "-5", "--out", str(tmp_path / "out")])
    assert info.value.code == 2
    assert "--trials: must be a whole number >= 1 (got -5)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_recruit_not_in_graph_is_bad_input(tmp_path, capsys):
    scenario = write(tmp_path, GOOD.replace("{rule: random, count: 2}", "{rule: explicit, nodes: [1, 99999]}"))
    assert main([str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{scenario}:7: recruits.nodes.1: account 99999 is not in the graph" in err
    assert not (tmp_path / "out").exists()


def test_check_only_validates(tmp_path, capsys):
    scenario = write(tmp_path, GOOD)
    assert main([str(scenario), "--check", "--out", str(tmp_path / "out")]) == 0
    assert "valid" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_run_writes_results_folder(tmp_path):
    scenario = write(tmp_path, GOOD)
    assert main([str(scenario), "--out", str(tmp_path / "out"), "--quiet", "--trials", "30"]) == 0
    folder = tmp_path / "out" / "tiny"
    table = pd.read_parquet(folder / "runs.parquet")
    assert list(table.columns) == ["strategy", "trial", "adopted", "adopted_fraction", "steps"]
    assert table["trial"].tolist() == list(range(30))
    assert (table["adopted"] >= 2).all() and (table["adopted"] <= 300).all()
    summary = pd.read_csv(folder / "summary.csv")
    mean = summary.query("outcome == 'adopted'")["mean"].item()
    assert mean == pytest.approx(table["adopted"].mean())
    assert (folder / "figures" / "final_size.png").stat().st_size > 1000
    assert not (folder / ".incoming").exists()


def test_other_scenario_in_folder_is_refused(tmp_path, capsys):
    scenario = write(tmp_path, GOOD)
    out = tmp_path / "out"
    assert main([str(scenario), "--out", str(out), "--quiet"]) == 0
    assert main([str(scenario), "--out", str(out), "--quiet", "--seed", "4"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([str(scenario), "--out", str(out), "--quiet", "--seed", "4", "--overwrite"]) == 0


def test_run_experiment_script(tmp_path):
    """The thin script exits with main's status."""
    scenario = write(tmp_path, GOOD.replace("trials: 40", "trials: 0"))
    proc = subprocess.run([sys.executable, str(ROOT / "run_experiment.py"), str(scenario), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"{scenario}:3: trials:")


def test_mesa_engine_gives_the_same_table(tmp_path):
    """--engine mesa runs the agent model; keyed randomness makes its table identical to numba's."""
    scenario = write(tmp_path, GOOD)
    assert main([str(scenario), "--out", str(tmp_path / "a"), "--quiet", "--trials", "12"]) == 0
    assert main([str(scenario), "--out", str(tmp_path / "b"), "--quiet", "--trials", "12", "--engine", "mesa"]) == 0
    a = pd.read_parquet(tmp_path / "a" / "tiny" / "runs.parquet")
    b = pd.read_parquet(tmp_path / "b" / "tiny" / "runs.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_rerun_into_a_finished_folder_says_it_resumed(tmp_path, capsys):
    scenario = write(tmp_path, GOOD)
    out = tmp_path / "out"
    assert main([str(scenario), "--out", str(out), "--quiet"]) == 0
    assert "resumed" not in capsys.readouterr().err
    assert main([str(scenario), "--out", str(out), "--quiet"]) == 0
    assert "held 1 of 1 finished chunks" in capsys.readouterr().err


def test_check_refuses_a_grid_budget_that_buys_nobody(tmp_path, capsys):
    """--check runs the budget feasibility check: no world is built, and the problem is located."""
    import yaml

    data = yaml.safe_load((ROOT / "scenarios" / "budget_sweep.yaml").read_text())
    data["strategy_grid"]["budgets"] = [20000, 150000]
    data["baseline"] = "celebrity.burst.150k"
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main([str(path), "--check", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err and all(line.startswith(f"{path}:") for line in err)
    assert any("strategy_grid.mixes.hybrid.mega.instagram: strategy hybrid.burst.20k: a budget of $13,000 buys no "
               "partner" in line for line in err), err
    assert not (tmp_path / "out").exists()


def test_help_lists_the_commands():
    """`--help` names every command; each has its own help; none inspects a file to be chosen."""
    out = subprocess.run([sys.executable, "run_experiment.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("run", "reproduce", "calibrate", "optimize"):
        assert f"    {command}" in out.stdout, out.stdout
        sub = subprocess.run([sys.executable, "run_experiment.py", command, "--help"], cwd=ROOT,
                             capture_output=True, text=True)
        assert sub.returncode == 0 and f"run_experiment.py {command}" in sub.stdout


def test_run_is_the_default_command(tmp_path, capsys):
    scenario = write(tmp_path, GOOD)
    assert main(["run", str(scenario), "--check", "--out", str(tmp_path / "a")]) == 0
    assert main([str(scenario), "--check", "--out", str(tmp_path / "a")]) == 0
    assert main(["--check", str(scenario), "--out", str(tmp_path / "a")]) == 0  # an option first: still `run`
    assert capsys.readouterr().out.count("valid") == 3


def test_options_of_the_other_kind_of_file_are_refused(tmp_path, capsys):
    scenario = write(tmp_path, GOOD)
    assert main([str(scenario), "--quick", "--out", str(tmp_path / "out")]) == 2
    assert "--quick: options of experiment definitions" in capsys.readouterr().err
    definition = ROOT / "experiments" / "e8_granovetter.yaml"
    assert main([str(definition), "--trials", "3", "--out", str(tmp_path / "out")]) == 2
    assert "--trials: options of scenarios" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_engine_the_model_lacks_exits_2_located(tmp_path, capsys):
    # No family has a 'tpu' engine (the classic models now have cuda; its refusals, a GPU-less
    # machine and the campaign family, are tested in tests/gpu/test_cuda_engine.py).
    scenario = write(tmp_path, GOOD + "engine: tpu\n")
    assert main([str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"{scenario}:8: engine: no engine 'tpu' runs the classic models (engines: numba, mesa, cuda)"
    assert main([str(scenario), "--check"]) == 2
    assert not (tmp_path / "out").exists()
