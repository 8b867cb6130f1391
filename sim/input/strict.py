"""Strict reading: a YAML document validated against a pydantic model, every problem located.

Scenarios, calibration definitions, targets files, experiment definitions and fitted parameter
sets are all read this way, so a mistake in any of them is reported alike: one
``file:line: key.path: message`` line per problem, with unknown keys and allowed values spelled
out, and nothing runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from sim.input.errors import InputError
from sim.input.keypaths import dotted, existing
from sim.input.yaml_source import YamlDocument, YamlError, read_yaml

#: The type a strictly read document validates to.
T = TypeVar("T")


def _shown(value: object) -> str:
    """``repr(value)``, cut to a readable length (a 100,000-character name is still one short line)."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text):,} characters)"


def validation_problems(exc: ValidationError, doc: YamlDocument) -> list[str]:
    """One ``file:line: key.path: message`` line per problem of a pydantic error on ``doc``."""
    seen, lines = set(), []
    for err in exc.errors():
        path = existing(doc.data, err["loc"])
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
            msg = f"{msg} (got {_shown(err['input'])})"
        if path in seen:
            continue
        seen.add(path)
        line = doc.line_of(path)
        lines.append(f"{doc.source}:{line}: {dotted(path) or '(top level)'}: {msg}")
    return lines


def validate_document(doc: YamlDocument, validate: Callable[[dict], T],
                      error: Callable[[list[str]], InputError], top_level: str) -> T:
    """Validate a parsed document strictly (see :func:`read_strict`)."""
    if not isinstance(doc.data, dict):
        raise error([f"{doc.source}:1: (top level): {top_level}"])
    try:
        return validate(doc.data)
    except ValidationError as exc:
        raise error(validation_problems(exc, doc)) from None


def read_document(path: str | Path, error: Callable[[list[str]], InputError]) -> YamlDocument:
    """Read and parse a YAML file, its problems raised as ``error`` (see :func:`read_yaml`)."""
    try:
        return read_yaml(path)
    except YamlError as exc:
        raise error([str(exc)]) from None


def read_strict(path: str | Path, validate: Callable[[dict], T], error: Callable[[list[str]], InputError],
                top_level: str) -> tuple[T, YamlDocument]:
    """Read a YAML file and validate it strictly.

    Parameters
    ----------
    path : path
        The file (the project's YAML limits apply: :func:`sim.input.yaml_source.read_yaml`).
    validate : callable
        Builds the typed document from the parsed mapping (e.g. ``Model.model_validate``).
    error : callable
        The :class:`~sim.input.errors.InputError` to raise, built from the list of problems.
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
    doc = read_document(path, error)
    return validate_document(doc, validate, error, top_level), doc


def located(doc: YamlDocument, key: tuple, message: str) -> str:
    """``file:line: key.path: message`` for a problem at ``key`` of a parsed document."""
    return f"{doc.source}:{doc.line_of(key)}: {dotted(key)}: {message}"



