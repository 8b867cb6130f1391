"""numba kernels for the classic cascade models: Independent Cascade and (fractional) Linear Threshold.

Kernels take arrays and return arrays; they hold no state and draw every random
number from :mod:`sim.rng` keyed by meaning:

* IC (Kempe, Kleinberg & Tardos 2003): edge ``e`` is *live* in trial ``t`` iff
  ``uniform(key(root, EDGE_LIVE, t), e) < prob[e]``. Each newly active node tries
  each out-edge once, so the activated set is the set reachable from the recruits
  over live edges and the activation step is the live-path distance; both are
  independent of processing order.
* LT (Kempe et al. 2003; Watts 2002 with a fixed threshold): account ``v`` activates
  at step ``t + 1`` when the summed integer weight of its in-edges from accounts
  active by step ``t`` reaches ``theta_v * scale[v]``, with
  ``theta_v = theta_lo + theta_span * uniform(key(root, THRESHOLD, t), v)``.
  Weights are integers so sums are exact in any order (the Mesa engine and a
  kernel visiting edges in another order agree to the bit).

Recruits of a trial are ``fixed`` plus ``n_random`` accounts drawn without
replacement by Floyd's algorithm keyed by ``(root, RECRUITS, trial)``.

Per-trial cost is proportional to what the cascade touches: visited marks are
generation stamps, never cleared arrays (no O(n) work per trial).

Keep every jitted helper a kernel calls in this module or in :mod:`sim.rng`;
numba's on-disk cache does not notice edits to helpers in other modules.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from sim.rng import Stream, below, bits, trial_key, uniform

_EDGE = np.uint64(int(Stream.EDGE_LIVE))
_THRESH = np.uint64(int(Stream.THRESHOLD))
_RECRUIT = np.uint64(int(Stream.RECRUITS))

#: ``max_steps`` value meaning "until the cascade stops".
UNLIMITED = np.int32(2**31 - 1)


@nb.njit(cache=True, nogil=True)
def _place_recruits(n, fixed, n_random, root, trial, stamp, gen, order):
    """Activate the trial's recruits at step 0; return how many distinct ones there are."""
    count = 0
    for i in range(fixed.shape[0]):
        v = fixed[i]
        if stamp[v] != gen:
            stamp[v] = gen
            order[count] = v
            count += 1
    if n_random > 0:
        key = trial_key(root, _RECRUIT, np.uint64(trial))
        # Floyd's algorithm: k distinct draws from [0, n) with k keyed draws.
        for j in range(n - n_random, n):
            t = below(key, np.uint64(j), np.int64(j + 1))
            v = t if stamp[t] != gen else j
            if stamp[v] != gen:
                stamp[v] = gen
                order[count] = v
                count += 1
    return count


_S11 = np.uint64(11)


@nb.njit(cache=True, nogil=True)
def _ic_trial(indptr, indices, threshold, fixed, n_random, root, trial, max_steps, stamp, gen, order, times):
    """One IC trial; fills ``order``/``times`` with activated accounts; returns (count, last step).

    Edge ``e`` is live iff ``bits(key, e) >> 11 < threshold[e]``, which is exactly
    ``uniform(key, e) < prob[e]`` (see :class:`sim.contagion.IndependentCascadeArrays`).
    The draw comes before the visited check: it needs no memory but ``threshold[e]``, so
    the random access to the target's stamp is only made for the few live edges.
    """
    n = indptr.shape[0] - 1
    count = _place_recruits(n, fixed, n_random, root, trial, stamp, gen, order)
    for i in range(count):
        times[i] = 0
    key = trial_key(root, _EDGE, np.uint64(trial))
    head = 0
    step = 0
    while head < count and step < max_steps:
        end = count
        for i in range(head, end):
            u = order[i]
            for e in range(indptr[u], indptr[u + 1]):
                if (bits(key, np.uint64(e)) >> _S11) < threshold[e]:
                    v = indices[e]
                    if stamp[v] != gen:
                        stamp[v] = gen
                        order[count] = v
                        times[count] = step + 1
                        count += 1
        head = end
        if count > end:
            step += 1
    return count, step


