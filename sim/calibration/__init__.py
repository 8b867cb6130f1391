"""Calibration: targets with their sources, their simulated counterparts (moments), the simulated
method of moments estimator, fitted parameter sets and their report (docs/calibration.md)."""
