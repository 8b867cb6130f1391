"""Sweeps for planners: scenarios x strategies on common random numbers, on any executor.

EMA Workbench vocabulary (Kwakkel 2017): a sweep varies *uncertainties* (parameters of the
world and the model nobody controls) over a design of *points*, and runs every *strategy*
(the planner's levers; EMA's policies) at every point. The stages talk through plain data:

``spec`` (the scenario's ``sweep`` and ``strategy_grid`` blocks) → ``design`` (the points:
full factorial, Latin hypercube, Sobol, Morris) → ``executor`` (serial, a local pool, Dask)
running chunks of trials → ``analysis`` (paired differences to a baseline, costs per outcome,
the Pareto frontier) and ``sensitivity`` (SALib's indices) → ``report`` (one HTML page).
"""
