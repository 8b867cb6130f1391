"""Key paths: one walk over mappings, lists and tuples, used by sweeps, calibrations, fitted sets
and error messages alike."""

from __future__ import annotations

import pytest

from sim.input import keypaths
from sim.input.errors import InputError, KeyedProblem

DOC = {"world": {"tiers": {"micro": {"trust": 0.5, "followers": (1000, 50000)}}},
       "strategies": [{"name": "a", "posts": [{"tier": "micro"}]}],
       "rate_card": {"instagram": {"micro": 500.0}}}


def test_split_and_dotted_are_inverse():
    assert keypaths.split("world.tiers.micro.trust") == ("world", "tiers", "micro", "trust")
    assert keypaths.dotted(("strategies", 0, "posts")) == "strategies.0.posts"
    assert keypaths.dotted(keypaths.split("a.b.0")) == "a.b.0"


@pytest.mark.parametrize("keys, value", [
    (("world", "tiers", "micro", "trust"), 0.5),
    (("world", "tiers", "micro", "followers", "1"), 50000),  # a tuple, by digit string
    (("world", "tiers", "micro", "followers", 0), 1000),  # a tuple, by position
    (("strategies", "0", "posts", 0, "tier"), "micro"),  # lists alike
])
def test_get_walks_mappings_lists_and_tuples(keys, value):
    assert keypaths.get(DOC, keys) == value


@pytest.mark.parametrize("keys", [("world", "nope"), ("strategies", "1"), ("strategies", "x"),
                                  ("world", "tiers", "micro", "trust", "deeper")])
def test_get_refuses_what_is_not_there(keys):
    with pytest.raises(KeyError):
        keypaths.get(DOC, keys)


def test_with_values_copies_and_writes_through_tuples_and_lists():
    out = keypaths.with_values(DOC, {("world", "tiers", "micro", "followers", "0"): 2000,
                                     ("strategies", "0", "posts", "0", "tier"): "nano",
                                     ("rate_card", "instagram", "nano"): 100.0})
    assert out["world"]["tiers"]["micro"]["followers"] == (2000, 50000)  # still a tuple
    assert out["strategies"][0]["posts"][0]["tier"] == "nano"
    assert out["rate_card"]["instagram"] == {"micro": 500.0, "nano": 100.0}  # a free mapping gains a key
    assert DOC["world"]["tiers"]["micro"]["followers"] == (1000, 50000)  # the original is untouched
    assert DOC["strategies"][0]["posts"][0]["tier"] == "micro"
    with pytest.raises(KeyError):
        keypaths.with_values(DOC, {("world", "nope", "x"): 1})


@pytest.mark.parametrize("keys, words", [
    (("world", "tiers", "micro", "trust"), None),
    (("world", "tiers", "micro", "followers", "1"), None),
    (("rate_card", "instagram", "nano"), None),  # a free mapping may gain a key
    (("world", "tierz", "micro"), "'world.tierz.micro': world has no key 'tierz'; did you mean 'tiers'?"),
    (("world", "tiers", "micro", "trustt"), None),  # micro holds no block: a free mapping
    (("world", "tiers", "micro", "followers", "2"), "is a list of 2; '2' is not an index of it"),
    (("world", "tiers", "micro", "trust", "x"), "world.tiers.micro.trust is a value, not a block"),
    (("world", "tiers"), "'world.tiers' is a block; an uncertainty varies one value"),
])
def test_problem_names_what_is_wrong(keys, words):
    found = keypaths.problem(DOC, keys)
    assert found is None if words is None else words in found


def test_existing_drops_union_tags_and_stops_at_values():
    loc = ("world", "creator_audience", "tiers", "micro", "followers", 1)
    assert keypaths.existing(DOC, loc) == ("world", "tiers", "micro", "followers", 1)
    assert keypaths.existing(DOC, ("strategies", 0, "posts", 5, "tier")) == ("strategies", 0, "posts")
    trust = ("world", "tiers", "micro", "trust")
    assert keypaths.existing(DOC, (*trust, "x", "y")) == trust


def test_one_input_error_class():
    err = InputError(["a.yaml:3: x: bad", "a.yaml:4: y: worse"])
    assert err.problems == ["a.yaml:3: x: bad", "a.yaml:4: y: worse"] and str(err) == "\n".join(err.problems)
    from sim.calibration.spec import CalibrationError
    from sim.calibration.targets import TargetsError
    from sim.experiments.definition import ExperimentError
    from sim.input.fitted import FittedError
    from sim.input.scenario import ScenarioError

    for cls in (ScenarioError, CalibrationError, TargetsError, ExperimentError, FittedError):
        assert issubclass(cls, InputError) and cls.__init__ is InputError.__init__
        assert cls(["f:1: k: m"]).problems == ["f:1: k: m"]
    problem = KeyedProblem(("strategies", 0), "no such creator")
    assert problem.key == ("strategies", 0) and str(problem) == "no such creator"
