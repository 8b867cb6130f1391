"""YAML documents read safely, strictly, and with the line of every key.

PyYAML follows YAML 1.1, which turns ``no`` into False, ``017`` into 15 and
``1e-3`` into a string, and silently keeps the last of two duplicate keys. The
loader here follows YAML 1.2's core schema for booleans and numbers, rejects
duplicate keys, and returns a map from key path to line number so validation
errors can point at the line a user has to fix.

Files from strangers are read defensively: only the core schema's tags (no
``!!python/...`` or application tags, which are refused rather than ignored), no
anchors and aliases (a "billion laughs" document of nested aliases would expand to
gigabytes; project files never need them), at most :data:`MAX_BYTES` of text, and lists and
mappings nested at most :data:`MAX_DEPTH` deep. The depth is counted in PyYAML's event stream
(its parser is a state machine) before the composer, which recurses once per level, ever runs:
``[[[[...`` a few thousand deep would otherwise end in a ``RecursionError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]
#: A lone UTF-16 surrogate code point (YAML's "\\ud800" escape yields one).
_SURROGATE = re.compile("[\ud800-\udfff]")


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


#: Integers a document may hold: 64-bit ones, signed or not. Every integer the tool uses ends up
#: in an int64 or uint64 (seeds) array; beyond this range they would overflow the floats sizes are
#: estimated in, and beyond 4,300 decimal digits Python refuses to convert them to or from text.
INT_MIN, INT_MAX = -(2**63), 2**64 - 1


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign, body = (-1, text[1:]) if text.startswith("-") else (1, text.removeprefix("+"))
    base = {"0x": 16, "0o": 8}.get(body[:2], 10)
    body = body[2:] if base != 10 else body
    if not (body.isascii() and body.isalnum()):  # what int() would also take: signs, spaces, other digits
        raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not an integer", node.start_mark)
    try:
        # More than 24 significant digits exceed 64 bits in every base; checked before int(),
        # which is slow on thousands of digits and refuses more than 4,300.
        value = sign * int(body, base) if len(body.lstrip("0")) <= 24 else None
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not an integer",
                                                node.start_mark) from None
    if value is None or not INT_MIN <= value <= INT_MAX:
        shown = text if len(text) <= 30 else f"{text[:12]}...{text[-4:]} ({len(text):,} characters)"
        raise yaml.constructor.ConstructorError(
            None, None, f"the integer {shown} is out of range: integers are 64-bit, from {INT_MIN:,} to {INT_MAX:,}",
            node.start_mark)
    return value


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

#: Deepest nesting of lists and mappings read (the top-level mapping is level 1). Project files
#: are at most 6 deep; Python's default recursion limit (1000) is reached by PyYAML's composer
#: at about 330 levels, so 64 leaves room for every recursive step after it (building the data,
#: pydantic, JSON dumps) without coming near the limit.
MAX_DEPTH = 64

#: Tags a document may carry: YAML 1.2's core schema.
_CORE_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map"))


def parse_yaml(text: str, source: str = "<string>") -> YamlDocument:
    """Parse one YAML document with line tracking.

    Raises
    ------
    YamlError
        On syntax errors, duplicate keys, non-string keys, tags outside the core schema,
        aliases, a document over :data:`MAX_BYTES` or nested deeper than :data:`MAX_DEPTH`,
        or an empty document.
    """
    if len(text) > MAX_BYTES:
        raise YamlError(source, None, f"the file is {len(text):,} characters long; the limit is {MAX_BYTES:,}")
    depth = 0
    try:  # aliases and depth are found in the event stream, before anything is composed or expanded
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                raise YamlError(source, event.start_mark.line + 1,
                                f"YAML aliases (*{event.anchor}) are not allowed; write the value out")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlError(source, event.start_mark.line + 1,
                                    f"lists and mappings nested {depth} levels deep; at most {MAX_DEPTH} "
                                    "are allowed")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
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

    def where(path: Path_) -> str:
        return ".".join(map(str, path)) or "(top level)"

    def check_tag(n: yaml.Node, path: Path_) -> None:
        if n.tag == "tag:yaml.org,2002:merge":
            raise YamlError(source, n.start_mark.line + 1, f"{where(path)}: '<<' (a YAML merge key) is not allowed; "
                            "write the keys out")
        if n.tag not in _CORE_TAGS:
            raise YamlError(source, n.start_mark.line + 1, f"{where(path)}: the tag "
                            f"{n.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed (plain values, lists and "
                            "mappings only)")

    def scalar(n: yaml.ScalarNode, path: Path_) -> Any:
        try:
            value = loader.construct_object(n, deep=True)
            half = _SURROGATE.search(value) if isinstance(value, str) else None
            if half is None:
                return value
            # "\ud800" in a double-quoted scalar: a half of a UTF-16 pair, not a character. It
            # cannot be written as UTF-8 (error messages, manifests), so it is refused here.
            problem = f"{half.group()!a} is half of a UTF-16 pair, not a character"
        except yaml.constructor.ConstructorError as exc:
            problem = str(exc.problem)
        except (ValueError, KeyError):  # an explicit tag on text it does not fit: !!float abc, !!bool maybe
            kind = {"float": "a number", "bool": "true or false"}.get(n.tag.rsplit(":", 1)[-1], n.tag)
            problem = f"{n.value[:40]!r} is not {kind}"
        raise YamlError(source, n.start_mark.line + 1, f"{where(path)}: {problem}")

    def build(n: yaml.Node, path: Path_) -> Any:
        if id(n) in seen:  # the composer hands an alias back as the node it names
            raise YamlError(source, n.start_mark.line + 1, "YAML aliases (*name) are not allowed; write the value out")
        seen.add(id(n))
        check_tag(n, path)
        if isinstance(n, yaml.MappingNode):
            out: dict[str | int, Any] = {}
            for key_node, value_node in n.value:
                line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    what = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                    raise YamlError(source, line, f"{where(path)}: keys must be names, got {what}")
                check_tag(key_node, path)  # keys pass the checks values do
                key = scalar(key_node, path)
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise YamlError(source, line, f"{where(path)}: keys must be names, got {key!r}")
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
        return scalar(n, path)

    return YamlDocument(build(node, ()), lines, source)


def read_yaml(path: str | Path) -> YamlDocument:
    """Read and parse a YAML file (see :func:`parse_yaml`)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:  # at most one character past the limit: /dev/zero ends too
            text = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise YamlError(str(path), None, "no such file") from None
    except IsADirectoryError:
        raise YamlError(str(path), None, "is a folder, not a YAML file") from None
    except OSError as exc:  # no permission, a device that cannot be read
        raise YamlError(str(path), None, f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise YamlError(str(path), None, "not a UTF-8 text file") from None
    if len(text) > MAX_BYTES:
        raise YamlError(str(path), None, f"the file is more than {MAX_BYTES:,} characters long; the limit is "
                        f"{MAX_BYTES:,}")
    return parse_yaml(text, str(path))
