"""The scenario: a strictly validated description of a world, a contagion model and the strategies to compare.

A scenario is read from YAML (:func:`load_scenario`) or built in Python
(``Scenario.model_validate(dict)``). Unknown keys, wrong types and
out-of-range values are errors; every error names the file, the line, the key
path and what is allowed, and nothing runs until the whole file is valid.

Vocabulary: ``seed`` is the root random seed of the run and nothing else; the
accounts that start a cascade are *recruits*, chosen by a recruit rule.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

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

from sim.calibration.posterior import PosteriorRef
from sim.campaign.rate_cards import RATE_CARDS
from sim.campaign.spec import CAMPAIGN_OUTCOMES, CampaignModel, PostGroup
from sim.classic.spec import (
    CLASSIC_OUTCOMES,
    FractionalThreshold,
    GeneralThreshold,
    IndependentCascade,
    LinearThreshold,
    RecruitSpec,
)
from sim.schema import NonNegative, PositiveInt, Spec
from sim.sweeps.spec import StrategyGrid, SweepSpec
from sim.world.spec import CreatorAudienceWorld, TierName, WorldSpec, world_kind
from sim.yaml_source import YamlDocument, YamlError, parse_yaml, read_yaml

#: The type a strictly read document validates to (:func:`read_strict`).
T = TypeVar("T")

class ScenarioError(ValueError):
    """An invalid scenario. ``problems`` holds one line per problem, each naming file, line and key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))



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

    @model_validator(mode="after")
    def _one_kind(self) -> Strategy:
        if (self.recruits is None) == (self.posts is None):
            raise ValueError("give exactly one of 'recruits' (classic models) or 'posts' (campaign model)")
        return self


# --------------------------------------------------------------------------- scenario

#: Top-level keys a sweep may not vary: what the run is, not what the world is.
_NOT_UNCERTAIN = frozenset({"name", "description", "seed", "trials", "engine", "sweep", "baseline",
                            "cascade_trees", "strategies", "strategy_grid", "recruits", "parameters"})


#: Blocks a sweep may replace whole by name (factorial levels that are names).
_NAMED_BLOCKS = frozenset({("rate_card",)})


