"""The statistics module against published tables and exact values, and its delta method against
the spread it predicts (seeded replications, tolerances in standard errors of that spread)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.base import stats


def test_z95_is_the_normal_975_quantile():
    # Abramowitz & Stegun (1964), Table 26.5: z_{0.975} = 1.959963985
    assert stats.Z95 == pytest.approx(1.959963985, abs=1e-9)


@pytest.mark.parametrize(("df", "published"), [(1, 12.706), (4, 2.776), (9, 2.262), (29, 2.045), (120, 1.980)])
def test_t_quantile_matches_the_printed_table(df, published):
    # Two-sided 95% critical values of Student's t (e.g. Fisher & Yates, Statistical Tables, Table III)
    assert stats.t_quantile(df) == pytest.approx(published, abs=5e-4)
    assert math.isnan(stats.t_quantile(0))


def test_mean_interval_by_hand():
    x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]  # mean 5, sample variance 32/7
    m = stats.mean_interval(x)
    sem = math.sqrt(32 / 7 / 8)
    assert (m.n, m.mean, m.sem) == (8, 5.0, pytest.approx(sem, rel=1e-15))
    assert m.high - m.mean == pytest.approx(2.364624252 * sem, rel=1e-9)  # t_{7, 0.975}
    assert m.mean - m.low == pytest.approx(m.high - m.mean, rel=1e-12)


def test_mean_interval_leaves_out_undefined_values_and_needs_two():
    m = stats.mean_interval([1.0, math.nan, 3.0])
    assert (m.n, m.mean) == (2, 2.0)
    one = stats.mean_interval([4.0])
    assert (one.n, one.mean) == (1, 4.0) and math.isnan(one.sem) and math.isnan(one.low)
    assert stats.mean_interval([]).n == 0


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score)
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_wilson_interval_matches_newcombe(k, n, low, high):
    p, lo, hi = stats.wilson_interval(k, n)
    assert p == k / n
    assert (lo, hi) == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_interval_closed_form():
    k, n = 7, 40
    z = stats.Z95
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    _, lo, hi = stats.wilson_interval(k, n)
    assert (lo, hi) == (pytest.approx(centre - half, rel=1e-12), pytest.approx(centre + half, rel=1e-12))
    assert all(math.isnan(v) for v in stats.wilson_interval(0, 0))


def test_ratio_of_mean_maps_the_mean_interval():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    m = stats.mean_interval(x)
    r = stats.ratio_of_mean(100.0, x)
    assert r.mean == 100.0 / 2.5
    assert r.sem == pytest.approx(100.0 * m.sem / 2.5**2, rel=1e-15)
    assert (r.low, r.high) == (100.0 / m.high, 100.0 / m.low)
    zero = stats.ratio_of_mean(100.0, [0.0, 0.0])
    assert math.isnan(zero.mean) and math.isnan(zero.high)
    wide = stats.ratio_of_mean(1.0, [0.0, 0.1, 0.0, 5.0])  # the mean's interval reaches below 0
    assert wide.high == math.inf


def test_delta_methods_predict_the_spread_of_the_ratios():
    """Over many seeded replications, the delta-method standard errors match the spread of the
    estimates they describe (within 4 standard errors of a standard deviation estimated from R
    replications, sd / sqrt(2 (R - 1)))."""
    rng = np.random.default_rng(20260101)
    reps, n, cost_a, cost_b = 2000, 400, 50.0, 80.0
    ratios, diffs, ses, dses, unpaired = [], [], [], [], []
    for _ in range(reps):
        common = rng.gamma(4.0, 1.0, n)  # common random numbers: both strategies see it
        xa = common + rng.poisson(1.0, n)
        xb = 0.5 * common + rng.poisson(2.0, n)
        r = stats.ratio_of_mean(cost_a, xa)
        d, se, lo, hi = stats.paired_ratio_difference(cost_a, xa, cost_b, xb)
        ratios.append(r.mean)
        ses.append(r.sem)
        diffs.append(d)
        dses.append(se)
        unpaired.append(math.hypot(r.sem, stats.ratio_of_mean(cost_b, xb).sem))
        assert lo < d < hi
    for estimates, predicted in ((ratios, ses), (diffs, dses)):
        sd = float(np.std(estimates, ddof=1))
        assert abs(float(np.mean(predicted)) - sd) < 4 * sd / math.sqrt(2 * (reps - 1))
    # the pairing matters: the standard error that ignores the trials' covariance is far larger
    assert np.mean(dses) < 0.8 * np.mean(unpaired)


def test_paired_difference_needs_two_positive_means():
    assert all(math.isnan(v) for v in stats.paired_ratio_difference(1.0, [1.0], 1.0, [1.0]))
    assert all(math.isnan(v) for v in stats.paired_ratio_difference(1.0, [0.0, 0.0], 1.0, [1.0, 2.0]))


def test_weighted_quantile_is_numpys_inverted_cdf():
    """Against NumPy's own weighted quantile (numpy >= 2, method inverted_cdf), column by column."""
    from sim.base.stats import weighted_quantile

    g = np.random.default_rng(4)
    v, w = g.normal(size=(300, 3)), g.dirichlet(np.ones(300))
    qs = [0.0, 0.025, 0.5, 0.975, 1.0]
    got = weighted_quantile(v, w, qs)
    for j in range(3):
        want = np.quantile(v[:, j], qs, weights=w, method="inverted_cdf")
        assert np.array_equal(got[:, j], want)
    assert weighted_quantile(v[:, 0], w, 0.5) == np.quantile(v[:, 0], 0.5, weights=w, method="inverted_cdf")


def test_weighted_moments_equal_those_of_repeated_rows():
    """Integer weights are repetitions: the weighted mean, sd (population) and correlation of the rows
    equal the plain ones of the rows repeated."""
    from sim.base.stats import effective_sample_size, weighted_moments

    g = np.random.default_rng(8)
    v = g.normal(size=(40, 3))
    v[:, 1] += v[:, 0]
    k = g.integers(1, 5, size=40)
    mean, sd, corr = weighted_moments(v, k)
    rep = np.repeat(v, k, axis=0)
    assert np.allclose(mean, rep.mean(axis=0)) and np.allclose(sd, rep.std(axis=0))
    assert np.allclose(corr, np.corrcoef(rep, rowvar=False))
    assert effective_sample_size(np.ones(17)) == pytest.approx(17)
    assert effective_sample_size([1.0, 0.0, 0.0]) == pytest.approx(1)
