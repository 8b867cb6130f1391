"""The classic cascade models as one family (:class:`sim.families.protocol.ModelFamily`).

Independent Cascade, Linear Threshold, Watts' fractional and general thresholds: blocks in
:mod:`sim.classic.spec`, per-edge arrays from :mod:`sim.classic.model`, recruits from
:mod:`sim.classic.recruits`, trials on an engine of :data:`ENGINES`, tables from
:mod:`sim.classic.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.base.rng import root_key
from sim.classic.metrics import ROW_BYTES, classic_tables
from sim.classic.model import CompiledModel, ModelInputError, compile_model
from sim.classic.recruits import RecruitError, RecruitPlan, plan_recruits
from sim.classic.spec import (
    CLASSIC_OUTCOMES,
    ClassicModel,
    FractionalThreshold,
    GeneralThreshold,
    IndependentCascade,
    LinearThreshold,
    NormalThresholds,
)
from sim.families.chunks import ChunkTables
from sim.families.protocol import Column, ModelFamily, ModuleEngine, Prepared
from sim.input.scenario import Scenario, ScenarioError
from sim.world.build import World
from sim.world.facts import WorldFacts


@dataclass(frozen=True, eq=False)
class ClassicOutcome:
    """What a classic engine returns for a chunk: per trial, final active accounts (recruits
    included) and the step of the last activation."""

    trials: np.ndarray
    adopted: np.ndarray
    steps: np.ndarray


class ClassicEngine(ModuleEngine):
    """A classic engine: a module with ``final_sizes(graph, model, plan, root, trials, max_steps)``
    returning ``(adopted, steps)`` (and ``activation_times`` for inspection)."""

    def simulate(self, point: Prepared, plan: RecruitPlan, trials: np.ndarray) -> ClassicOutcome:
        """Run trials ``trials`` of the strategy with these recruits."""
        s = point.scenario
        adopted, steps = self.module.final_sizes(point.world.graph, point.model, plan, root_key(s.seed), trials,
                                                 s.max_steps)
        return ClassicOutcome(trials, adopted, steps)


class CudaEngine(ClassicEngine):
    """The classic models on a CUDA GPU (:mod:`sim.classic.cuda_kernel`): the numba engine's trials,
    identical, from the same keyed draws. Needs numba.cuda and a GPU (``pip install
    advocacy-sim[gpu]``), or numba's CUDA simulator for tests."""

    def check(self, scenario: Scenario, point: Prepared | None = None) -> None:
        """Refuse normal thresholds (not ported), a machine without a usable GPU, and a world
        whose graph and scratch do not fit in the GPU's free memory."""
        model = scenario.model
        if isinstance(model, GeneralThreshold) and isinstance(model.thresholds, NormalThresholds):
            raise ScenarioError([scenario.locate(("engine",), self.module.NORMAL_REFUSED + ": use engine numba")])
        why = self.module.unavailable()
        if why is not None:
            raise ScenarioError([scenario.locate(("engine",), f"the cuda engine cannot run here: {why}")])
        if point is not None:
            try:
                self.module.check_fits(point.world.graph, point.model)
            except self.module.DeviceMemoryError as exc:
                raise ScenarioError([scenario.locate(("world",), str(exc))]) from None


#: The engines of the classic models, by the name a scenario's ``engine`` gives. All give the
#: same activation times from the same keyed draws; a new engine is one entry here.
ENGINES: dict[str, ClassicEngine] = {
    "numba": ClassicEngine("sim.classic.kernel"),
    "mesa": ClassicEngine("sim.classic.agents"),
    "cuda": CudaEngine("sim.classic.cuda_kernel"),
}


class ClassicFamily(ModelFamily):
    """IC, LT, fractional and general thresholds on a network; recruits start the cascade."""

    name = "classic"
    models = (IndependentCascade, LinearThreshold, FractionalThreshold, GeneralThreshold)
    outcomes = CLASSIC_OUTCOMES
    engines = ENGINES
    headline = (Column("adopted", "adopted ± 95% CI"), Column("adopted_fraction", "fraction", "{:.4f}"),
                Column("steps", "steps (mean)", "{:.2f}"))
    dtypes = {"adopted": "int64", "adopted_fraction": "float64", "steps": "int32"}

    def compile(self, scenario: Scenario, world: World) -> CompiledModel:
        """The model's per-edge arrays on the world's graph (located error if it lacks weights)."""
        model = scenario.model
        assert isinstance(model, ClassicModel)  # this family is only asked for its own models
        try:
            return compile_model(model, world.graph)
        except ModelInputError as exc:
            raise ScenarioError([scenario.locate(("model",), str(exc))]) from None

    def plan(self, scenario: Scenario, world: World, compiled: CompiledModel) -> tuple[RecruitPlan, ...]:
        """Every strategy's recruit plan; every recruit the graph lacks is reported."""
        plans, problems = [], []
        for i, strategy in enumerate(scenario.strategy_list):
            assert strategy.recruits is not None  # ClassicModelBlock.check_scenario: every strategy has recruits
            try:
                plans.append(plan_recruits(strategy.recruits, world.graph, scenario.strategy_key(i)))
            except RecruitError as exc:
                problems.append(scenario.locate(exc.key, str(exc)))
        if problems:
            raise ScenarioError(problems)
        return tuple(plans)

    def tabulate(self, point: Prepared, plan: RecruitPlan, names: Sequence[str], strategy: int,
                 outcome: ClassicOutcome) -> ChunkTables:
        """The chunk's trial table."""
        return classic_tables(names, strategy, outcome.trials, outcome.adopted, outcome.steps, point.world.graph.n)

    def describe(self, scenario: Scenario, facts: WorldFacts) -> list[str]:
        """The network and the model in one sentence."""
        return [f"The world: a network of {facts.accounts:,} accounts and {facts.edges:,} follow edges "
                f"({facts.graph}); model: {scenario.model.kind.replace('_', ' ')}."]

    def size_axis(self, facts: WorldFacts) -> tuple[float, str]:
        """Accounts of the network; adopters counted with the recruits."""
        return facts.accounts, "final adopters per trial (recruits included)"

    def result_tables(self, scenario: Scenario, points: Sequence[Prepared]) -> list[tuple[int, int]]:
        """One row per (point, strategy, trial)."""
        return [(len(points) * len(scenario.strategy_list) * scenario.trials, ROW_BYTES)]


#: The classic family.
FAMILY = ClassicFamily()
