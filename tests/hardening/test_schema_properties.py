"""Property-based tests over the scenario schema (hypothesis): whatever a file holds, loading it
either gives a valid scenario or a ScenarioError whose every line names file and line; never
another exception."""

from __future__ import annotations

import copy
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.input.design import design
from sim.input.scenario import Scenario, ScenarioError, parse_scenario

BASE = yaml.safe_load("""
name: prop
seed: 1
trials: 4
days: 10
world:
  kind: creator_audience
  scale: 10
  audience:
    peers: {kind: erdos_renyi, n: 300, mean_degree: 3.0}
    segments: [{name: all, share: 1.0, platforms: {instagram: 0.9}}]
    interest: {mean: 0.3, concentration: 4, homophily: 0.5}
  platforms: {instagram: {organic_reach: 0.2, discovery: 0.1}}
  tiers:
    micro: {followers: [1000, 3000], count: 10, platforms: {instagram: 1.0}, engagement: 0.1, trust: 0.5}
model: {kind: campaign, reshare: 0.1, trust_growth: 0.1}
rate_card: {instagram: {micro: 300}}
strategies:
  - name: a
    posts: [{tier: micro, platform: instagram, budget: 1000, days: [0, 3]}]
sweep:
  uncertainties: [{path: model.reshare, levels: [0.0, 0.2]}]
""")

LINE = re.compile(r"^prop\.yaml(:\d+)?: ")


def paths(node, prefix=()):
    """Every key path of a nested document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i))


PATHS = list(paths(BASE))
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


def mutate(doc, path, value, delete):
    doc = copy.deepcopy(doc)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def outcome(text: str):
    """``(scenario, its design, None)`` if the text is accepted, ``(None, None, problems)`` if it is
    refused; any other exception escapes (and fails the test)."""
    try:
        scenario = parse_scenario(text, source="prop.yaml")
        return scenario, design(scenario), None
    except ScenarioError as exc:
        return None, None, exc.problems


def faults(scenario, points, problems) -> list[str]:
    """What is wrong with an outcome. Refused: every problem must name file and line. Accepted: the
    scenario must have at least one point to run and validate again, unchanged, from its own
    resolved form (nothing accepted half-parsed)."""
    if (scenario is None) == (problems is None):
        return ["neither accepted nor refused"]
    if scenario is None:
        return [p for p in problems if not LINE.match(p)] or ([] if problems else ["refused without a problem"])
    out = [] if len(points.points) >= 1 else ["accepted with no point to run"]
    again = Scenario.model_validate(scenario.model_dump(mode="python"))
    if again.model_dump(mode="json") != scenario.model_dump(mode="json"):
        out.append("the accepted scenario does not validate again to itself")
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), VALUES, st.booleans())
def test_any_one_value_changed_or_removed_is_accepted_or_refused_with_its_line(path, value, delete):
    found = faults(*outcome(yaml.safe_dump(mutate(BASE, path, value, delete), sort_keys=False)))
    assert not found, found


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_accepted_or_refused_with_a_line(text):
    found = faults(*outcome(text))
    assert not found, found


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PATHS), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10))
def test_an_unknown_key_anywhere_is_refused(path, key):
    doc = copy.deepcopy(BASE)
    node = doc
    for k in path:
        node = node[k]
    if not isinstance(node, dict) or key in node:
        return
    node[key] = 1
    text = yaml.safe_dump(doc, sort_keys=False)
    free = path[-1] in {"rate_card", "instagram", "platforms", "partnership_cost", "tiers"}
    try:
        parse_scenario(text, source="prop.yaml")
    except ScenarioError as exc:
        # A block refuses the key by name; a free mapping (rate cards, platform shares) may refuse
        # it for what it does to the block (shares no longer summing to 1, an unknown platform).
        assert free or any(key in p for p in exc.problems), exc.problems
        return
    assert free, (path, key)


# --- odd YAML text anywhere (issue 17, item 6): deep nesting in flow and block style, numbers
# Python cannot convert, tags on text they do not fit, merge keys, tagged keys, byte-order marks.
ODD_SCALARS = st.sampled_from([
    "9" * 5000, "-" + "9" * 30, "0x" + "f" * 40, "0x_", "0o", "1__", "!!int abc", "!!int ''", "!!float abc",
    "!!float 0x10", "!!bool maybe", "!!null x", "!!str 1", "<<", ".nan", "-.inf", "1e400", "-1e-400", "~", "''",
    '"\\ud800"', '"\\0"', "\ufeff1", "é😀", "!!python/name:os.system", "!local x", "!!binary aGk=", "!!set {a}",
    "&anchor 1", "*anchor", "18446744073709551615", "18446744073709551616", "-9223372036854775809", "1:20",
])
SCALARS = ODD_SCALARS | st.integers(-2**70, 2**70).map(str) | st.floats().map(repr) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8).map(lambda t: yaml.safe_dump(t).strip())


@st.composite
def odd_fragments(draw) -> str:
    """A YAML value: an odd scalar, wrapped in up to 120 levels of flow lists or mappings, or an
    odd key; sometimes a block sequence (only valid where a block value may stand)."""
    scalar = draw(SCALARS)
    depth = draw(st.integers(0, 120))
    kind = draw(st.sampled_from(["flow_list", "flow_map", "block_list", "key", "plain"]))
    if kind == "flow_list":
        return "[" * depth + scalar + "]" * depth
    if kind == "flow_map":
        return "{a: " * depth + scalar + "}" * depth
    if kind == "block_list":
        return "\n  " + "- " * depth + scalar
    if kind == "key":
        return "{" + scalar + ": 1}"
    return scalar


MARK = "__odd_value__"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), odd_fragments(), st.sampled_from(["", "\ufeff", "%YAML 1.2\n---\n"]),
       st.sampled_from(["", "\n---\n", "\n...\n"]))
def test_odd_yaml_anywhere_is_accepted_or_refused_with_its_line(path, fragment, head, tail):
    text = yaml.safe_dump(mutate(BASE, path, MARK, False), sort_keys=False).replace(MARK, fragment, 1)
    found = faults(*outcome(head + text + tail))
    assert not found, found
