"""Every malformed input of the corpus is refused: exit 2, one `file:line: key: message` line per
problem (or `file: message` when there is no line), no traceback, nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sim.cli import main

CORPUS = Path(__file__).parent / "corpus"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text())


def test_the_corpus_is_large_and_complete():
    assert len(CASES) >= 100
    assert sorted(CASES) == sorted(p.name for p in CORPUS.glob("[0-9][0-9][0-9]_*.yaml"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_input_is_refused_cleanly(name, tmp_path, capsys):
    path = CORPUS / name
    out = tmp_path / "out"
    code = main([str(path), "--out", str(out), "--quiet", "--executor", "serial"])
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert code == 2, (code, captured.err[-1500:])
    assert lines, "no message"
    assert "Traceback" not in captured.err and "Error:" not in captured.err.split(":", 1)[0]
    shape = re.compile(rf"^{re.escape(str(path))}(:\d+)?: ")
    assert all(shape.match(ln) for ln in lines), lines
    expected = CASES[name]
    first = lines[0]
    assert expected["key"] in first, (expected, first)
    assert expected["message"] in first or any(expected["message"] in ln for ln in lines), (expected, lines)
    assert not out.exists(), "a refused input must write nothing"
    assert captured.out == ""
