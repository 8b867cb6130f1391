"""Choosing whom to recruit: greedy influence maximisation on the project's own kernels.

``greedy`` holds lazy greedy (CELF) and plain greedy over any set function estimated on
common random numbers; the campaign model's ``select: greedy`` and the reproduction of
Kempe et al. (2003) both use it.
"""
