"""The scenario: a strictly validated description of a world, a contagion model and the strategies to compare.

A scenario is read from YAML (:func:`load_scenario`) or built in Python
(``Scenario.model_validate(dict)``). Unknown keys, wrong types and
out-of-range values are errors; every error names the file, the line, the key
path and what is allowed, and nothing runs until the whole file is valid.

Vocabulary: ``seed`` is the root random seed of the run and nothing else; the
accounts that start a cascade are *recruits*, chosen by a recruit rule.
"""

from __future__ import annotations

import collections
import difflib
import hashlib
import json
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.campaign.rate_cards import RATE_CARDS
from sim.campaign.spec import MAX_DAYS, CampaignModel, PostGroup
from sim.classic.spec import (
    FractionalThreshold,
    GeneralThreshold,
    IndependentCascade,
    LinearThreshold,
    RecruitSpec,
)
from sim.input import keypaths
from sim.input.errors import InputError
from sim.input.fitted import FittedError, check_targets_hash, find_fitted, read_fitted
from sim.input.posterior import HandSetWarning, PosteriorError, PosteriorRef, calibration_notes, choose, label
from sim.input.schema import NonNegative, PositiveInt, Spec
from sim.input.strict import read_document, validate_document
from sim.input.sweep import StrategyGrid, SweepSpec
from sim.input.yaml_source import YamlDocument, YamlError, parse_yaml
from sim.optimize.spec import OptimizeSpec
from sim.world.spec import CreatorAudienceWorld, TierName, WorldSpec, world_kind


class ScenarioError(InputError):
    """An invalid scenario. ``problems`` holds one line per problem, each naming file, line and key."""


ModelSpec = Annotated[IndependentCascade | LinearThreshold | FractionalThreshold | GeneralThreshold | CampaignModel,
                      Field(discriminator="kind")]

