"""Worlds: the follow graph in flat (CSR) form, creator–audience populations, and their builders.

``spec`` (scenario blocks) → ``build`` (graph generators, edge lists, the dataset registry,
populations) → ``graph.FlatGraph`` and ``population.Population``, which every engine reads.
``footprint`` estimates a world's memory before it is built.
"""
