"""Experiment definitions: reading, validating and running them.

A definition is a YAML file in ``experiments/`` whose ``experiment`` key names its kind (one
module of this package each). It is validated strictly, like a scenario: every problem is
reported as ``file:line: key.path: message`` and nothing runs.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType
from typing import Annotated

from pydantic import Field, TypeAdapter

from sim.experiments import (
    bakshy,
    centola,
    centola_campaign,
    claims,
    funnel,
    goldenberg,
    granovetter,
    headline,
    influentials,
    kempe,
    seed_size,
    watts_window,
)
from sim.experiments.report import Report, Steps, Workspace
from sim.input.errors import InputError
from sim.input.strict import read_document, validate_document
from sim.input.yaml_source import YamlDocument

#: Kind -> module holding its ``Definition`` and ``reproduce``. A new reproduction is one more
#: module here and one more YAML file.
KINDS: dict[str, ModuleType] = {m.Definition.model_fields["experiment"].annotation.__args__[0]: m
                                for m in (kempe, watts_window, seed_size, influentials, centola, goldenberg, bakshy,
                                          granovetter, headline, claims, centola_campaign, funnel)}

ExperimentDefinition = Annotated[
    kempe.Definition | watts_window.Definition | seed_size.Definition | influentials.Definition | centola.Definition
    | goldenberg.Definition | bakshy.Definition | granovetter.Definition | headline.Definition | claims.Definition
    | centola_campaign.Definition | funnel.Definition,
    Field(discriminator="experiment")]
_ADAPTER = TypeAdapter(ExperimentDefinition)


class ExperimentError(InputError):
    """An invalid experiment definition; ``problems`` holds one ``file:line: key: message`` per problem."""


def load_experiment(path: str | Path, doc: YamlDocument | None = None):
    """Read and validate an experiment definition (``doc``: the file already parsed).

    Raises
    ------
    ExperimentError
        With one line per problem (file, line, key path, what is allowed).
    """
    if doc is None:
        doc = read_document(path, ExperimentError)
    return validate_document(doc, _ADAPTER.validate_python, ExperimentError,
                             "a definition is a mapping of keys to values")


def input_problems(spec) -> list[str]:
    """Problems with the files a definition names (its kind's ``input_problems``, where it has one),
    found before anything runs; each line names the file and key."""
    check = getattr(KINDS[spec.experiment], "input_problems", None)
    return list(check(spec)) if check is not None else []


#: The top-level key that makes a YAML document an experiment definition (and names its kind).
KIND_KEY = "experiment"


def names_an_experiment(doc: YamlDocument) -> bool:
    """Whether a parsed document is an experiment definition (has a top-level ``experiment`` key)."""
    return isinstance(doc.data, dict) and KIND_KEY in doc.data


def run_experiment(spec, *, quick: bool = False, parts: Path | None = None, progress=None) -> Report:
    """Run one experiment at its full or quick sizes and return its :class:`Report`.

    Parameters
    ----------
    spec
        A validated definition (:func:`load_experiment`).
    quick : bool
        Use the ``quick`` sizes (the test suite's) instead of ``full``.
    parts : Path, optional
        Folder keeping finished pieces, so that a killed run resumes (``<out>/<id>/parts``).
    progress : rich.progress.Progress, optional
        Shows the units of work.
    """
    module = KINDS[spec.experiment]
    sizes = spec.quick if quick else spec.full
    # a kind may say what its finished pieces depend on (so that rewording a claim keeps them)
    keyed = getattr(module, "workspace_key", None)
    ws = Workspace(parts, (keyed(spec, sizes) if keyed else spec.model_dump_json()) + f"|quick={quick}")
    started = time.perf_counter()
    report = module.reproduce(spec, sizes, ws, Steps(progress, f"{spec.id}{' (quick)' if quick else ''}"))
    report.quick = quick
    report.elapsed = time.perf_counter() - started
    return report
