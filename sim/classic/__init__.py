"""The classic cascade models: Independent Cascade, Linear Threshold, Watts' fractional threshold.

``spec`` (scenario blocks) → ``model`` (per-edge arrays) and ``recruits`` (who starts) →
``kernel`` (numba) or ``agents`` (Mesa; identical activation times) → ``metrics`` (tables).
"""
