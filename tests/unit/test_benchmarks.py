"""The benchmark suite's command line and timing helpers (benchmarks/; the suite itself is not run in CI)."""

from __future__ import annotations

import pytest

from benchmarks import measure, run
from benchmarks.engines import ENGINES


def test_interleave_reverses_the_order_in_every_other_repeat():
    calls_made = []
    calls = [lambda i=i: calls_made.append(i) or i for i in range(3)]
    seconds, results = measure.interleave(calls, 3)
    assert calls_made == [0, 1, 2, 2, 1, 0, 0, 1, 2]
    assert results == [0, 1, 2] and len(seconds) == 3 and all(len(row) == 3 for row in seconds)


def test_an_unknown_engine_is_refused_naming_the_known_ones(capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(["--engine", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown engine nope" in err and all(name in err for name in ENGINES)


def test_our_engines_have_what_the_suite_calls():
    for name, cls in ENGINES.items():
        assert isinstance(cls.label, str) and callable(cls.run_batch) and callable(cls.sizes), name
