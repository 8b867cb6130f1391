"""The optimizer: search a campaign's plan space (budget shares, schedule, partner counts) on common
random numbers with Optuna, seeded with the grid's strategies.

:mod:`sim.optimize.spec` (the ``optimize:`` block), :mod:`sim.optimize.plan` (a point of the search
space turned into partners and a runnable strategy), :mod:`sim.optimize.search` (the search, its
trace and its checkpoint), :mod:`sim.cli.optimize` (``run_experiment.py optimize SCENARIO``).
"""
