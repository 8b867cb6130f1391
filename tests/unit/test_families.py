"""Model families: the registry finds every model's family, engines are one registration each,
and an engine added that way runs through the whole pipeline with the same table."""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd
import pytest

import sim.classic.family as classic_family
from sim import parse_scenario, prepare, run
from sim.families.protocol import ModelFamily, ModuleEngine
from sim.families.registry import FAMILIES, engine_names, family_of
from sim.input.scenario import ModelSpec, ScenarioError

SCENARIO = """\
name: fam
seed: 5
trials: 70
world:
  graph: {kind: erdos_renyi, n: 400, mean_degree: 3.0}
model: {kind: independent_cascade, edge_prob: 0.3}
strategies:
  - {name: a, recruits: {rule: random, count: 2}}
  - {name: b, recruits: {rule: top_degree, count: 2}}
"""


def test_every_model_block_has_exactly_one_family():
    blocks = typing.get_args(typing.get_args(ModelSpec)[0])
    owners = {block: [f for f in FAMILIES.values() if block in f.models] for block in blocks}
    assert all(len(found) == 1 for found in owners.values()), owners
    for name, family in FAMILIES.items():
        assert isinstance(family, ModelFamily) and family.name == name
        assert all(block.family == name and block.outcomes == family.outcomes for block in family.models)


def test_engines_live_in_their_family_and_have_what_the_family_calls():
    needs = {"classic": ("final_sizes", "activation_times"), "campaign": ("simulate", "cascade_tree")}
    for family in FAMILIES.values():
        assert {"numba", "mesa"} <= set(family.engines)
        for engine in family.engines.values():
            assert isinstance(engine, ModuleEngine)
            assert engine.module_name.startswith(f"sim.{family.name}.")
            assert all(callable(getattr(engine.module, f)) for f in needs[family.name]), engine
    assert engine_names() == ["cuda", "mesa", "numba"]  # cuda: the classic family's GPU engine


def test_family_of_a_scenario():
    s = parse_scenario(SCENARIO)
    assert family_of(s) is FAMILIES["classic"] is family_of(s.model)
    assert family_of(s).outcomes == ("adopted", "adopted_fraction", "steps")


def test_an_engine_registered_in_one_line_runs_the_whole_pipeline(monkeypatch):
    """The GPU engine's path: one entry in the family's ENGINES makes ``engine: <name>`` valid in
    run(), and (here a second copy of the numba engine) gives the reference table."""
    s = parse_scenario(SCENARIO)
    with pytest.raises(ScenarioError, match="no engine 'twin' runs the classic models"):
        prepare(s.with_overrides(engine="twin"))
    monkeypatch.setitem(classic_family.ENGINES, "twin", classic_family.ClassicEngine("sim.classic.kernel"))
    reference, twin = run(s), run(s, engine="twin")
    assert twin.info.engine == "twin"
    pd.testing.assert_frame_equal(reference.table, twin.table)
    assert np.all(reference.table["adopted"] >= 2)
