"""The project's statistics: Student-t and Wilson intervals, ratios of means by the delta method.

Every interval the tool reports comes from here, so that a "95% interval" means the same thing
in the summary of a run, a reproduction's check, a calibration's comparison and a figure:

* a mean of independent values (Monte Carlo trials, replicates): Student t with ``n - 1``
  degrees of freedom on the standard error of the mean (:func:`mean_interval`);
* a proportion: Wilson's score interval (Wilson 1927), as :func:`scipy.stats.binomtest` computes
  it (:func:`wilson_interval`); it stays inside [0, 1] and keeps its coverage near 0 and 1
  (Newcombe 1998, *Statistics in Medicine* 17:857-872);
* a ratio ``c / mean(x)`` (e.g. USD per adopter) and the paired difference of two such ratios on
  common random numbers: the delta method (Law 2015, *Simulation Modeling and Analysis*, §9.6;
  Glasserman & Yao 1992) (:func:`ratio_of_mean`, :func:`paired_ratio_difference`);
* a normal approximation where no t applies (a standard error known from elsewhere, a band in
  a figure): :data:`Z95`, the one normal quantile;
* weighted draws (a posterior's importance-weighted particles): their quantiles (the inverse of
  the weighted empirical distribution function, :func:`weighted_quantile`), mean, standard
  deviation and correlations (:func:`weighted_moments`), Kish's effective sample size
  (:func:`effective_sample_size`), and systematic resampling into equally weighted draws
  (:func:`systematic_resample`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: The normal 97.5% quantile: a two-sided 95% normal interval is ``value +- Z95 * se``.
Z95: float = float(stats.norm.ppf(0.975))


@functools.lru_cache(maxsize=4096)
def t_quantile(df: int, level: float = 0.95) -> float:
    """The two-sided Student-t quantile ``t_{df, (1 + level) / 2}``; NaN when ``df < 1``.

    Cached: a sweep's summary asks for the same few quantiles thousands of times, and each
    costs ~50 µs.
    """
    return float(stats.t.ppf(0.5 + level / 2, df)) if df >= 1 else math.nan


@dataclass(frozen=True)
class MeanInterval:
    """A mean with its standard error and Student-t interval.

    Attributes
    ----------
    n : int
        Values used (NaN values are left out).
    mean, sem : float
        Mean and standard error of the mean (NaN with fewer than 1 and 2 values).
    low, high : float
        The interval's ends (NaN with fewer than 2 values).
    """

    n: int
    mean: float
    sem: float
    low: float
    high: float

    def as_tuple(self) -> tuple[int, float, float, float, float]:
        """``(n, mean, sem, low, high)``."""
        return self.n, self.mean, self.sem, self.low, self.high


def mean_interval(values, level: float = 0.95) -> MeanInterval:
    """Mean of independent values with a Student-t interval on ``n - 1`` degrees of freedom.

    Parameters
    ----------
    values : array-like of float
        NaN values (an outcome undefined in some trials) are left out; ``n`` counts the rest.
    level : float
        Coverage of the interval, in (0, 1).
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    k = len(x)
    mean = float(x.mean()) if k else math.nan
    sem = float(x.std(ddof=1) / math.sqrt(k)) if k > 1 else math.nan
    half = t_quantile(k - 1, level) * sem
    return MeanInterval(k, mean, sem, mean - half, mean + half)


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float, float]:
    """A proportion and its Wilson score interval: ``(p, low, high)``; NaNs when ``trials == 0``."""
    if trials == 0:
        return math.nan, math.nan, math.nan
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=level, method="wilson")
    return successes / trials, float(ci.low), float(ci.high)


def ratio_of_mean(numerator: float, values, level: float = 0.95) -> MeanInterval:
    """``numerator / mean(values)`` (e.g. cost per adopter) with its delta-method standard error.

    The numerator is a constant (a strategy's cost is the same in every trial), so the ratio's
    interval is the mean's Student-t interval mapped through ``numerator / x``: exact in
    coverage, and asymmetric as the ratio is. The upper end is infinite when the mean's interval
    reaches 0. Everything is NaN when the mean is not positive.

    Returns
    -------
    MeanInterval
        ``n``, the ratio (as ``mean``), its delta-method standard error (as ``sem``), and the
        mapped interval.
    """
    m = mean_interval(values, level)
    if not m.mean > 0:
        return MeanInterval(m.n, math.nan, math.nan, math.nan, math.nan)
    c = numerator
    return MeanInterval(m.n, c / m.mean, c * m.sem / m.mean**2, c / m.high if m.high > 0 else math.nan,
                        c / m.low if m.low > 0 else math.inf)


