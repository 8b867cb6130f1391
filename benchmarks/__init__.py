"""Speed benchmarks: our cascade engine against peer libraries on the same graphs, recruits and probabilities.

Run ``python -m benchmarks.run`` (``--quick`` for a short smoke run); results are
printed and written to ``benchmarks/out/latest.json`` and ``benchmarks/out/latest.md``.
``docs/performance.md`` quotes the latest figures and explains how they are measured.

``run.py`` (command line, the loop over cases, outputs), ``cases.py`` (the case list),
``engines.py`` (one adapter per engine; ``ENGINES``, our engines ``--engine`` can add),
``suite.py`` (measuring one case on every engine), ``measure.py`` (timing, memory, machine
load, statistics), ``report.py`` (tables and the headline). One case,
``campaign_exposures``, measures the full campaign model on a bundled scenario (kernel per
strategy, ``run()``, the Mesa engine) instead of a cascade against peers. ``scale.py`` is a
separate check (a 10-million-account campaign world), not part of this suite.

Tools for kernel work: ``kernel_outputs.py`` (save every kernel output on fixed inputs,
compare two saves bit for bit), ``ab_kernels.py`` (interleaved A/B against an older
commit's kernels), ``refcounts.py`` (reference counting compiled into the campaign trial),
``profile_kernel.py`` (a line-level profile under ``perf``).
"""
