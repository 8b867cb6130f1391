"""Centola (2010) inside the campaign model (sim.experiments.centola_campaign, experiment E10): the
set-up is right and both engines agree on it. Its validation results (PASS / MISS) are never asserted
here; tests/experiments/test_experiment_quick.py runs E10 at its quick sizes (verification gates)."""

from __future__ import annotations

import numpy as np

from sim.experiments import centola_campaign as cc


def test_hazard_parameters_reproduce_the_first_signal_and_fit_the_next_two():
    x, s = cc.hazard_parameters((0.14, 0.32, 0.42))
    p = 1 - np.cumprod([0.86, 0.68, 0.58])
    assert x == p[0]
    k = np.array([2.0, 3.0])
    resid = np.log(p[1:] / x) - (1 + s) * np.log(k)
    assert abs(resid @ np.log(k)) < 1e-12  # the least-squares normal equation
    assert cc.hazard_parameters((0.2, 0.2, 0.2))[1] < 0  # a flat hazard is sub-additive in this form


def test_the_seed_adopts_on_day_zero_and_engines_agree():
    """Every trial starts with exactly the creator's one follower adopting; Mesa gives the same finals."""
    _, s = cc.hazard_parameters()
    k = cc.final_adoption(98, 0, 12, s)
    m = cc.final_adoption(98, 0, 12, s, engine="mesa")
    for topology in cc.TOPOLOGIES:
        assert np.array_equal(k[topology], m[topology])
        assert (k[topology] >= 1 / 98).all()


def test_a_small_validation_reports_every_verdict():
    v = cc.validate(networks=1, trials=10, fit_networks=1, fit_trials=10)
    rows = v.verdicts()
    assert len(rows) == 5 and {r[3] for r in rows} <= {"PASS", "MISS"}
    assert v.as_read.dose < v.fitted.dose <= 1.0
