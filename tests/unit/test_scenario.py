"""Scenario validation: strict types, ranges, unknown keys; every message names file, line and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sim.input.scenario import ScenarioError, load_scenario, parse_scenario

BASE = textwrap.dedent("""\
    name: er_ic
    seed: 7
    trials: 400
    world:
      graph: {kind: erdos_renyi, n: 2000, mean_degree: 4.0, directed: false}
    model: {kind: independent_cascade, edge_prob: 0.5}
    recruits: {rule: random, count: 1}
    """)


def problems(text: str, tmp_path) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def test_issue_example_is_valid(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE)
    s = load_scenario(path)
    assert (s.name, s.seed, s.trials) == ("er_ic", 7, 400)
    assert s.world.graph.n == 2000 and s.model.edge_prob == 0.5
    assert [st.name for st in s.strategy_list] == ["random"]


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "words"),
    [
        ("trials: 400", "trials: -4", 3, "trials", "greater than or equal to 1"),
        ("edge_prob: 0.5", "edge_prob: 1.5", 6, "model.edge_prob", "[0, 1]"),
        ("mean_degree: 4.0", "mean_degre: 4.0", 5, "world.graph.mean_degre", "did you mean 'mean_degree'"),
        ("kind: erdos_renyi", "kind: erdos", 5, "world.graph.kind", "barabasi_albert"),
        ("directed: false", "directed: no", 5, "world.graph.directed", "valid boolean"),
        ("count: 1", "count: 1, fraction: 0.1", 7, "recruits", "exactly one of 'count' or 'fraction'"),
        ("seed: 7", "seed: -1", 2, "seed", "greater than or equal to 0"),
        ("n: 2000", "n: 2000.5", 5, "world.graph.n", "valid integer"),
        ("n: 2000", "n: true", 5, "world.graph.n", "valid integer"),
        ("rule: random", "rule: best", 7, "recruits.rule", "top_degree"),
        ("recruits: {rule: random, count: 1}", "", 1, "(top level)", "exactly one of 'recruits'"),
    ],
)
def test_bad_values_name_file_line_key_and_allowed(tmp_path, old, new, line, key, words):
    got = problems(BASE.replace(old, new), tmp_path)
    assert len(got) == 1, got
    msg = got[0]
    assert msg.startswith(f"{tmp_path / 's.yaml'}:{line}: {key}: "), msg
    assert words in msg
    assert "\n" not in msg


def test_missing_key_points_at_parent(tmp_path):
    got = problems(BASE.replace("mean_degree: 4.0, ", ""), tmp_path)
    assert got == [f"{tmp_path / 's.yaml'}:5: world.graph.mean_degree: required key is missing"]


def test_duplicate_keys_are_refused(tmp_path):
    got = problems(BASE + "seed: 8\n", tmp_path)
    assert "duplicate key seed" in got[0] and ":8:" in got[0] and "line 2" in got[0]


def test_yaml12_numbers(tmp_path):
    """``1e-3`` is a number (YAML 1.1 would make it a string), ``0o17`` octal, ``017`` decimal."""
    s = parse_scenario(BASE.replace("edge_prob: 0.5", "edge_prob: 5e-1").replace("seed: 7", "seed: 017"))
    assert s.model.edge_prob == 0.5 and s.seed == 17


def test_missing_edgelist_file(tmp_path):
    text = BASE.replace("{kind: erdos_renyi, n: 2000, mean_degree: 4.0, directed: false}",
                        "{kind: edgelist, path: nowhere.txt, directed: true}")
    got = problems(text, tmp_path)
    assert got[0].startswith(f"{tmp_path / 's.yaml'}:5: world.graph.path: no such file")


def test_edgelist_path_is_relative_to_scenario(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "g.txt").write_text("1 2\n2 3\n")
    text = BASE.replace("{kind: erdos_renyi, n: 2000, mean_degree: 4.0, directed: false}",
                        "{kind: edgelist, path: data/g.txt, directed: true}")
    (tmp_path / "s.yaml").write_text(text)
    assert load_scenario(tmp_path / "s.yaml").world.graph.path == str(tmp_path / "data" / "g.txt")


def test_unknown_dataset_lists_known(tmp_path):
    text = BASE.replace("{kind: erdos_renyi, n: 2000, mean_degree: 4.0, directed: false}",
                        "{kind: dataset, name: twitter}")
    got = problems(text, tmp_path)
    assert "unknown dataset 'twitter'" in got[0] and "wiki-vote" in got[0]


def test_strategies_need_unique_names(tmp_path):
    text = BASE.replace("recruits: {rule: random, count: 1}", textwrap.dedent("""\
        strategies:
          - {name: a, recruits: {rule: random, count: 1}}
          - {name: a, recruits: {rule: top_degree, count: 1}}"""))
    assert "repeated: a" in problems(text, tmp_path)[0]


def test_several_problems_are_all_reported(tmp_path):
    got = problems(BASE.replace("trials: 400", "trials: 0").replace("edge_prob: 0.5", "edge_prob: -1"), tmp_path)
    assert len(got) == 2


def test_overrides_are_validated():
    s = parse_scenario(BASE)
    assert s.with_overrides(trials=3).trials == 3
    with pytest.raises(ScenarioError):
        s.with_overrides(trials=-3)


def test_digest_changes_with_content_only():
    a, b = parse_scenario(BASE), parse_scenario("# a comment\n" + BASE)
    assert a.digest() == b.digest()
    assert a.digest() != a.with_overrides(seed=8).digest()


def test_order_of_tiers_is_part_of_the_scenario_and_survives_json():
    """Creators are numbered tier by tier: reordering tiers builds another world, so it must change
    the digest, and a scenario rebuilt from its JSON (as Dask workers do) keeps the order."""
    from sim import load_scenario
    from sim.input.scenario import Scenario

    s = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "celebrity_vs_micro.yaml")
    data = s.model_dump(mode="python")
    data["world"]["tiers"] = dict(reversed(list(data["world"]["tiers"].items())))
    flipped = Scenario.model_validate(data)
    assert list(flipped.world.tiers) == list(reversed(list(s.world.tiers)))
    assert flipped.digest() != s.digest()
    back = Scenario.model_validate_json(s.canonical_json())
    assert list(back.world.tiers) == list(s.world.tiers) and back.digest() == s.digest()
