"""advocacy-sim: how advocacy messages spread through networks of creators and their audiences.

Typical use::

    from sim import load_scenario, run

    results = run(load_scenario("scenarios/quickstart.yaml"), trials=1000, workers=2)
    results.table          # one row per (strategy, trial)
    results.summary()      # mean, standard error, 95% CI per strategy
    results.save("results/quickstart")
"""

from sim.results import Results
from sim.runner import prepare, run
from sim.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

__all__ = ["Results", "Scenario", "ScenarioError", "load_scenario", "parse_scenario", "prepare", "run"]
__version__ = "0.1.0"
