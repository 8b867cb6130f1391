"""advocacy-sim: how advocacy messages spread through networks of creators and their audiences.

Typical use::

    from sim import load_scenario, run, save

    results = run(load_scenario("scenarios/quickstart.yaml"), trials=1000, workers=2)
    results.table          # one row per (strategy, trial)
    results.summary()      # mean, standard error, 95% CI per strategy
    save(results, "results/quickstart")
"""

from sim.base.kernel_cache import ensure_fresh

ensure_fresh()  # before any kernel is loaded from numba's cache (see sim/base/kernel_cache.py)

from sim.api import run, save  # noqa: E402
from sim.execution.prepare import prepare  # noqa: E402
from sim.input.scenario import Scenario, ScenarioError, load_scenario, parse_scenario  # noqa: E402
from sim.results import Results  # noqa: E402

__all__ = ["Results", "Scenario", "ScenarioError", "load_scenario", "parse_scenario", "prepare", "run", "save"]
__version__ = "0.1.0"