def _path_problem(data: Any, keys: tuple[str, ...]) -> str | None:
    """Why ``keys`` does not name a value in ``data`` (a scenario as plain data), or None.

    Every key but the last must exist; the last must exist too, unless its parent is a free
    mapping (rate cards, partnership costs, tiers' platform shares) that may gain the key.
    """
    node = data
    for depth, key in enumerate(keys):
        where = ".".join(keys[:depth]) or "the scenario"
        if isinstance(node, (list, tuple)):
            if not key.isdigit() or int(key) >= len(node):
                return f"'{'.'.join(keys)}': {where} is a list of {len(node)}; '{key}' is not an index of it"
            node = node[int(key)]
        elif isinstance(node, dict):
            if key not in node:
                if depth == len(keys) - 1 and all(not isinstance(v, dict) for v in node.values()):
                    return None  # a free mapping gaining a key: validated with each point
                close = difflib.get_close_matches(key, list(map(str, node)), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                return f"'{'.'.join(keys)}': {where} has no key '{key}'{hint}"
            node = node[key]
        else:
            return f"'{'.'.join(keys)}': {where} is a value, not a block"
    if isinstance(node, (dict, list, tuple)):
        return f"'{'.'.join(keys)}' is a block; an uncertainty varies one value"
    return None


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
    engine : {"numba", "mesa"}
        Which engine runs the trials; both give identical results, Mesa is for inspection.
    max_steps : int or None
        Classic models: stop a cascade after this many steps (None: when it stops by itself).
    days : int
        Campaign model: the horizon in days (one step = one day).
    world, model
        The world (a network, or creators and their audience) and the contagion model.
    recruits, strategies
        Either one recruit rule, or a list of named strategies to compare.
    strategy_grid : StrategyGrid or None
        Campaign model: strategies spanned by budgets x tier mixes x schedules, run after the
        listed ``strategies`` (:class:`sim.sweeps.spec.StrategyGrid`).
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
        (:class:`sim.sweeps.spec.SweepSpec`).
    parameters : str or PosteriorRef or None
        A fitted calibration set (``calibration/fitted/<name>.yaml``, relative to the scenario's
        folder or the repository) whose estimates :func:`load_scenario` writes at their key
        paths before the scenario is validated; or a posterior,
        ``{posterior: calibration/fitted/<name>.posterior.parquet, draws: N}``, whose N draws
        (chosen by the root seed) become the points of the run
        (:mod:`sim.calibration.posterior`); kept here as a record of where they came from.
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
    description: str = ""
    seed: Annotated[int, Field(ge=0, lt=2**64)]
    trials: PositiveInt
    engine: Literal["numba", "mesa"] = "numba"
    max_steps: PositiveInt | None = None
    days: PositiveInt = 28
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
    parameters: Annotated[Annotated[Annotated[str, Field(min_length=1, max_length=500)], Tag("point_estimate")]
                          | Annotated[PosteriorRef, Tag("posterior_ref")],
                          Discriminator(lambda v: "posterior_ref" if isinstance(v, (dict, PosteriorRef)) else "point_estimate")
                          ] | None = None
    _source: YamlDocument | None = PrivateAttr(default=None)
    _grid: tuple[tuple[Strategy, str], ...] = PrivateAttr(default=())

    @property
    def is_campaign(self) -> bool:
        """Whether this is a campaign scenario (creator-audience world, campaign model)."""
        return isinstance(self.model, CampaignModel)

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
            problem = _path_problem(data, u.keys)
            if problem:
                raise PydanticCustomError("bad_path", "{problem}", {"at": at, "problem": problem})
        model = info.data.get("model")
        if model is None:
            return sweep
        known = CAMPAIGN_OUTCOMES if isinstance(model, CampaignModel) else CLASSIC_OUTCOMES
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
        if self.is_campaign != isinstance(self.world, CreatorAudienceWorld):
            raise ValueError("the campaign model needs a creator_audience world, and a creator_audience "
                             "world needs the campaign model")
        if self.strategy_grid is not None:
            if not self.is_campaign:
                raise ValueError("strategy_grid spans campaign strategies (budgets, mixes, schedules); "
                                 "classic models take 'strategies' with 'recruits'")
            self._grid = tuple((Strategy(name=g.name, posts=list(g.posts)), g.mix) for g in self.strategy_grid.expand())
        if self.is_campaign:
            self._check_campaign()
        else:
            if self.strategies and any(s.recruits is None for s in self.strategies):
                raise ValueError("classic models need 'recruits' in every strategy")
            if self.cascade_trees:
                raise ValueError("cascade_trees are written for the campaign model only")
            if self.partnership_cost:
                raise ValueError("partnership_cost is for the campaign model only")
        late = [t for t in self.cascade_trees if t >= self.trials]
        if late:
            raise ValueError(f"cascade_trees: trial {late[0]} is not run (trials are 0..{self.trials - 1})")
        names = [s.name for s in self.strategy_list]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"strategy names must be unique; repeated: {', '.join(dup)}")
        if self.baseline is not None and self.baseline not in names:
            close = difflib.get_close_matches(self.baseline, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"baseline '{self.baseline}' is not a strategy of this scenario{hint}")
        return self

    def _check_campaign(self) -> None:
        if (self.strategies is None and self.strategy_grid is None) or any(
                s.posts is None for s in self.strategies or ()):
            raise ValueError("the campaign model needs 'strategies' whose entries have 'posts', or a 'strategy_grid'")
        world = self.world
        for s in self.strategy_list:
            for g in s.posts:
                if g.tier not in world.tiers:
                    raise ValueError(f"strategy {s.name}: tier '{g.tier}' is not in world.tiers "
                                     f"({', '.join(world.tiers)})")
                if g.platform not in world.platforms:
                    raise ValueError(f"strategy {s.name}: platform '{g.platform}' is not in world.platforms "
                                     f"({', '.join(world.platforms)})")
                if g.post_days()[-1] >= self.days:
                    raise ValueError(f"strategy {s.name}: a post on day {g.post_days()[-1]} is beyond the "
                                     f"horizon (days: {self.days})")
                if g.paid and (self.rate_card is None or g.tier not in self.rate_card.get(g.platform, {})):
                    raise ValueError(f"strategy {s.name}: rate_card has no price for {g.tier} posts on "
                                     f"{g.platform}")
                price = self.rate_card[g.platform][g.tier] if g.paid else 0.0
                if g.budget is not None and price == 0 and self.partnership_cost.get(g.tier, 0.0) == 0:
                    raise ValueError(f"strategy {s.name}: a budget buys partners that cost something; {g.tier} "
                                     f"partners on {g.platform} cost nothing here (no price, no partnership_cost): "
                                     "give 'creators' instead")

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
        return ("strategies", index, "posts" if self.is_campaign else "recruits")

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

