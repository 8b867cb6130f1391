"""The walkthrough notebook runs top to bottom and its numbers agree with the exact answers."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "notebooks" / "granovetter_walkthrough.ipynb"


def test_notebook_executes_and_matches_exact_values():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs)
    line = next(ln for ln in text.splitlines() if ln.startswith("RESULT "))
    result = ast.literal_eval(line.removeprefix("RESULT "))
    assert 8.0 < result["critical_sd_20"] < 12.0
    # 1,000 trials: the mean is within 0.05 of the exact finite-N expectation (SE <= 0.016)
    assert abs(result["below"] - result["exact_below"]) < 0.05
    assert abs(result["above"] - result["exact_above"]) < 0.05
    assert result["above"] > result["below"] + 0.3
