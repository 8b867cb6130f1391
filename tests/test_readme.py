"""The README's two commands stay true: CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_exactly_two_commands():
    run_cmd, test_cmd = readme_commands()
    assert run_cmd == "pip install -e . && python run_experiment.py scenarios/quickstart.yaml"
    assert test_cmd.startswith('pip install -e ".[dev]"')


def test_ci_runs_the_readme_test_command():
    _, test_cmd = readme_commands()
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_cmd in ci_lines


def test_quickstart_named_in_readme_exists():
    run_cmd, _ = readme_commands()
    assert (ROOT / run_cmd.split()[-1]).is_file()