def data_path(data: Any, loc: tuple) -> tuple:
    """The keys of a pydantic error location that exist in ``data`` (the union tags pydantic
    inserts, such as ``creator_audience``, dropped)."""
    node, out = data, []
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            out.append(part)
        elif not isinstance(node, (dict, list)):
            break
    return tuple(out)


def _problems(exc: ValidationError, doc: YamlDocument) -> list[str]:
    seen, lines = set(), []
    for err in exc.errors():
        path = data_path(doc.data, err["loc"])
        msg = err["msg"]
        if err["type"] == "unknown_key":
            path = (*path, err["ctx"]["key"])
        elif err["type"] == "missing":
            path = (*path, err["loc"][-1])
            msg = "required key is missing"
        elif err["type"] == "union_tag_invalid":
            ctx = err["ctx"]
            path = (*path, ctx["discriminator"].strip("'"))
            msg = f"unknown {ctx['discriminator']} '{ctx['tag']}' (allowed: {ctx['expected_tags']})"
        elif err["type"] == "union_tag_not_found":
            msg = f"needs a {err['ctx']['discriminator']} key"
        elif err["type"] == "bad_path":  # a problem of a block's entry, located at that entry
            path = (*path, *err["ctx"]["at"])
        elif err["type"].startswith("value_error"):
            msg = msg.removeprefix("Value error, ")
        elif "input" in err and not isinstance(err["input"], (dict, list)) and "(got" not in msg:
            msg = f"{msg} (got {err['input']!r})"
        if path in seen:
            continue
        seen.add(path)
        line = doc.line_of(path)
        key = ".".join(map(str, path)) or "(top level)"
        lines.append(f"{doc.source}:{line}: {key}: {msg}")
    return lines


def validation_problems(exc: ValidationError, doc: YamlDocument) -> list[str]:
    """One ``file:line: key.path: message`` line per problem of a pydantic error on ``doc``.

    The scenario's own error formatting, for other strictly validated documents (experiment
    definitions) to report problems the same way.
    """
    return _problems(exc, doc)


def read_strict(path: str | Path, validate: Callable[[dict], T], error: Callable[[list[str]], Exception],
                top_level: str) -> tuple[T, YamlDocument]:
    """Read a YAML file and validate it strictly, reporting problems the way scenarios do.

    Parameters
    ----------
    path : path
        The file (the project's YAML limits apply: :func:`sim.yaml_source.read_yaml`).
    validate : callable
        Builds the typed document from the parsed mapping (e.g. ``Model.model_validate``).
    error : callable
        The exception to raise, built from the list of problems.
    top_level : str
        What the file must be, for a file that is not a mapping (e.g. "a definition is a mapping
        of keys to values").

    Returns
    -------
    (validated document, YamlDocument)

    Raises
    ------
    error
        With one ``file:line: key.path: message`` line per problem; nothing is returned.
    """
    try:
        doc = read_yaml(path)
    except YamlError as exc:
        raise error([str(exc)]) from None
    if not isinstance(doc.data, dict):
        raise error([f"{doc.source}:1: (top level): {top_level}"])
    try:
        return validate(doc.data), doc
    except ValidationError as exc:
        raise error(_problems(exc, doc)) from None


