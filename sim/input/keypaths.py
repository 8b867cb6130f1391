"""Key paths: naming one value inside a document (``world.tiers.micro.trust``, ``strategies.0.posts``).

A key path is a tuple of keys, mapping keys as strings and list positions as integers or digit
strings (``("free", 0, "path")`` or ``("world", "tiers", "micro", "followers", "0")``). Documents
are plain data: mappings, lists and tuples (a pydantic dump in Python mode keeps ``(low, high)``
pairs as tuples). Sweeps, calibrations and fitted parameter sets write values at key paths; error
messages name them; this module is the one place that walks them, and every function here treats
lists and tuples alike.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from typing import Any

KeyPath = tuple[str | int, ...]


def split(path: str) -> tuple[str, ...]:
    """``"world.tiers.micro.trust"`` -> ``("world", "tiers", "micro", "trust")``."""
    return tuple(path.split("."))


def dotted(keys: Iterable[str | int]) -> str:
    """``("strategies", 0, "posts")`` -> ``"strategies.0.posts"``."""
    return ".".join(map(str, keys))


def _index(node: list | tuple, key: str | int) -> int | None:
    """``key`` as a position of the sequence ``node``, or None if it is not one."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        i = key
    elif isinstance(key, str) and key.isdigit():
        i = int(key)
    else:
        return None
    return i if 0 <= i < len(node) else None


def get(data: Any, keys: Iterable[str | int]) -> Any:
    """The value at ``keys``.

    Raises
    ------
    KeyError
        If a key is missing, not a position of a list, or reaches into a plain value.
    """
    node = data
    for key in keys:
        if isinstance(node, Mapping):
            node = node[key]
        elif isinstance(node, (list, tuple)):
            i = _index(node, key)
            if i is None:
                raise KeyError(key)
            node = node[i]
        else:
            raise KeyError(key)
    return node


def _set(node: Any, key: str | int, value: Any) -> Any:
    """``node`` with ``key`` set to ``value``: mappings and lists in place, tuples rebuilt."""
    if isinstance(node, (list, tuple)):
        i = _index(node, key)
        if i is None:
            raise KeyError(key)
        if isinstance(node, tuple):
            return (*node[:i], value, *node[i + 1:])
        node[i] = value
        return node
    if isinstance(node, dict):
        node[key] = value
        return node
    raise KeyError(key)


def _write(node: Any, keys: KeyPath, value: Any) -> Any:
    if not keys:
        return value
    head, rest = keys[0], keys[1:]
    child = _write(get(node, (head,)) if rest else None, rest, value)
    return _set(node, head, child)


def with_values(data: Any, values: Mapping[KeyPath, Any]) -> Any:
    """A deep copy of ``data`` with each value written at its key path.

    Every key but the last must exist; the last may be new in a mapping. Tuples on the way
    (``(low, high)`` pairs) are rebuilt with the one item replaced.

    Raises
    ------
    KeyError
        If a path does not lead to a mapping or a position of a sequence.
    """
    out = copy.deepcopy(data)
    for keys, value in values.items():
        out = _write(out, tuple(keys), value)
    return out


def problem(data: Any, keys: KeyPath) -> str | None:
    """Why ``keys`` does not name a value of ``data`` (for a message), or None if it does.

    Every key but the last must exist; the last must exist too, unless its parent is a free
    mapping (rate cards, partnership costs, tiers' platform shares: no mapping inside) that may
    gain the key. A path to a block (a mapping or a list) is a problem: a value is one number or
    name.
    """
    node = data
    path = dotted(keys)
    for depth, key in enumerate(keys):
        where = dotted(keys[:depth]) or "the scenario"
        if isinstance(node, (list, tuple)):
            i = _index(node, key)
            if i is None:
                return f"'{path}': {where} is a list of {len(node)}; '{key}' is not an index of it"
            node = node[i]
        elif isinstance(node, Mapping):
            if key not in node:
                if depth == len(keys) - 1 and all(not isinstance(v, Mapping) for v in node.values()):
                    return None  # a free mapping gaining a key: validated with the whole document
                close = difflib.get_close_matches(str(key), list(map(str, node)), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                return f"'{path}': {where} has no key '{key}'{hint}"
            node = node[key]
        else:
            return f"'{path}': {where} is a value, not a block"
    if isinstance(node, (Mapping, list, tuple)):
        return f"'{path}' is a block; an uncertainty varies one value"
    return None


def existing(data: Any, loc: Iterable[str | int]) -> KeyPath:
    """The keys of a pydantic error location that exist in ``data``.

    pydantic inserts the tags of tagged unions (``creator_audience``, ``function-after[...]``)
    into locations; they name nothing in the document and are dropped. The walk stops at a plain
    value.
    """
    node, out = data, []
    for part in loc:
        if isinstance(node, Mapping):
            if part in node:
                node = node[part]
                out.append(part)
        elif isinstance(node, (list, tuple)):
            i = _index(node, part) if isinstance(part, int) else None
            if i is not None:
                node = node[i]
                out.append(part)
        else:
            break
    return tuple(out)
