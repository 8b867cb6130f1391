"""Closed forms of the classic threshold models: the numbers the reproductions are checked against.

Infinite-size, locally tree-like limits unless said otherwise. The undirected formulas are the
ones the oracle tests hold the kernels to (``tests/oracles/test_threshold_random_graphs.py``;
``tests/experiments/test_theory.py`` checks that both give the same numbers), generalised
from phi = 0.18 to any phi; the directed and Granovetter results are added here.

All thresholds follow the kernels' "fraction >= phi" rule: a node of degree k with m active
neighbours adopts iff ``m >= phi * k`` (compared in float64 as the kernel compares).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import factorial
from scipy.stats import binom, norm, poisson


def poisson_degrees(z: float) -> tuple[np.ndarray, np.ndarray]:
    """Degrees 0..kmax and their Poisson(z) probabilities (tail beyond kmax < 1e-16)."""
    kmax = int(z + 20 * np.sqrt(z) + 30)
    k = np.arange(kmax + 1)
    return k, poisson.pmf(k, z)


def vulnerable_max(phi: float) -> int:
    """K*: the largest degree k >= 1 at which one active neighbour suffices (``1 >= phi * k``)."""
    if phi <= 0:
        raise ValueError("phi = 0: every degree is vulnerable")
    k = 1
    while 1.0 >= phi * (k + 1):
        k += 1
    return k if 1.0 >= phi * k else 0


def watts_condition(z: float, phi: float) -> float:
    """Watts (2002) cascade condition on Erdős–Rényi graphs, z e^{-z} sum_{j=0}^{K*-2} z^j / j!.

    Global cascades from one random recruit are possible iff the value exceeds 1 (PNAS 99:5766,
    Eq. 7 specialised to Poisson degrees and a homogeneous threshold).
    """
    j = np.arange(vulnerable_max(phi) - 1)
    return float(z * np.exp(-z) * np.sum(z**j / factorial(j)))


def directed_condition(z: float, phi: float) -> float:
    """Cascade condition of a directed Poisson influence network (Watts & Dodds 2007's model 1).

    Node i influences Poisson(z) others, chosen at random, so in- and out-degrees are independent
    Poisson(z). An influenced node is vulnerable iff its in-degree k satisfies ``1 >= phi k``; a
    node reached along an edge has the edge-biased in-degree law k p_k / z, and its out-degree is
    independent of the edge it was reached on, so each vulnerable node passes the cascade to
    z * sum_{k=1}^{K*} k p_k / z = sum_{k=1}^{K*} k p_k = z e^{-z} sum_{j=0}^{K*-1} z^j / j!
    vulnerable nodes on average. Global cascades are possible iff this exceeds 1.
    """
    j = np.arange(vulnerable_max(phi))
    return float(z * np.exp(-z) * np.sum(z**j / factorial(j)))


def window(condition, phi: float, lo: float = 0.5, peak: float = 3.0, hi: float = 40.0) -> tuple[float, float]:
    """The (lower, upper) mean degrees where ``condition(z, phi)`` crosses 1, by bracketing roots."""
    zs = np.linspace(lo, hi, 4000)
    vals = np.array([condition(z, phi) for z in zs]) - 1.0
    inside = np.flatnonzero(vals > 0)
    if not len(inside):
        raise ValueError(f"no cascade window for phi = {phi}")
    a, b = inside[0], inside[-1]
    lower = brentq(lambda z: condition(z, phi) - 1.0, zs[a - 1], zs[a]) if a > 0 else lo
    upper = brentq(lambda z: condition(z, phi) - 1.0, zs[b], zs[b + 1])
    return float(lower), float(upper)


def global_cascade_probability(z: float, phi: float) -> float:
    """P(one random recruit starts a global cascade) on ER(z), tree-like limit: 1 - G0(u).

    u solves u = 1 - q + G1v(u), q = sum_{k=1}^{K*} k p_k / z and G1v(x) = sum_{k=1}^{K*}
    k p_k x^{k-1} / z (Watts 2002; Gleeson & Cahalane 2007). 0 outside the window.
    """
    if watts_condition(z, phi) <= 1.0:
        return 0.0
    k, p = poisson_degrees(z)
    vul = (k >= 1) & (k <= vulnerable_max(phi))
    q = float(np.sum(k[vul] * p[vul]) / z)

    def f(u):
        return 1.0 - q + np.sum(k[vul] * p[vul] * u ** (k[vul] - 1)) / z - u

    u = brentq(f, 0.0, 1.0 - 1e-7, xtol=1e-15)
    return float(1.0 - np.sum(p * u**k))


def gleeson_fraction(z: float, rho0: float, phi: float, q0: float | None = None) -> float:
    """Final adopting fraction on ER(z) from a random recruit fraction rho0 (Gleeson & Cahalane 2007).

    PRE 75:056103, with F(m/k) = 1 iff m >= phi k:

        q_{n+1} = rho0 + (1 - rho0) sum_k (k p_k / z) P(Bin(k - 1, q_n) >= m_k)
        rho     = rho0 + (1 - rho0) sum_k p_k P(Bin(k, q) >= m_k)

    iterated from q_0 = rho0 (or ``q0``) to the fixed point; m_k = the fewest active neighbours
    a degree-k node needs. ``rho0 = 0, q0 = 1e-9`` gives the size of a global cascade from one
    recruit (q = 0 is unstable exactly inside the window).
    """
    k, p = poisson_degrees(z)
    k, p = k[1:], p[1:]
    m_k = np.array([next(m for m in range(kk + 1) if m >= phi * kk) for kk in k])
    q = rho0 if q0 is None else q0
    for _ in range(200_000):
        new = rho0 + (1.0 - rho0) * np.sum(k * p / z * binom.sf(m_k - 1, k - 1, q))
        if abs(new - q) < 1e-15:
            break
        q = new
    else:  # pragma: no cover - monotone and bounded: converges
        raise RuntimeError("Gleeson iteration did not converge")
    return float(rho0 + (1.0 - rho0) * np.sum(p * binom.sf(m_k - 1, k, q)))


# --------------------------------------------------------------------------- Granovetter (1978)

def granovetter_equilibrium(cdf, grid: int = 200_001) -> float:
    """Equilibrium participation of Granovetter's (1978) threshold model in the continuum.

    Complete mixing: r_{t+1} = F(r_t), F the CDF of thresholds (fractions of the population),
    from r_0 = 0. The sequence rises to the smallest root of F(r) = r in [0, 1]: found as the
    first sign change of F(r) - r on a fine grid, refined by Brent's method (iterating the map
    itself takes millions of steps near the critical point).
    """
    r = np.linspace(0.0, 1.0, grid)
    gap = np.asarray(cdf(r), dtype=np.float64) - r
    if gap[0] <= 0.0:
        return 0.0
    below = np.flatnonzero(gap <= 0.0)
    if not len(below):
        return 1.0
    i = below[0]
    return float(brentq(lambda x: float(cdf(x)) - x, r[i - 1], r[i], xtol=1e-15))


def granovetter_normal(mean: float, sd: float) -> float:
    """Continuum equilibrium for Normal(mean, sd) thresholds (fractions), from r_0 = 0."""
    return granovetter_equilibrium(lambda r: norm.cdf(r, mean, sd))


def granovetter_critical_sd(mean: float) -> float:
    """The sd at which the continuum equilibrium for Normal(mean, sd) thresholds jumps to ~1.

    At the jump F is tangent to the diagonal at the low fixed point: F(r) = r and F'(r) = 1.
    With x = (r - mean) / sd these read sd = pdf(x) and mean + sd x = Phi(x), so x solves
    mean + x pdf(x) - Phi(x) = 0 (the root below 0) and sd_c = pdf(x).
    """
    x = brentq(lambda x: mean + x * norm.pdf(x) - norm.cdf(x), -8.0, -1e-9, xtol=1e-15)
    return float(norm.pdf(x))


def granovetter_finite(n: int, cdf) -> np.ndarray:
    """Exact distribution of the final number acting among ``n`` people with i.i.d. thresholds.

    Thresholds are counts of *others* who must act first (instigators: threshold <= 0), with
    CDF ``cdf`` on the count scale. With G(j) = #{i: theta_i <= j}, the process r_{t+1} = G(r_t)
    from r_0 = 0 stops at r* = min{j >= 0: G(j) <= j} (then G(r*) = r*). G is built cell by cell:
    G(j) - G(j-1) ~ Bin(n - G(j-1), (F(j) - F(j-1)) / (1 - F(j-1))) given the past, so a
    dynamic programme over (j, G(j)) on the paths with G(j') > j' for all j' < j gives
    P(r* = j) exactly (O(n^3)).

    Returns
    -------
    float64[n + 1]
        P(r* = j) for j = 0..n.
    """
    out = np.zeros(n + 1)
    g = np.arange(n + 1)
    alive = binom.pmf(g, n, float(cdf(0.0)))  # distribution of G(0)
    prev = float(cdf(0.0))
    for j in range(n + 1):
        if j > 0:
            cur = float(cdf(float(j)))
            q = 0.0 if prev >= 1.0 else min(max((cur - prev) / (1.0 - prev), 0.0), 1.0)
            new = np.zeros(n + 1)
            for gg in np.flatnonzero(alive > 0):
                new[gg:] += alive[gg] * binom.pmf(np.arange(n + 1 - gg), n - gg, q)
            alive = new
            prev = cur
        out[j] = alive[j] if j <= n else 0.0  # G(j) = j: stops here (G(j) >= j on surviving paths)
        alive[: j + 1] = 0.0
    return out
