"""Posteriors in scenarios, and the new moments against independent computations.

* ``one_hop_share``'s maximum-likelihood estimate equals a brute-force grid maximum of the same
  likelihood, and recovers a known share from simulated trials within its standard error;
* ``abs_engagement_peak`` returns the vertex of a known log-log quadratic;
* ``wearout_peak_exposures`` is the repetition peak P when the other dynamics are off (the
  closed form N(2P - N)/(2P - 1)) and moves the stated way with decay, fatigue and trust growth;
* systematic resampling draws every row floor(n w) or ceil(n w) times;
* ``parameters: {posterior, draws}`` turns draws into the points of a run, chosen by the seed
  (the same seed the same draws, another seed others), with located errors for a missing file,
  wrong columns, too many draws and a sweep beside it; hand-set calibrated values are warned about.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.base.stats import systematic_resample
from sim.calibration.moments import (
    WEAROUT_MAX,
    StrategyRun,
    _one_hop_mle,
    abs_engagement_peak,
    attitude_curve,
    one_hop_share,
    wearout_peak_exposures,
)
from sim.calibration.targets import Target, TargetsError, load_targets
from sim.input.posterior import calibration_notes, choose
from sim.input.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "celebrity_vs_micro.yaml"


def _target(moment: str, **where) -> Target:
    return Target(name="t", set="benchmarks", role="held_out", moment=moment, range=(0.5, 1.0), definition="d",
                  source="s", year=2026, mapping="m", **where)


# ----------------------------------------------------------------------------- moments

def test_one_hop_mle_is_the_likelihood_maximum():
    rng = np.random.default_rng(1)
    seeds = rng.integers(1, 40, size=60).astype(float)
    deep = (rng.random(60) > 0.97 ** seeds).astype(float)
    w = rng.integers(0, 3, size=60).astype(float)
    s_hat = _one_hop_mle(deep, seeds, w)
    grid = np.linspace(0.5, 0.99999, 200001)
    ll = [np.sum(w * ((1 - deep) * seeds * np.log(s) + deep * np.log1p(-s**seeds))) for s in grid[::50]]
    s_grid = grid[::50][int(np.argmax(ll))]
    assert abs(s_hat - s_grid) < 50 * (grid[1] - grid[0])


def test_one_hop_share_recovers_a_known_share():
    """Trials of n independent cascades, each within one hop with probability s = 0.98: the MLE is
    within 3 standard errors (Fisher information of the Bernoulli(s^n) observations) of s."""
    s, trials = 0.98, 400
    rng = np.random.default_rng(7)
    n = rng.integers(5, 30, size=trials).astype(float)
    deep = (rng.random(trials) > s**n).astype(float)
    tot = {"depth": np.where(deep > 0, 3.0, 2.0), "adopters_direct": 250.0 * n}
    run = StrategyRun("micro_campaign", tot, {}, (), (), np.zeros(0), 1.0, scale=250.0)
    est = one_hop_share({"micro_campaign": run}, _target("one_hop_share", tier="micro"), np.ones(trials))
    p = s**n
    info = np.sum((n * s ** (n - 1)) ** 2 / (p * (1 - p)))
    assert abs(est - s) < 3 / np.sqrt(info)


def test_one_hop_share_without_deep_trials_is_one():
    tot = {"depth": np.array([1.0, 2.0, 2.0]), "adopters_direct": np.array([0.0, 10.0, 20.0])}
    run = StrategyRun("micro_campaign", tot, {}, (), (), np.zeros(0), 1.0)
    assert one_hop_share({"micro_campaign": run}, _target("one_hop_share", tier="micro"), np.ones(3)) == 1.0


def test_abs_engagement_peak_is_the_vertex():
    """With log E = -0.5 (x - log 1e6)^2 + 10 exactly: the peak is at 1e6 followers; a straight line
    (absolute engagement rising over the range) has no top: +inf."""
    followers = np.geomspace(1e3, 3e6, 40)
    x = np.log(followers)
    eng = np.exp(-0.5 * (x - np.log(1e6)) ** 2 + 10)
    tier = ("micro",) * 40
    run = StrategyRun("instagram", {}, {"engagements": eng[None, :]}, tier, ("instagram",) * 40, followers, 0.0)
    t = _target("abs_engagement_peak", platform="instagram")
    assert abs_engagement_peak({"instagram": run}, t, np.ones(1)) == pytest.approx(1e6, rel=1e-6)
    rising = StrategyRun("instagram", {}, {"engagements": (0.02 * followers)[None, :]}, tier, ("instagram",) * 40,
                         followers, 0.0)
    assert abs_engagement_peak({"instagram": rising}, t, np.ones(1)) == np.inf


def test_pending_target_is_listed_never_compared(tmp_path):
    """A target marked ``pending:`` (its moment waits for a mechanism) is listed, never compared,
    and refused as a fit target. The committed file has none since the wear-out moment landed, so
    one is marked here."""
    text = (ROOT / "calibration" / "targets.yaml").read_text(encoding="utf-8")
    marked = text.replace('    page: "415-428"\n', '    page: "415-428"\n    pending: "a mechanism to come"\n', 1)
    assert marked != text
    ok = tmp_path / "ok.yaml"
    ok.write_text(marked, encoding="utf-8")
    targets = load_targets(ok)
    pending = {t.name for t in targets.pending()}
    assert pending == {"wearout_peak_exposures"}
    assert pending.isdisjoint(t.name for t in targets.comparable())
    assert not load_targets(ROOT / "calibration" / "targets.yaml").pending()
    bad = tmp_path / "targets.yaml"
    bad.write_text(marked.replace(
        "name: wearout_peak_exposures\n    set: benchmarks\n    role: held_out",
        "name: wearout_peak_exposures\n    set: benchmarks\n    role: fit", 1), encoding="utf-8")
    with pytest.raises(TargetsError, match="pending target cannot be fitted"):
        load_targets(bad)


_DYN = {"conviction_decay": 0.0, "trust_growth": 0.0, "trust_ceiling": 0.9, "fatigue": 0.0, "fatigue_recovery": 0.0,
        "repetition_peak": 10.0, "trust.micro": 0.5}


def _wearout(**dyn) -> float:
    run = StrategyRun("micro_campaign", {"reach": np.ones(1)}, {}, (), (), np.zeros(0), 0.0,
                      dynamics={**_DYN, **dyn})
    return wearout_peak_exposures({"micro_campaign": run}, _target("wearout_peak_exposures", tier="micro"),
                                  np.ones(1))


@pytest.mark.parametrize("peak", [1.0, 2.0, 5.0, 10.0, 17.0, 30.0])
def test_wearout_peak_is_the_repetition_peak_without_other_dynamics(peak):
    """With trust growth, fatigue and decay off, the attitude after N exposures is
    N (2P - N) / (2P - 1) (docs/model.md §7.5), whose integer maximum is N = P."""
    assert _wearout(repetition_peak=peak) == peak
    n = np.arange(1, 31)
    curve = attitude_curve({**_DYN, "repetition_peak": peak}, "micro")
    np.testing.assert_allclose(curve, 0.5 * n * (2 * peak - n) / (2 * peak - 1), rtol=1e-12, atol=1e-12)


def test_wearout_peak_moves_with_decay_fatigue_and_trust_growth():
    """Without decay the top is where the repetition weight turns negative, whatever scales the
    doses; decay discounts earlier exposures against later ones (an earlier top), fatigue with decay
    earlier still, trust growth with decay later;
    no peak and no decay: attitude rises over the whole search range."""
    base = _wearout()
    decayed = _wearout(conviction_decay=0.1)
    assert decayed < base
    assert _wearout(conviction_decay=0.1, fatigue=0.2) < decayed
    assert _wearout(conviction_decay=0.1, trust_growth=0.3, trust_ceiling=1.0, **{"trust.micro": 0.1}) > decayed
    assert _wearout(repetition_peak=float("nan")) == WEAROUT_MAX
    # one step of the rules by hand: decay 0.5, fatigue 0.5 (no recovery), growth 0.5 to ceiling 1
    d = {**_DYN, "conviction_decay": 0.5, "fatigue": 0.5, "trust_growth": 0.5, "trust_ceiling": 1.0,
         "repetition_peak": float("nan")}
    c = attitude_curve(d, "micro", 2)
    assert c[0] == pytest.approx(0.5) and c[1] == pytest.approx(0.5 * 0.5 + 0.75 * 0.5)


# ----------------------------------------------------------------------------- resampling

def test_systematic_resample_counts():
    w = np.array([0.05, 0.5, 0.2, 0.25])
    for u0 in (0.0, 0.3, 0.999):
        counts = np.bincount(systematic_resample(w, 20, u0), minlength=4)
        assert counts.sum() == 20
        assert np.all((counts == np.floor(20 * w)) | (counts == np.ceil(20 * w))), counts


# ----------------------------------------------------------------------------- scenarios

def _posterior(tmp_path: Path, rows: int = 50, weight: bool = True, **extra) -> Path:
    rng = np.random.default_rng(3)
    data = {"world.tiers.micro.engagement": rng.uniform(0.1, 0.2, rows),
            "model.threshold.max": rng.uniform(10, 30, rows),
            "model.peer_reach": np.full(rows, 1.0), **extra}
    if weight:
        data["weight"] = rng.dirichlet(np.ones(rows))
    path = tmp_path / "p.posterior.parquet"
    pd.DataFrame(data).to_parquet(path)
    return path


def _plain() -> str:
    """The example scenario without its ``parameters`` line."""
    return SCENARIO.read_text(encoding="utf-8").replace("parameters: calibration/fitted/benchmarks.yaml\n", "")


def _scenario(tmp_path: Path, parameters: str, extra: str = "", name: str = "s.yaml") -> Path:
    text = _plain().replace("days: 28", f"days: 28\nparameters: {parameters}{extra}", 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_posterior_draws_become_points(tmp_path):
    post = _posterior(tmp_path)
    s = load_scenario(_scenario(tmp_path, f"{{posterior: {post}, draws: 7}}"))
    assert s.sweep.design.value == "posterior" and s.sweep.samples == 7
    assert [u.path for u in s.sweep.uncertainties] == ["world.tiers.micro.engagement", "model.threshold.max"]
    assert s.model.peer_reach == 1.0  # a constant column is written once
    from sim.input.design import design

    points = design(s).points
    chosen = choose(post, 7, s.seed)
    assert len(points) == 7
    for p, row in zip(points, chosen.values, strict=True):
        assert p.scenario.world.tiers["micro"].engagement == row[0] and p.scenario.model.threshold.max == row[1]
    # point 0's values are the scenario's own
    assert s.world.tiers["micro"].engagement == chosen.values[0, 0]


def test_draws_are_keyed_by_the_seed(tmp_path):
    post = _posterior(tmp_path, rows=400, weight=False)
    a, b, c = choose(post, 30, 5), choose(post, 30, 5), choose(post, 30, 6)
    assert np.array_equal(a.rows, b.rows) and not np.array_equal(a.rows, c.rows)
    assert len(set(a.rows)) == 30  # equal weights, n < rows: systematic resampling draws no row twice


@pytest.mark.parametrize("parameters, key, words", [
    ("{posterior: nowhere.parquet, draws: 3}", "parameters.posterior", "no posterior file"),
    ("{posterior: POST, draws: 500}", "parameters.draws", "500 asked for"),
    ("{posterior: POST, draws: 0}", "parameters.draws", "greater than or equal to 1"),
    ("{posterior: POST, draws: 3, extra: 1}", "parameters.extra", ""),
])
def test_bad_posterior_is_located(tmp_path, parameters, key, words):
    post = _posterior(tmp_path)
    path = _scenario(tmp_path, parameters.replace("POST", str(post)))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    text = "\n".join(exc.value.problems)
    assert f"{path}:" in text and key in text and words in text, text


def test_posterior_with_wrong_columns(tmp_path):
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"colour": [1.0, 2.0]}).to_parquet(bad)
    with pytest.raises(ScenarioError, match="not a parameter key path"):
        load_scenario(_scenario(tmp_path, f"{{posterior: {bad}, draws: 1}}"))
    missing = _posterior(tmp_path, **{"world.tiers.giga.engagement": np.ones(50)})
    with pytest.raises(ScenarioError) as exc:
        load_scenario(_scenario(tmp_path, f"{{posterior: {missing}, draws: 2}}"))
    assert "giga" in exc.value.problems[0] and "parameters.posterior" in exc.value.problems[0]


def test_an_enormous_posterior_is_refused_unread(tmp_path, monkeypatch):
    import sim.input.posterior as posterior

    post = _posterior(tmp_path)
    monkeypatch.setattr(posterior, "MAX_BYTES", post.stat().st_size - 1)
    path = _scenario(tmp_path, f"{{posterior: {post}, draws: 3}}")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    (line,) = exc.value.problems
    assert line.startswith(f"{path}:") and "parameters.posterior" in line and "bytes, more than" in line


def test_posterior_with_a_sweep_is_refused(tmp_path):
    post = _posterior(tmp_path)
    sweep = "\nsweep: {uncertainties: [{path: model.reshare, levels: [0.1, 0.2]}]}"
    path = _scenario(tmp_path, f"{{posterior: {post}, draws: 3}}", sweep)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert exc.value.problems[0].startswith(f"{path}:") and "sweep" in exc.value.problems[0]


def test_hand_set_calibrated_values_warn(tmp_path):
    """A campaign scenario naming no calibrated set warns and says so on its report; one that names
    the set does not; a sweep over a calibrated parameter warns."""
    plain = _plain()
    path = tmp_path / "plain.yaml"
    path.write_text(plain, encoding="utf-8")
    with pytest.warns(UserWarning, match="uncalibrated"):
        s = load_scenario(path)
    assert any("threshold.max" in n for n in calibration_notes(s))
    named = tmp_path / "named.yaml"
    named.write_text(plain.replace("days: 28", "days: 28\nparameters: calibration/fitted/benchmarks.yaml", 1),
                     encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert calibration_notes(load_scenario(named)) == []
    swept = tmp_path / "swept.yaml"
    swept.write_text(named.read_text(encoding="utf-8") +
                     "\nsweep: {uncertainties: [{path: model.threshold.max, levels: [5, 10]}]}\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="sweep sets calibrated parameters by hand"):
        load_scenario(swept)


def test_posterior_scenario_runs_and_reports(tmp_path):
    from sim import run

    post = _posterior(tmp_path)
    s = load_scenario(_scenario(tmp_path, f"{{posterior: {post}, draws: 3}}"))
    out = tmp_path / "out"
    results = run(s, trials=2, out=out)
    assert sorted(results.table.point.unique()) == [0, 1, 2]
    report = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert "draws of the posterior" in report


def test_the_planners_answer_integrates_the_draws(tmp_path):
    """The decision layer takes the posterior's draws as its assumption points, equally weighted
    (they were resampled by weight): with 3 points the 10th and 90th percentiles across points are
    the smallest and largest per-draw mean (Hazen positions (k - 1/2)/3 put 10% and 90% outside the
    middle point), and the expectation is the plain mean of the per-draw means."""
    from sim import run

    post = _posterior(tmp_path)
    s = load_scenario(_scenario(tmp_path, f"{{posterior: {post}, draws: 3}}"))
    results = run(s, trials=4)
    d = results.decision()
    assert d.points.n == 3 and np.allclose(d.points.weights, 1 / 3)
    assert "posterior draws" in d.points.source and str(post) in d.points.source
    assert set(d.points.labels) == {"micro.engagement", "threshold.max"}
    per_point = results.table.groupby(["strategy", "point"], observed=True).adopted.mean().unstack("point")
    for name, row in per_point.iterrows():
        r = d.row(str(name))
        assert r["adopters_p10"] == pytest.approx(row.min()) and r["adopters_p90"] == pytest.approx(row.max())
        assert r["adopters_mean"] == pytest.approx(row.mean())


def test_a_hand_set_null_calibrated_value_is_noted(tmp_path, monkeypatch):
    """A scenario that sets a calibrated parameter to null by hand (no repetition peak: the old
    model) runs with the hand-set note, which shows it as null. No parameter of the committed set
    is nullable (the repetition peak was calibrated once and is hand-set now), so the set here
    lists it as calibrated."""
    import sim.input.posterior as posterior_module

    paths = posterior_module.calibrated_paths()
    monkeypatch.setattr(posterior_module, "calibrated_paths", lambda base_dir=None: (*paths, "model.repetition_peak"))
    text = _plain().replace("model:\n", "model:\n  repetition_peak: null\n", 1)
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = load_scenario(path)
    assert s.model.repetition_peak is None
    (note,) = [n for n in calibration_notes(s) if n.startswith("uncalibrated")]
    assert "model.repetition_peak = null" in note