class Strategy(Spec):
    """One way of spreading the message; strategies in a run share common random numbers.

    Classic models take ``recruits`` (who starts the cascade); the campaign model takes
    ``posts`` (which partners post where and when).
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=80)]
    recruits: RecruitSpec | None = None
    posts: Annotated[list[PostGroup], Field(min_length=1)] | None = None
    #: Campaigns: the most partners the strategy hires over all its groups (earlier groups first).
    max_partners: Annotated[PositiveInt | None, Field(exclude_if=lambda v: v is None)] = None

    @model_validator(mode="after")
    def _one_kind(self) -> Strategy:
        if (self.recruits is None) == (self.posts is None):
            raise ValueError("give exactly one of 'recruits' (classic models) or 'posts' (campaign model)")
        if self.max_partners is not None:
            if self.posts is None:
                raise ValueError("max_partners caps a campaign strategy's partners; classic strategies have recruits")
            asked = sum(g.creators or 0 for g in self.posts)
            if asked > self.max_partners:
                raise ValueError(f"the groups ask for {asked} creators by name count, more than max_partners "
                                 f"({self.max_partners})")
        return self


# --------------------------------------------------------------------------- scenario

#: Top-level keys a sweep may not vary: what the run is, not what the world is.
_NOT_UNCERTAIN = frozenset({"name", "description", "seed", "trials", "engine", "sweep", "baseline",
                            "cascade_trees", "strategies", "strategy_grid", "recruits", "parameters",
                            "objective", "budget", "optimize"})


#: Blocks a sweep may replace whole by name (factorial levels that are names).
_NAMED_BLOCKS = frozenset({("rate_card",)})


class Scenario(Spec):
    """A complete, validated scenario.

    Attributes
    ----------
    name : str
        Names the output folder (letters, digits, ``_ . -``).
    seed : int
        Root random seed in [0, 2**64); every draw of the run derives from it.
    trials : int
        Monte Carlo trials per strategy (>= 1).
    engine : str
        Which engine runs the trials: one of the model family's engines (``numba``, the default;
        ``mesa``, the agent model for inspection). Every engine gives identical results; a name
        the family does not have is refused when the run is prepared.
    max_steps : int or None
        Classic models: stop a cascade after this many steps (None: when it stops by itself).
    days : int
        Campaign model: the horizon in days (one step = one day), at most 2**24 (the random
        numbers of posts are keyed by day: :data:`sim.campaign.spec.MAX_DAYS`).
    world, model
        The world (a network, or creators and their audience) and the contagion model.
    recruits, strategies
        Either one recruit rule, or a list of named strategies to compare.
    strategy_grid : StrategyGrid or None
        Campaign model: strategies spanned by budgets x tier mixes x schedules, run after the
        listed ``strategies`` (:class:`sim.input.sweep.StrategyGrid`).
    baseline : str or None
        The strategy every other one is compared with, trial by trial (paired differences);
        default: the first.
    rate_card : dict or str
        Campaign model: cost in USD of one post, by platform then tier, or the name of a card
        in :data:`sim.campaign.rate_cards.RATE_CARDS` (e.g. ``industry_midpoint``,
        ``source_article``); the resolved scenario holds the card's prices.
    partnership_cost : dict
        Campaign model: USD per partner per campaign, by tier, on top of its posts: finding,
        vetting, contracting and managing a creator (default 0).
    cascade_trees : list of int
        Campaign model: trial numbers whose cascade tree (who activated whom, when, through
        which post) is written to ``trees.parquet``.
    sweep : SweepSpec or None
        Uncertainties and the design of the points every strategy is run at
        (:class:`sim.input.sweep.SweepSpec`).
    objective : {"adopters", "cost_per_adopter"}
        Campaigns: what the planner's answer maximises (sign-ups within ``budget``, the default) or
        minimises (USD per sign-up); see :mod:`sim.results.decision`.
    budget : float or None
        Campaigns: the planner's budget in USD; strategies costing more are shown but never
        recommended (default: no cap).
    optimize : OptimizeSpec or None
        Campaigns: the search space of ``run_experiment.py optimize`` (:mod:`sim.optimize`).
    parameters : str or PosteriorRef or None
        A fitted calibration set (``calibration/fitted/<name>.yaml``, relative to the scenario's
        folder or the repository) whose estimates :func:`load_scenario` writes at their key
        paths before the scenario is validated; or a posterior,
        ``{posterior: calibration/fitted/<name>.posterior.parquet, draws: N}``, whose N draws
        (chosen by the root seed) become the points of the run
        (:mod:`sim.input.posterior`); kept here as a record of where they came from.
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
    description: str = ""
    seed: Annotated[int, Field(ge=0, lt=2**64)]
    trials: PositiveInt
    engine: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)] = "numba"
    max_steps: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None  # the kernels count steps in int32
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 28
    world: Annotated[Annotated[WorldSpec, Tag("network")] | Annotated[CreatorAudienceWorld, Tag("creator_audience")],
                     Discriminator(world_kind)]
    model: ModelSpec
    rate_card: dict[str, dict[TierName, NonNegative]] | None = None
    partnership_cost: dict[TierName, NonNegative] = {}
    cascade_trees: list[Annotated[int, Field(ge=0)]] = []
    recruits: RecruitSpec | None = None
    strategies: Annotated[list[Strategy], Field(min_length=1)] | None = None
    strategy_grid: StrategyGrid | None = None
    baseline: Annotated[str, Field(max_length=80)] | None = None
    sweep: SweepSpec | None = None
    objective: Annotated[Literal["adopters", "cost_per_adopter"], Field(exclude_if=lambda v: v == "adopters")] = \
        "adopters"
    budget: Annotated[float | None, Field(gt=0, exclude_if=lambda v: v is None)] = None
    optimize: Annotated[OptimizeSpec | None, Field(exclude_if=lambda v: v is None)] = None
    parameters: Annotated[Annotated[Annotated[str, Field(min_length=1, max_length=500)], Tag("point_estimate")]
                          | Annotated[PosteriorRef, Tag("posterior_ref")],
                          Discriminator(lambda v: "posterior_ref" if isinstance(v, (dict, PosteriorRef))
                                        else "point_estimate")
                          ] | None = None
    _source: YamlDocument | None = PrivateAttr(default=None)
    _grid: tuple[tuple[Strategy, str], ...] = PrivateAttr(default=())

    @field_validator("rate_card", mode="before")
    @classmethod
    def _named_card(cls, value: Any) -> Any:
        if isinstance(value, str):
            card = RATE_CARDS.get(value)
            if card is None:
                raise PydanticCustomError("unknown_rate_card", "unknown rate card '{value}' (named cards: {known}; "
                                          "or give USD per post as platform: {{tier: price}})",
                                          {"value": value, "known": ", ".join(RATE_CARDS)})
            return card.as_dict()
        return value

    @field_validator("sweep")
    @classmethod
    def _sweep_paths(cls, sweep: SweepSpec | None, info: ValidationInfo) -> SweepSpec | None:
        if sweep is None:
            return sweep
        data = {k: v.model_dump(mode="python") if isinstance(v, BaseModel) else v for k, v in info.data.items()}
        for i, u in enumerate(sweep.uncertainties):
            at = ("uncertainties", i, "path")
            if u.keys[0] in _NOT_UNCERTAIN:
                raise PydanticCustomError("bad_path", "'{path}' cannot vary across points ({which} are the "
                                          "run's, not the world's)",
                                          {"at": at, "path": u.path, "which": ", ".join(sorted(_NOT_UNCERTAIN))})
            if u.keys[0] in cls.model_fields and u.keys[0] not in data:
                continue  # that block failed validation itself: its own message says why
            if u.keys in _NAMED_BLOCKS and u.levels is not None and all(isinstance(v, str) for v in u.levels):
                continue  # names of whole blocks (rate cards), resolved when each point is validated
            problem = keypaths.problem(data, u.keys)
            if problem:
                raise PydanticCustomError("bad_path", "{problem}", {"at": at, "problem": problem})
        model = info.data.get("model")
        if model is None:
            return sweep
        known = model.outcomes
        for j, outcome in enumerate(sweep.outcomes):
            if outcome not in known:
                raise PydanticCustomError("bad_path", "'{o}' is not an outcome of this model (outcomes: {known})",
                                          {"at": ("outcomes", j), "o": outcome, "known": ", ".join(known)})
        return sweep

    @model_validator(mode="after")
    def _one_strategy_source(self) -> Scenario:
        listed = self.strategies is not None or self.strategy_grid is not None
        if (self.recruits is None) == (not listed):
            raise ValueError("give exactly one of 'recruits' (one rule) or 'strategies' (a list) / 'strategy_grid'")
        if self.strategy_grid is not None:
            max_partners = self.strategy_grid.max_partners
            self._grid = tuple((Strategy(name=g.name, posts=list(g.posts), max_partners=max_partners), g.mix)
                               for g in self.strategy_grid.expand())
        self.model.check_scenario(self)  # the model's family says whether the other blocks fit it
        late = [t for t in self.cascade_trees if t >= self.trials]
        if late:
            raise ValueError(f"cascade_trees: trial {late[0]} is not run (trials are 0..{self.trials - 1})")
        names = [s.name for s in self.strategy_list]
        dup = sorted(n for n, k in collections.Counter(names).items() if k > 1)
        if dup:
            raise ValueError(f"strategy names must be unique; repeated: {', '.join(dup)}")
        if self.baseline is not None and self.baseline not in names:
            close = difflib.get_close_matches(self.baseline, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"baseline '{self.baseline}' is not a strategy of this scenario{hint}")
        return self

    def locate(self, key: tuple, message: str) -> str:
        """``file:line: key.path: message`` for a problem found after validation (e.g. while building)."""
        path = ".".join(map(str, key))
        if self._source is None:
            return f"<scenario>: {path}: {message}"
        return f"{self._source.source}:{self._source.line_of(key)}: {path}: {message}"

    def strategy_key(self, index: int) -> tuple:
        """Key path of what strategy number ``index`` does (its recruit rule, its posts, or its grid mix)."""
        if self.recruits is not None:
            return ("recruits",)
        listed = len(self.strategies or ())
        if index >= listed:
            return ("strategy_grid", "mixes", self._grid[index - listed][1])
        return ("strategies", index, self.model.plan_key)

    def group_key(self, index: int, group: int) -> tuple:
        """Key path of post group ``group`` of strategy number ``index`` (campaigns)."""
        key = self.strategy_key(index)
        if key[0] == "strategy_grid":
            g = self.strategy_list[index].posts[group]
            return (*key, f"{g.tier}.{g.platform}")
        return (*key, group)

    @property
    def strategy_list(self) -> list[Strategy]:
        """The strategies to run: the listed ones, then the grid's; a lone ``recruits`` rule is one
        strategy named after its rule."""
        if self.recruits is not None:
            return [Strategy(name=self.recruits.rule, recruits=self.recruits)]
        return [*(self.strategies or ()), *(s for s, _ in self._grid)]

    @property
    def baseline_name(self) -> str:
        """The strategy differences are taken against: ``baseline``, or the first strategy."""
        return self.baseline or self.strategy_list[0].name

    def canonical_json(self) -> str:
        """The resolved scenario as canonical JSON; what the hash covers, and what workers rebuild it from.

        Keys come in the schema's field order and mappings in the scenario's own order, never
        sorted: the order of tiers, platforms and segments decides how the world is built
        (creators are numbered tier by tier), so two scenarios that differ only in it are
        different scenarios, with different digests.
        """
        data = self.model_dump(mode="json")
        if data.get("parameters") is None:  # scenarios that name no fitted set keep their digests
            data.pop("parameters", None)
        return json.dumps(data, separators=(",", ":"))

    def digest(self) -> str:
        """SHA-256 of :meth:`canonical_json`: identifies the scenario in manifests and resumes."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def with_overrides(self, **changes: Any) -> Scenario:
        """A re-validated copy with top-level fields replaced (e.g. ``trials=10``)."""
        data = self.model_dump(mode="python")
        data.update({k: v for k, v in changes.items() if v is not None})
        try:
            out = Scenario.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError([f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]) from None
        out._source = self._source
        return out


# --------------------------------------------------------------------------- loading

def scenario_from_document(doc: YamlDocument, base_dir: Path) -> Scenario:
    """Validate a parsed document; relative paths in it are resolved against ``base_dir``."""
    scenario = validate_document(doc, lambda data: Scenario.model_validate(data, context={"base_dir": str(base_dir)}),
                                 ScenarioError, "a scenario is a mapping of keys to values")
    if isinstance(scenario.parameters, PosteriorRef):
        scenario = _with_posterior(scenario, doc, base_dir)
    elif scenario.parameters is not None:
        scenario = _with_fitted(scenario, doc, base_dir)
    scenario._source = doc
    for note in calibration_notes(scenario):
        warnings.warn(f"{doc.source}: {note}", HandSetWarning, stacklevel=3)
    return scenario


def _with_posterior(scenario: Scenario, doc: YamlDocument, base_dir: Path) -> Scenario:
    """The scenario whose points are draws of a posterior (``parameters: {posterior: ..., draws: N}``).

    Point 0's values (and the file's constant, assumed, columns) are written into the scenario
    itself; a ``sweep`` block of design ``posterior`` lists every draw, one point each.

    Raises
    ------
    ScenarioError
        If the file cannot be found or used, asks for more draws than it has, names a path the
        scenario does not have, gives values the scenario refuses, or the scenario also has a sweep.
    """
    ref: PosteriorRef = scenario.parameters
    at_file = f"{doc.source}:{doc.line_of(('parameters', 'posterior'))}: parameters.posterior"
    at_draws = f"{doc.source}:{doc.line_of(('parameters', 'draws'))}: parameters.draws"
    if scenario.sweep is not None:
        raise ScenarioError([f"{doc.source}:{doc.line_of(('sweep',))}: sweep: a posterior already gives the points of "
                             "the run (one per draw); a sweep cannot be combined with it. Sweep at the point "
                             "estimate (parameters: <name>.yaml), or run the posterior once per sweep setting"])
    path = find_fitted(ref.posterior, base_dir)
    if path is None:
        raise ScenarioError([f"{at_file}: no posterior file '{ref.posterior}' (looked relative to {base_dir} and "
                             "to the repository)"])
    try:
        chosen = choose(path, ref.draws, scenario.seed)
    except PosteriorError as exc:
        raise ScenarioError([f"{at_draws if exc.key == 'draws' else at_file}: {exc}"]) from None
    sibling = path.with_name(path.name.removesuffix(".posterior.parquet") + ".yaml")
    if sibling != path and sibling.is_file():
        try:
            check_targets_hash(read_fitted(sibling), sibling)
        except FittedError:  # a sibling that is not a fitted set says nothing about this file
            pass
    data = scenario.model_dump(mode="python")
    problems = [f"{at_file}: {path.name} sets a value the scenario does not have: {problem}"
                for p in (*chosen.paths, *chosen.constant) if (problem := keypaths.problem(data, keypaths.split(p)))]
    if problems:
        raise ScenarioError(problems)
    values = {keypaths.split(p): v for p, v in chosen.constant.items()}
    values.update({keypaths.split(p): float(v) for p, v in zip(chosen.paths, chosen.values[0], strict=True)})
    data = keypaths.with_values(data, values)
    if chosen.paths:
        labels = [label(p) for p in chosen.paths]
        if len(set(labels)) != len(labels):
            labels = list(chosen.paths)
        data["sweep"] = {"design": "posterior", "samples": len(chosen.rows),
                         "uncertainties": [{"path": p, "levels": [float(v) for v in chosen.values[:, j]], "name": n}
                                           for j, (p, n) in enumerate(zip(chosen.paths, labels, strict=True))]}
    try:
        out = Scenario.model_validate(data, context={"base_dir": str(base_dir)})
    except ValidationError as exc:
        raise ScenarioError([f"{at_file}: with the draws of {path.name}, "
                             f"{keypaths.dotted(keypaths.existing(data, e['loc']))}: {e['msg']}"
                             for e in exc.errors()][:5]) from None
    # Every draw a valid scenario, before anything runs (the design's own check, without importing
    # it: sim.input.design builds on this module). Repeated draws are checked once.
    plain = out.model_dump(mode="python")
    plain["sweep"] = None
    problems = []
    first = np.unique(chosen.values, axis=0, return_index=True)[1] if chosen.paths else np.zeros(0, np.int64)
    for i in sorted(set(first.tolist()) - {0}):
        row = {keypaths.split(p): float(v) for p, v in zip(chosen.paths, chosen.values[i], strict=True)}
        try:
            Scenario.model_validate(keypaths.with_values(plain, row), context={"base_dir": str(base_dir)})
        except ValidationError as exc:
            problems += [f"{at_file}: draw {i} of {path.name} is not a valid scenario: "
                         f"{keypaths.dotted(keypaths.existing(plain, e['loc']))}: {e['msg']}" for e in exc.errors()[:2]]
            if len(problems) >= 5:
                break
    if problems:
        raise ScenarioError(problems)
    return out


def _with_fitted(scenario: Scenario, doc: YamlDocument, base_dir: Path) -> Scenario:
    """The scenario with the estimates of its ``parameters`` file written at their paths, validated again.

    Raises
    ------
    ScenarioError
        If the file cannot be found or read, or one of its paths no longer names a value of the
        scenario, or a value is not valid there.
    """
    where = f"{doc.source}:{doc.line_of(('parameters',))}: parameters"
    path = find_fitted(scenario.parameters, base_dir)
    if path is None:
        raise ScenarioError([f"{where}: no fitted parameter set '{scenario.parameters}' (looked relative to "
                             f"{base_dir} and to the repository)"])
    try:
        fitted = read_fitted(path)
    except FittedError as exc:
        raise ScenarioError([f"{where}: {path} is not a fitted parameter set: {exc}"]) from None
    check_targets_hash(fitted, path)
    data = scenario.model_dump(mode="python")
    values = fitted.values()
    problems = [f"{where}: {path.name} sets a value the scenario does not have: {problem}"
                for keys in values if (problem := keypaths.problem(data, keys))]
    if problems:
        raise ScenarioError(problems)
    try:
        out = Scenario.model_validate(keypaths.with_values(data, values), context={"base_dir": str(base_dir)})
    except ValidationError as exc:
        raise ScenarioError([f"{where}: with the values of {path.name}, "
                             f"{keypaths.dotted(keypaths.existing(data, e['loc']))}: {e['msg']}"
                             for e in exc.errors()]) from None
    return out


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises
    ------
    ScenarioError
        With one ``file:line: key.path: problem`` line per problem.
    """
    path = Path(path)
    return scenario_from_document(read_document(path, ScenarioError), path.resolve().parent)


def parse_scenario(text: str, base_dir: str | Path = ".", source: str = "<string>") -> Scenario:
    """Validate a scenario given as YAML text (handy in notebooks and tests)."""
    try:
        doc = parse_yaml(text, source)
    except YamlError as exc:
        raise ScenarioError([str(exc)]) from None
    return scenario_from_document(doc, Path(base_dir))
