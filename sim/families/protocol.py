"""A model family: the one object through which the runner, the results and the report use a model.

A *family* is a set of contagion models that share their compiled arrays, engines and tables:
the classic cascade models (IC, LT, Watts' threshold: :mod:`sim.classic.family`) and the
campaign model (:mod:`sim.campaign.family`). Each exports one :class:`ModelFamily` object;
:mod:`sim.families.registry` maps a scenario's model to it. Nothing outside a family's package
asks which model a scenario runs: it asks the family.

What a family provides, stage by stage:

* input: its scenario blocks (:attr:`ModelFamily.models`, in the family's ``spec`` module, where
  the blocks also check that the scenario around them fits them);
* preparing a point: :meth:`~ModelFamily.compile` (the model laid onto a built world) and
  :meth:`~ModelFamily.plan` (each strategy's recruits or partners and posts), both reporting
  problems as located input errors;
* running trials: :attr:`~ModelFamily.engines`, name -> :class:`Engine`; every engine of a family
  computes the same outcome from the same keyed random numbers, and adding one is one entry in
  the family's table (``numba`` and ``mesa`` today);
* tables: :meth:`~ModelFamily.tabulate` (one chunk's outcome as Arrow tables),
  :attr:`~ModelFamily.outcomes` (the trial table's outcome columns), :meth:`~ModelFamily.detail`
  (tables beyond the trial table, typed), sizes for the memory check;
* words: :meth:`~ModelFamily.describe` (the world and model in plain words), the headline
  columns of a summary, what a final-size figure counts;
* the planner's answer: :meth:`~ModelFamily.budgets` (what each strategy was given to spend),
  :meth:`~ModelFamily.describe_plan` (a strategy in words), :meth:`~ModelFamily.terms` (words the
  answer uses, explained), :meth:`~ModelFamily.feasibility` (plans that cannot be bought, found
  before any world is built).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from sim.families.chunks import ChunkTables
from sim.input.scenario import Scenario, ScenarioError
from sim.input.schema import Spec
from sim.world.build import World
from sim.world.facts import WorldFacts, world_facts

if TYPE_CHECKING:
    from sim.campaign.metrics import CampaignTables


@dataclass(frozen=True, eq=False)
class Prepared:
    """A scenario made ready to run: its world, its compiled model and every strategy's plan.

    Attributes
    ----------
    scenario : Scenario
    world : World
    model : Any
        The family's compiled arrays (classic per-edge arrays, campaign world arrays).
    plans : tuple
        One per strategy, in the scenario's order: who starts the cascade, or which partners
        post when (empty where a worker rebuilt the point: tasks carry their own plan).
    """

    scenario: Scenario
    world: World
    model: Any
    plans: tuple[Any, ...]

    def world_facts(self) -> WorldFacts:
        """Accounts, edges and make-up of the world."""
        return world_facts(self.world, self.scenario.world)


class Engine(ABC):
    """Runs a family's trials. Every engine of a family gives the same outcome, trial by trial."""

    @abstractmethod
    def simulate(self, point: Prepared, plan: Any, trials: np.ndarray) -> Any:
        """The outcome of trials ``trials`` (int64 array) of the strategy whose plan is ``plan``, at
        ``point``, in the family's outcome type (what :meth:`ModelFamily.tabulate` reads)."""

    def check(self, scenario: Scenario, point: Prepared | None = None) -> None:  # noqa: B027 -- optional hook
        """Refuse what this engine cannot run here: before anything is built (``point`` None),
        then once a point is prepared (its world must fit the engine's memory, say).

        The default refuses nothing. An engine that needs hardware (a GPU) or supports only part
        of its family's models says so here, so that a run is refused with a located input
        error (exit 2) before any trial runs.

        Raises
        ------
        ScenarioError
            Located at the scenario key to blame (``engine``, ``world``, ``model``).
        """


class ModuleEngine(Engine):
    """An engine whose functions live in a module, imported when first used.

    Engines import heavy or optional packages (Mesa; a GPU toolkit), so a family names its engines'
    modules and a run imports only the one it uses.

    Parameters
    ----------
    module : str
        The module's dotted name, inside the family's package.
    """

    def __init__(self, module: str) -> None:
        self.module_name = module
        self._module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:
        """The engine's module (imported on first use)."""
        if self._module is None:
            self._module = importlib.import_module(self.module_name)
        return self._module

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.module_name!r})"


@dataclass(frozen=True)
class Column:
    """A headline column of a run's summary on the console.

    Attributes
    ----------
    outcome : str
        The outcome shown (its mean).
    header : str
    fmt : str or None
        ``str.format`` spec of the mean; None shows the mean with its 95% interval.
    """

    outcome: str
    header: str
    fmt: str | None = None