def scenario_from_document(doc: YamlDocument, base_dir: Path) -> Scenario:
    """Validate a parsed document; relative paths in it are resolved against ``base_dir``."""
    if not isinstance(doc.data, dict):
        raise ScenarioError([f"{doc.source}:1: (top level): a scenario is a mapping of keys to values"])
    try:
        scenario = Scenario.model_validate(doc.data, context={"base_dir": str(base_dir)})
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, doc)) from None
    if isinstance(scenario.parameters, PosteriorRef):
        scenario = _with_posterior(scenario, doc, base_dir)
    elif scenario.parameters is not None:
        scenario = _with_fitted(scenario, doc, base_dir)
    scenario._source = doc
    from sim.calibration.posterior import HandSetWarning, calibration_notes

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
    from sim.calibration.fitted import check_targets_hash, find_fitted, read_fitted
    from sim.calibration.posterior import PosteriorError, choose, label

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
        raise ScenarioError([f"{at_draws if str(exc).startswith('draws:') else at_file}: {exc}"]) from None
    sibling = path.with_name(path.name.removesuffix(".posterior.parquet") + ".yaml")
    if sibling != path and sibling.is_file():
        try:
            check_targets_hash(read_fitted(sibling), sibling)
        except Exception:  # noqa: BLE001 (a sibling that is not a fitted set says nothing about this file)
            pass
    data = scenario.model_dump(mode="python")
    problems = [f"{at_file}: {path.name} sets a value the scenario does not have: {problem}"
                for p in (*chosen.paths, *chosen.constant) if (problem := _path_problem(data, tuple(p.split("."))))]
    if problems:
        raise ScenarioError(problems)
    from sim.calibration.fitted import write_values

    values = {tuple(p.split(".")): v for p, v in chosen.constant.items()}
    values.update({tuple(p.split(".")): float(v) for p, v in zip(chosen.paths, chosen.values[0], strict=True)})
    data = write_values(data, values)
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
                             f"{'.'.join(map(str, data_path(data, e['loc'])))}: {e['msg']}"
                             for e in exc.errors()][:5]) from None
    from sim.sweeps.design import design

    try:
        design(out)  # every draw a valid scenario, before anything runs
    except ScenarioError as exc:
        raise ScenarioError([f"{at_file}: a draw of {path.name} is not a valid scenario: {line}"
                             for line in exc.problems]) from None
    return out


def _with_fitted(scenario: Scenario, doc: YamlDocument, base_dir: Path) -> Scenario:
    """The scenario with the estimates of its ``parameters`` file written at their paths, validated again.

    Raises
    ------
    ScenarioError
        If the file cannot be found or read, or one of its paths no longer names a value of the
        scenario, or a value is not valid there.
    """
    from sim.calibration.fitted import (
        FittedError,
        check_targets_hash,
        find_fitted,
        read_fitted,
        write_values,
    )

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
                for keys in values if (problem := _path_problem(data, keys))]
    if problems:
        raise ScenarioError(problems)
    try:
        out = Scenario.model_validate(write_values(data, values), context={"base_dir": str(base_dir)})
    except ValidationError as exc:
        raise ScenarioError([f"{where}: with the values of {path.name}, "
                             f"{'.'.join(map(str, data_path(data, e['loc'])))}: {e['msg']}"
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
    try:
        doc = read_yaml(path)
    except YamlError as exc:
        raise ScenarioError([str(exc)]) from None
    return scenario_from_document(doc, path.resolve().parent)


def parse_scenario(text: str, base_dir: str | Path = ".", source: str = "<string>") -> Scenario:
    """Validate a scenario given as YAML text (handy in notebooks and tests)."""
    try:
        doc = parse_yaml(text, source)
    except YamlError as exc:
        raise ScenarioError([str(exc)]) from None
    return scenario_from_document(doc, Path(base_dir))
