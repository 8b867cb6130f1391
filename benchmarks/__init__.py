"""Speed benchmarks: our cascade engine against peer libraries on the same graphs, recruits and probabilities.

Run ``python -m benchmarks.run`` (``--quick`` for a short smoke run); results are
printed and written to ``benchmarks/out/latest.json`` and ``benchmarks/out/latest.md``.
``docs/performance.md`` quotes the latest figures and explains how they are measured.

``run.py`` (entry point), ``cases.py`` (the case list), ``engines.py`` (one adapter per
engine), ``measure.py`` (timing, memory, machine load). One case, ``campaign_exposures``,
measures the full campaign model on a bundled scenario (kernel per strategy, ``run()``,
the Mesa engine) instead of a cascade against peers. ``scale.py`` is a separate check
(a 10-million-account campaign world), not part of this suite.
"""