class ModelFamily(ABC):
    """A family of models, as the stages above it use it (see the module docstring).

    Attributes
    ----------
    name : str
        ``classic`` or ``campaign``.
    models : tuple of type
        The family's ``model:`` blocks.
    outcomes : tuple of str
        Outcome columns of the trial table.
    engines : Mapping of str to Engine
        The engines that run the family's trials, by the name a scenario's ``engine`` gives.
    headline : tuple of Column
        What a run's summary shows first.
    dtypes : Mapping of str to str
        Fixed dtypes of trial-table columns (so Parquet round trips do not change them).
    """

    name: ClassVar[str]
    models: ClassVar[tuple[type[Spec], ...]]
    outcomes: ClassVar[tuple[str, ...]]
    engines: Mapping[str, Engine]
    headline: ClassVar[tuple[Column, ...]]
    dtypes: ClassVar[Mapping[str, str]] = {}

    def engine(self, scenario: Scenario) -> Engine:
        """The engine the scenario names.

        Raises
        ------
        ScenarioError
            If this family has no engine of that name (located at the scenario's ``engine``).
        """
        found = self.engines.get(scenario.engine)
        if found is None:
            raise ScenarioError([scenario.locate(("engine",), f"no engine '{scenario.engine}' runs the {self.name} "
                                                 f"models (engines: {', '.join(self.engines)})")])
        return found

    @abstractmethod
    def compile(self, scenario: Scenario, world: World) -> Any:
        """The model's arrays laid onto a built world.

        Raises
        ------
        ScenarioError
            If the model needs what the world lacks (e.g. edge weights); located.
        """

    @abstractmethod
    def plan(self, scenario: Scenario, world: World, compiled: Any) -> tuple[Any, ...]:
        """Every strategy's plan (recruits, or partners and posts), chosen once for the whole run.

        Raises
        ------
        ScenarioError
            If a strategy does not fit the world (unknown accounts, a budget that buys nobody);
            one located line per problem.
        """

    @abstractmethod
    def tabulate(self, point: Prepared, plan: Any, names: Sequence[str], strategy: int, outcome: Any) -> ChunkTables:
        """One chunk's outcome (from an :class:`Engine`) as the chunk's tables: strategy number
        ``strategy`` of ``names``, whose plan is ``plan``."""

    @abstractmethod
    def describe(self, scenario: Scenario, facts: WorldFacts) -> list[str]:
        """The world and the model in plain words (sentences for the report)."""

    @abstractmethod
    def size_axis(self, facts: WorldFacts) -> tuple[float, str]:
        """What a final-size figure counts: ``(accounts in the world, label of the adopters axis)``."""

    @abstractmethod
    def result_tables(self, scenario: Scenario, points: Sequence[Prepared]) -> list[tuple[int, int]]:
        """``(rows, bytes per row)`` of every table a run of ``points`` writes (for the memory check)."""

    def scratch_slots(self, scenario: Scenario) -> float:
        """Kernel edge state, in slots, the largest strategy needs per worker (memory estimate)."""
        return 0.0

    def budgets(self, scenario: Scenario) -> dict[str, float | None]:
        """What each strategy was given to spend (USD; None: unknown), by name, for the money it
        leaves unspent. The default: the scenario's ``budget`` for every strategy."""
        return {s.name: scenario.budget for s in scenario.strategy_list}

    def describe_plan(self, scenario: Scenario, strategy: str, detail: CampaignTables | None) -> str:
        """What a strategy does, in words (the report's answer names the recommendation with it);
        ``detail`` is the run's :meth:`detail` tables. The default: nothing ("")."""
        return ""

    def terms(self, scenario: Scenario) -> list[str]:
        """Words of this family the planner's answer uses, explained (plain text)."""
        return []

    def feasibility(self, scenario: Scenario) -> list[str]:
        """Located problems (``file:line: key: message``) found from the scenario alone, at every
        point of its sweep, before any world is built: plans that cannot be bought (a budget that
        buys nobody). ``--check`` and every run refuse them; the default finds none."""
        return []

    def detail(self, points: Sequence[Prepared], tables: Mapping[str, pd.DataFrame],
               sweep: bool) -> CampaignTables | None:
        """Tables beyond the trial table, from the gathered chunk tables other than ``runs`` (the
        campaign's per-day, per-partner and per-segment rows, its roster and cascade trees); None
        for a family that has none. ``sweep``: tables carry a ``point`` column."""
        return None
