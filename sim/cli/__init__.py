"""The command line: ``python run_experiment.py SCENARIO`` (also installed as ``advocacy-sim``)."""

from sim.cli.run import main, parser

__all__ = ["main", "parser"]
