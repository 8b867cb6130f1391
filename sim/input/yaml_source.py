"""YAML documents read safely, strictly, and with the line of every key.

PyYAML follows YAML 1.1, which turns ``no`` into False, ``017`` into 15 and
``1e-3`` into a string, and silently keeps the last of two duplicate keys. The
loader here follows YAML 1.2's core schema for booleans and numbers, rejects
duplicate keys, and returns a map from key path to line number so validation
errors can point at the line a user has to fix.

Files from strangers are read defensively: only the core schema's tags (no
``!!python/...`` or application tags, which are refused rather than ignored), no
anchors and aliases (a "billion laughs" document of nested aliases would expand to
gigabytes; project files never need them), and at most :data:`MAX_BYTES` of text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class YamlError(ValueError):
    """A document that is not valid YAML, or uses a construct we refuse (duplicate keys)."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source, self.line, self.message = source, line, message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema booleans and numbers."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    if text.startswith("0x"):
        return int(text, 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _int)


@dataclass(frozen=True)
class YamlDocument:
    """A parsed document and where each of its keys stands.

    Attributes
    ----------
    data : Any
        Plain Python data (dicts, lists, scalars).
    lines : dict
        1-based line of every key path, e.g. ``("world", "graph", "n") -> 7``.
    source : str
        File name (or ``<string>``) used in messages.
    """

    data: Any
    lines: dict[Path_, int]
    source: str

    def line_of(self, path: Path_) -> int | None:
        """Line of ``path``, or of its nearest ancestor that is present."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


#: Largest YAML document read (scenarios, definitions and targets are a few kB).
MAX_BYTES = 2**20

#: Tags a document may carry: YAML 1.2's core schema.
_CORE_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map"))


def parse_yaml(text: str, source: str = "<string>") -> YamlDocument:
    """Parse one YAML document with line tracking.

    Raises
    ------
    YamlError
        On syntax errors, duplicate keys, non-string keys, tags outside the core schema,
        aliases, a document over :data:`MAX_BYTES`, or an empty document.
    """
    if len(text) > MAX_BYTES:
        raise YamlError(source, None, f"the file is {len(text):,} characters long; the limit is {MAX_BYTES:,}")
    try:  # aliases are found in the event stream, before anything is composed or expanded
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                raise YamlError(source, event.start_mark.line + 1,
                                f"YAML aliases (*{event.anchor}) are not allowed; write the value out")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise YamlError(source, mark.line + 1 if mark else None, f"invalid YAML: {exc.problem}") from None
    except yaml.reader.ReaderError as exc:  # a control character: no mark, but a position
        line = text.count("\n", 0, exc.position) + 1
        raise YamlError(source, line, f"invalid YAML: character {exc.character!r} is not allowed") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise YamlError(source, mark.line + 1 if mark else None, f"invalid YAML: {exc.problem}") from None
    finally:
        loader.dispose()
    if node is None:
        raise YamlError(source, 1, "the file is empty")
    lines: dict[Path_, int] = {(): node.start_mark.line + 1}
    seen: set[int] = set()

    def build(n: yaml.Node, path: Path_) -> Any:
        line = n.start_mark.line + 1
        if id(n) in seen:  # the composer hands an alias back as the node it names
            raise YamlError(source, line, "YAML aliases (*name) are not allowed; write the value out")
        seen.add(id(n))
        if n.tag not in _CORE_TAGS:
            raise YamlError(source, line, f"the tag {n.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed "
                            "(plain values, lists and mappings only)")
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in n.value:
                key = loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise YamlError(source, line, f"keys must be names, got {key!r}")
                key = str(key) if isinstance(key, str) else key
                if key in out:
                    first = lines[(*path, key)]
                    raise YamlError(source, line, f"duplicate key {'.'.join(map(str, (*path, key)))!s} "
                                    f"(first given on line {first})")
                lines[(*path, key)] = line
                out[key] = build(value_node, (*path, key))
            return out
        if isinstance(n, yaml.SequenceNode):
            items = []
            for i, item in enumerate(n.value):
                lines[(*path, i)] = item.start_mark.line + 1
                items.append(build(item, (*path, i)))
            return items
        try:
            return loader.construct_object(n, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise YamlError(source, n.start_mark.line + 1, str(exc.problem)) from None

    return YamlDocument(build(node, ()), lines, source)


def read_yaml(path: str | Path) -> YamlDocument:
    """Read and parse a YAML file (see :func:`parse_yaml`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlError(str(path), None, "no such file") from None
    except UnicodeDecodeError:
        raise YamlError(str(path), None, "not a UTF-8 text file") from None
    return parse_yaml(text, str(path))
