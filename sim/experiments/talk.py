"""The stochastic cellular automaton of Goldenberg, Libai & Muller (2001), "Talk of the network".

A market of ``groups`` personal networks of ``s + 1`` accounts each (every account has ``s``
strong ties, its group mates). In every period t = 1, 2, ... an uninformed account v meets
``w`` accounts drawn uniformly, with replacement, from outside its group (weak ties), and
becomes informed with probability

    p_v(t) = 1 - (1 - alpha) (1 - beta_w)^j (1 - beta_s)^m,

where m is the number of its strong ties and j the number of its weak-tie contacts informed at
the end of period t - 1 (synchronous update); alpha is advertising. Nobody is informed at t = 0.

Randomness is keyed (:mod:`sim.base.rng`): contact i of account v in period t is
``below(derive(trial_key(root, WEAK_TIES, trial), t), v * w + i, n - s - 1)`` (an index among
the accounts outside v's group), and v's draw is ``uniform(derive(trial_key(root, INFORM,
trial), t), v)``; so a trial's draws do not depend on who else is informed or on the order of
the loops.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from sim.base.rng import Stream, below, derive, trial_key, uniform

_WEAK = np.uint64(int(Stream.WEAK_TIES))
_INFORM = np.uint64(int(Stream.INFORM))
NEVER = -1


@nb.njit(cache=True, nogil=True)
def informed_periods(groups, s, w, alpha, beta_w, beta_s, root, trial, max_periods):
    """Period in which every account is informed (``NEVER`` = -1 if not by ``max_periods``); int32[groups * (s + 1)].

    Parameters
    ----------
    groups : int
        Number of personal networks (>= 1; with ``w > 0`` at least 2).
    s : int
        Strong ties per account (group size s + 1), >= 0.
    w : int
        Weak-tie contacts per account and period, >= 0.
    alpha, beta_w, beta_s : float
        Per-period probabilities in [0, 1]: advertising, and the effect of one informed weak-tie
        contact and of one informed strong tie.
    root : uint64
        Root key of the run.
    trial : int
        Trial number (keys the draws).
    max_periods : int
        Periods simulated at most; the run stops earlier once everyone is informed.
    """
    size = s + 1
    n = groups * size
    outside = n - size
    when = np.full(n, NEVER, dtype=np.int32)
    informed = np.zeros(n, dtype=np.bool_)
    in_group = np.zeros(groups, dtype=np.int64)
    fresh = np.empty(n, dtype=np.int64)
    kw = trial_key(np.uint64(root), _WEAK, np.uint64(trial))
    ki = trial_key(np.uint64(root), _INFORM, np.uint64(trial))
    q_a, q_w, q_s = 1.0 - alpha, 1.0 - beta_w, 1.0 - beta_s
    total = 0
    for t in range(1, max_periods + 1):
        key_w = derive(kw, np.uint64(t))
        key_i = derive(ki, np.uint64(t))
        count = 0
        for v in range(n):
            if informed[v]:
                continue
            g = v // size
            j = 0
            if outside > 0:
                for i in range(w):
                    c = below(key_w, np.uint64(v * w + i), outside)
                    if c >= g * size:  # skip v's own group
                        c += size
                    if informed[c]:
                        j += 1
            stay = q_a * q_w ** j * q_s ** in_group[g]
            if uniform(key_i, np.uint64(v)) < 1.0 - stay:
                fresh[count] = v
                count += 1
        for k in range(count):  # synchronous: period t's news counts from period t + 1
            v = fresh[k]
            informed[v] = True
            when[v] = t
            in_group[v // size] += 1
        total += count
        if total == n:
            break
    return when


def penetration_times(when: np.ndarray, levels, max_periods: int) -> np.ndarray:
    """First period by which at least ``level`` of the market is informed, per level (NaN if never)."""
    n = len(when)
    done = np.sort(np.where(when >= 0, when, max_periods + 1))
    out = []
    for level in levels:
        k = int(np.ceil(level * n - 1e-9))
        t = done[max(k, 1) - 1]
        out.append(float(t) if t <= max_periods else np.nan)
    return np.array(out)
