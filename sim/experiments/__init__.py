"""Reproductions of published figures: one definition per figure, each checked against the paper.

``load_experiment(path)`` reads a definition from ``experiments/``; ``run_experiment(spec,
quick=...)`` runs it on the project's own kernels and returns a :class:`Report` (checks,
figures, data) whose ``write`` puts the figure (PNG and SVG) and the comparison table in a
folder. The command line is ``python run_experiment.py experiments/<id>.yaml`` or
``python run_experiment.py reproduce``; see ``docs/experiments.md``.
"""

from sim.experiments.definition import ExperimentError, load_experiment, run_experiment
from sim.experiments.report import Report

__all__ = ["ExperimentError", "Report", "load_experiment", "run_experiment"]