def paired_ratio_difference(c_a: float, x_a, c_b: float, x_b,
                            level: float = 0.95) -> tuple[float, float, float, float]:
    """Paired difference ``c_a / mean(x_a) - c_b / mean(x_b)`` on common random numbers (delta method).

    ``x_a[t]`` and ``x_b[t]`` come from the same trial ``t``, so their covariance enters the
    standard error: ``var = (g_a^2 var(x_a) + g_b^2 var(x_b) + 2 g_a g_b cov(x_a, x_b)) / n`` with
    ``g_a = -c_a / mean(x_a)^2`` and ``g_b = c_b / mean(x_b)^2`` the derivatives of the
    difference by the two means. The interval is Student t on ``n - 1`` degrees of freedom.

    Returns
    -------
    (difference, standard error, low, high)
        NaNs with fewer than two trials or a mean that is not positive.
    """
    xa = np.asarray(x_a, dtype=np.float64)
    xb = np.asarray(x_b, dtype=np.float64)
    k = len(xa)
    ma, mb = xa.mean(), xb.mean()
    if k < 2 or not (ma > 0 and mb > 0):
        return math.nan, math.nan, math.nan, math.nan
    ga, gb = -c_a / ma**2, c_b / mb**2
    cov = np.cov(xa, xb, ddof=1) / k
    var = ga * ga * cov[0, 0] + gb * gb * cov[1, 1] + 2 * ga * gb * cov[0, 1]
    se = math.sqrt(max(var, 0.0))
    d = c_a / ma - c_b / mb
    half = t_quantile(k - 1, level) * se
    return d, se, d - half, d + half


def systematic_resample(weights, n: int, u0: float) -> np.ndarray:
    """Indices of ``n`` draws by systematic resampling (Kitagawa 1996) with offset ``u0`` in [0, 1).

    Draw i is the row whose cumulative weight first reaches (u0 + i) / n: every row is drawn
    floor(n w) or ceil(n w) times, the least variance of the usual schemes (Douc, Cappé & Moulines
    2005), and the draws are equally weighted.

    Parameters
    ----------
    weights : float64[rows]
        Non-negative, not all zero (normalised here).
    n : int
        Draws wanted.
    u0 : float
        The one uniform number the scheme uses, in [0, 1) (keyed by the caller).

    Returns
    -------
    int64[n]
        Row indices, non-decreasing.
    """
    cw = np.cumsum(np.asarray(weights, dtype=np.float64))
    cw /= cw[-1]
    return np.minimum(np.searchsorted(cw, (u0 + np.arange(n)) / n, side="right"), len(cw) - 1)


def effective_sample_size(weights) -> float:
    """Kish's effective sample size of importance weights, (sum w)^2 / sum w^2 (n for equal weights)."""
    w = np.asarray(weights, dtype=np.float64)
    return float(w.sum() ** 2 / np.sum(w ** 2))


def weighted_quantile(values, weights, q):
    """Quantiles of weighted draws: the smallest value whose cumulative weight reaches ``q`` (the
    inverse of the weighted empirical distribution function, no interpolation: NumPy's
    ``inverted_cdf``).

    Parameters
    ----------
    values : float64[n] or float64[n, k]
        Draws (one column per parameter).
    weights : float64[n]
        Non-negative, not all zero.
    q : float or sequence of float
        Probabilities in [0, 1].

    Returns
    -------
    float64[len(q), k] (or [k] for a scalar ``q``; a 1-D ``values`` drops the k axis)
    """
    v = np.asarray(values, dtype=np.float64)
    flat = v.ndim == 1
    v = v[:, None] if flat else v
    w = np.asarray(weights, dtype=np.float64)
    qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
    out = np.empty((len(qs), v.shape[1]))
    for j in range(v.shape[1]):
        order = np.argsort(v[:, j], kind="stable")
        cw = np.cumsum(w[order])
        cw /= cw[-1]
        out[:, j] = v[order, j][np.minimum(np.searchsorted(cw, qs), len(cw) - 1)]
    out = out[:, 0] if flat else out
    return out[0] if np.ndim(q) == 0 else out


def weighted_moments(values, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean float64[k], standard deviation float64[k] and correlation matrix float64[k, k] of weighted
    draws ``values`` float64[n, k] (weights normalised here; NaN correlation for a constant column)."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mean = w @ v
    d = v - mean
    cov = (w[:, None] * d).T @ d
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return mean, sd, cov / np.outer(sd, sd)
