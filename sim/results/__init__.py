"""Results: a run's tables and their statistics (summary, sensitivity)."""

from sim.results.data import Results

__all__ = ["Results"]
