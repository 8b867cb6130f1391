"""Seeds of an experiment's replicates, derived from its root seed by keyed hashing.

A replicate (one graph of an ensemble, one point of a sweep) is run like a scenario of its own:
its graph is built from ``replicate_seed(seed, *parts)`` (stream ``WORLD`` inside the builder)
and its trials are keyed by ``root_key`` of the same number. Parts are small integers naming
the replicate (point index, graph index), so every replicate is independent of the others and
of how many there are.
"""

from __future__ import annotations

import numpy as np

from sim.base.rng import derive, root_key


def replicate_seed(seed: int, *parts: int) -> int:
    """A seed in [0, 2**63) for the replicate ``parts`` of an experiment with root ``seed``."""
    key = np.uint64(root_key(seed))
    for p in parts:
        key = np.uint64(derive(key, np.uint64(int(p))))
    return int(key) >> 1
