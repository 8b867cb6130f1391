"""The closed forms the experiments use equal the oracle tests' (same formulas, phi = 0.18)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sim.classic import theory

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "oracles"))
import test_threshold_random_graphs as oracle  # noqa: E402


@pytest.mark.parametrize("z", [2.0, 3.0, 5.0, 8.0])
def test_same_numbers_as_the_oracles(z):
    assert theory.watts_condition(z, 0.18) == pytest.approx(oracle.watts_condition(z), rel=1e-12)
    for rho0 in (0.005, 0.02, 0.1):
        assert theory.gleeson_fraction(z, rho0, 0.18) == pytest.approx(oracle.gleeson_fraction(z, rho0), abs=1e-12)
    if z == 5.0:
        assert theory.global_cascade_probability(z, 0.18) == pytest.approx(oracle.global_cascade_probability(z))


def test_windows():
    lo, hi = theory.window(theory.watts_condition, 0.18)
    assert abs(lo - 1.0207) < 1e-4 and abs(hi - 5.7647) < 1e-4
    lo, hi = theory.window(theory.directed_condition, 0.18)
    assert lo < 1.01 and 7.4 < hi < 7.55