@nb.njit(cache=True, nogil=True)
def _lt_trial(
    indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root, trial, max_steps,
    stamp, gen, acc, need, seen, order, times,
):
    """One LT trial; same outputs as :func:`_ic_trial`."""
    n = indptr.shape[0] - 1
    count = _place_recruits(n, fixed, n_random, root, trial, stamp, gen, order)
    for i in range(count):
        times[i] = 0
    key = trial_key(root, _THRESH, np.uint64(trial))
    head = 0
    step = 0
    while head < count and step < max_steps:
        end = count
        for i in range(head, end):
            u = order[i]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if stamp[v] == gen:
                    continue
                if seen[v] != gen:
                    seen[v] = gen
                    acc[v] = 0
                    need[v] = (theta_lo + theta_span * uniform(key, np.uint64(v))) * scale[v]
                acc[v] += weight[e]
                # Sums only grow, so crossing during the step equals crossing at its end.
                if acc[v] >= need[v]:
                    stamp[v] = gen
                    order[count] = v
                    times[count] = step + 1
                    count += 1
        head = end
        if count > end:
            step += 1
    return count, step


@nb.njit(cache=True, nogil=True)
def ic_final_sizes(indptr, indices, threshold, fixed, n_random, root, trials, max_steps):
    """Independent Cascade over many trials.

    Parameters
    ----------
    indptr : int64[n + 1]
    indices : int32[m]
        CSR follow graph (:class:`sim.graph.FlatGraph`).
    threshold : uint64[m]
        ``ceil(p_e * 2**53)`` for the probability ``p_e`` that edge ``e`` transmits
        (:attr:`sim.contagion.IndependentCascadeArrays.threshold`).
    fixed : int32[k]
        Recruits present in every trial.
    n_random : int
        Extra recruits drawn uniformly without replacement in each trial.
    root : uint64
        Root key of the run (:func:`sim.rng.root_key`).
    trials : int64[T]
        Trial numbers to simulate (any subset, any order).
    max_steps : int32
        Stop after this many steps (``UNLIMITED`` for none).

    Returns
    -------
    adopted : int64[T]
        Final number of active accounts, recruits included.
    steps : int32[T]
        Step of the last activation (0 if nothing spread).
    """
    n = indptr.shape[0] - 1
    stamp = np.zeros(n, dtype=np.int32)
    order = np.empty(n, dtype=np.int32)
    times = np.empty(n, dtype=np.int32)
    adopted = np.empty(trials.shape[0], dtype=np.int64)
    steps = np.empty(trials.shape[0], dtype=np.int32)
    for i in range(trials.shape[0]):
        c, s = _ic_trial(indptr, indices, threshold, fixed, n_random, root, trials[i], max_steps,
                         stamp, np.int32(i + 1), order, times)
        adopted[i] = c
        steps[i] = s
    return adopted, steps


@nb.njit(cache=True, nogil=True)
def lt_final_sizes(indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root, trials, max_steps):
    """Linear Threshold over many trials; arguments as :func:`ic_final_sizes` plus.

    Parameters
    ----------
    weight : int64[m]
        Integer influence of edge ``e`` on its target.
    scale : float64[n]
        Weight units that make up a threshold of 1 for account ``v`` (e.g. its in-degree).
    theta_lo, theta_span : float
        Thresholds are ``theta_lo + theta_span * U(0, 1)`` per account and trial
        (0, 1 for Kempe's LT; phi, 0 for Watts' fractional threshold).
    """
    n = indptr.shape[0] - 1
    stamp = np.zeros(n, dtype=np.int32)
    seen = np.zeros(n, dtype=np.int32)
    acc = np.empty(n, dtype=np.int64)
    need = np.empty(n, dtype=np.float64)
    order = np.empty(n, dtype=np.int32)
    times = np.empty(n, dtype=np.int32)
    adopted = np.empty(trials.shape[0], dtype=np.int64)
    steps = np.empty(trials.shape[0], dtype=np.int32)
    for i in range(trials.shape[0]):
        c, s = _lt_trial(indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root,
                         trials[i], max_steps, stamp, np.int32(i + 1), acc, need, seen, order, times)
        adopted[i] = c
        steps[i] = s
    return adopted, steps


