"""Sensitivity analysis through the project's sample -> run -> analyze path, on functions with known indices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.input.design import sample
from sim.input.sweep import SweepSpec
from sim.results.sensitivity import analyze

PI = math.pi


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami & Homma (1990): y = sin x1 + a sin^2 x2 + b x3^4 sin x1, x_i ~ U(-pi, pi)."""
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form first-order and total Sobol' indices (Sobol' & Levitan 1999)."""
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / var, np.array([v1 + v13, v2, v13]) / var


def spec(design: str, samples: int, bounds, **extra) -> SweepSpec:
    return SweepSpec.model_validate({
        "design": design, "samples": samples, **extra,
        "uncertainties": [{"path": f"model.x{i}", "low": lo, "high": hi} for i, (lo, hi) in enumerate(bounds)]})


def test_sobol_indices_of_the_ishigami_function():
    s = spec("sobol", 4096, [(-PI, PI)] * 3)
    x = sample(s, seed=2026)
    assert x.shape == (4096 * 5, 3)
    got = analyze(s, x, ishigami(x), seed=2026).set_index(["parameter", "index"])
    s1, st = ishigami_indices()
    for i, name in enumerate(["model.x0", "model.x1", "model.x2"]):
        for index, truth in (("S1", s1[i]), ("ST", st[i])):
            row = got.loc[(name, index)]
            se = (row["ci95_high"] - row["ci95_low"]) / (2 * 1.96)  # SALib's bootstrap half-width / 1.96
            assert abs(row["value"] - truth) < 4 * se + 1e-3, (name, index, row["value"], truth, se)
            assert se < 0.05


def test_morris_effects_of_a_linear_function_are_its_slopes_times_ranges():
    """With y = 3 x0 - 2 x1 + 0 x2: every elementary effect of x_i is a_i x (range of x_i)."""
    bounds = [(0.0, 2.0), (10.0, 15.0), (-1.0, 1.0)]
    s = spec("morris", 20, bounds, morris_levels=4)
    x = sample(s, seed=7)
    assert x.shape == (20 * 4, 3)
    y = 3 * x[:, 0] - 2 * x[:, 1]
    got = analyze(s, x, y, seed=7).set_index(["parameter", "index"])["value"]
    for name, slope, (lo, hi) in zip(["model.x0", "model.x1", "model.x2"], [3, -2, 0], bounds, strict=True):
        assert got[(name, "mu_star")] == pytest.approx(abs(slope) * (hi - lo), abs=1e-9)
        assert got[(name, "mu")] == pytest.approx(slope * (hi - lo), abs=1e-9)
        assert got[(name, "sigma")] == pytest.approx(0.0, abs=1e-9)


def test_a_flat_output_has_no_indices_rather_than_noise():
    s = spec("sobol", 64, [(0.0, 1.0)] * 2)
    x = sample(s, seed=1)
    got = analyze(s, x, np.ones(len(x)), seed=1)
    assert got["value"].isna().all()


def test_designs_are_keyed_by_the_seed_and_stay_in_range():
    for design, n in (("latin_hypercube", 50), ("sobol", 32), ("morris", 6)):
        s = spec(design, n, [(0.0, 1.0), (5.0, 6.0)])
        a, b, c = sample(s, 11), sample(s, 11), sample(s, 12)
        assert np.array_equal(a, b) and not np.array_equal(a, c)
        assert (a[:, 0] >= 0).all() and (a[:, 0] <= 1).all() and (a[:, 1] >= 5).all() and (a[:, 1] <= 6).all()
    lhs = sample(spec("latin_hypercube", 50, [(0.0, 1.0), (5.0, 6.0)]), 3)
    for j, lo in ((0, 0.0), (1, 5.0)):  # one point in each of the 50 strata of every range
        assert sorted(np.floor((lhs[:, j] - lo) * 50).astype(int).tolist()) == list(range(50))
