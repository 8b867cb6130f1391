"""Calibration: targets with their sources, their simulated counterparts (moments), simulation-based
inference by ABC-SMC (pyABC), posteriors and fitted parameter sets, their report, and posteriors as the
points of a scenario's run (docs/calibration.md)."""