@nb.njit(cache=True, nogil=True)
def _scatter(n, order, times, count):
    out = np.full(n, -1, dtype=np.int32)
    for i in range(count):
        out[order[i]] = times[i]
    return out


@nb.njit(cache=True, nogil=True)
def ic_activation_times(indptr, indices, threshold, fixed, n_random, root, trial, max_steps):
    """Activation step of every account in one IC trial (-1 = never); int32[n]."""
    n = indptr.shape[0] - 1
    stamp = np.zeros(n, dtype=np.int32)
    order = np.empty(n, dtype=np.int32)
    times = np.empty(n, dtype=np.int32)
    c, _ = _ic_trial(indptr, indices, threshold, fixed, n_random, root, trial, max_steps,
                     stamp, np.int32(1), order, times)
    return _scatter(n, order, times, c)


@nb.njit(cache=True, nogil=True)
def lt_activation_times(indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root, trial, max_steps):
    """Activation step of every account in one LT trial (-1 = never); int32[n]."""
    n = indptr.shape[0] - 1
    stamp = np.zeros(n, dtype=np.int32)
    seen = np.zeros(n, dtype=np.int32)
    acc = np.empty(n, dtype=np.int64)
    need = np.empty(n, dtype=np.float64)
    order = np.empty(n, dtype=np.int32)
    times = np.empty(n, dtype=np.int32)
    c, _ = _lt_trial(indptr, indices, weight, scale, theta_lo, theta_span, fixed, n_random, root, trial,
                     max_steps, stamp, np.int32(1), acc, need, seen, order, times)
    return _scatter(n, order, times, c)


# --------------------------------------------------------------------------- Python front

def final_sizes(graph, model, plan, root, trials, max_steps=None):
    """Final cascade size and duration of the given trials.

    Parameters
    ----------
    graph : sim.graph.FlatGraph
    model : sim.contagion.IndependentCascadeArrays or sim.contagion.ThresholdArrays
    plan : sim.recruits.RecruitPlan
    root : numpy.uint64
        Root key of the run (:func:`sim.rng.root_key`).
    trials : array of int
        Trial numbers.
    max_steps : int, optional
        Step limit (None: until the cascade stops).

    Returns
    -------
    adopted : int64[T]
        Active accounts at the end, recruits included.
    steps : int32[T]
        Step of the last activation.
    """
    from sim.contagion import IndependentCascadeArrays

    trials = np.ascontiguousarray(trials, dtype=np.int64)
    limit = UNLIMITED if max_steps is None else np.int32(max_steps)
    if isinstance(model, IndependentCascadeArrays):
        return ic_final_sizes(graph.indptr, graph.indices, model.threshold, plan.fixed, plan.n_random,
                              np.uint64(root), trials, limit)
    return lt_final_sizes(graph.indptr, graph.indices, model.weight, model.scale, model.theta_lo,
                          model.theta_span, plan.fixed, plan.n_random, np.uint64(root), trials, limit)


def activation_times(graph, model, plan, root, trial, max_steps=None):
    """Activation step of every account in one trial (-1 = never active); int32[n].

    Same arguments as :func:`final_sizes`, with a single ``trial`` number.
    """
    from sim.contagion import IndependentCascadeArrays

    limit = UNLIMITED if max_steps is None else np.int32(max_steps)
    if isinstance(model, IndependentCascadeArrays):
        return ic_activation_times(graph.indptr, graph.indices, model.threshold, plan.fixed, plan.n_random,
                                   np.uint64(root), np.int64(trial), limit)
    return lt_activation_times(graph.indptr, graph.indices, model.weight, model.scale, model.theta_lo,
                               model.theta_span, plan.fixed, plan.n_random, np.uint64(root), np.int64(trial), limit)
