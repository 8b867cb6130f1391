"""Reading graphs from edge-list files into the flat form.

Three formats, named in scenarios as ``format:``:

``edgelist``
    One ``u v`` pair per line (spaces or tabs; ``#`` starts a comment; CRLF is
    fine). An optional third column is a weight: a number, or a Python-style
    dict such as ``{'weight': 0.002}`` (SNAP's congress-Twitter format).
    Repeated pairs collapse into one edge (the first weight is kept).
``multigraph``
    As ``edgelist`` but every line is its own edge: repeated lines are parallel
    edges (NetHEPT counts one line per co-authored paper).
``json``
    ``{"edges": [[src, trg], ...], "labels": {...}}`` as in the Twitter follower
    samples of Anwar, Saveski & Roy (WSDM 2021).

Node labels are kept as they appear in the file (integers when every label is
an integer) and numbered in sorted order.
"""

from __future__ import annotations

import ast
import gzip
import json
from enum import StrEnum
from pathlib import Path

import numpy as np

from sim.world.graph import FlatGraph


class EdgeListFormat(StrEnum):
    """How the lines of an edge-list file map to edges."""

    EDGELIST = "edgelist"
    MULTIGRAPH = "multigraph"
    JSON = "json"


class EdgeListError(ValueError):
    """A file that cannot be read as the named format; the message names file and line."""


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _weight(token: str, path: Path, lineno: int) -> float:
    try:
        return float(token)  # the common case; literal_eval is ~10x slower
    except ValueError:
        pass
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError):
        raise EdgeListError(f"{path}:{lineno}: cannot read the weight {token!r}") from None
    if isinstance(value, dict):
        if "weight" not in value:
            raise EdgeListError(f"{path}:{lineno}: edge attributes {token!r} have no 'weight'")
        value = value["weight"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EdgeListError(f"{path}:{lineno}: the weight {token!r} is not a number")
    return float(value)


def _label(token: str) -> int | str:
    try:
        return int(token)
    except ValueError:
        return token


def read_graph(path: str | Path, *, directed: bool, fmt: EdgeListFormat, name: str = "") -> FlatGraph:
    """Read an edge-list file.

    Parameters
    ----------
    path : str or Path
        The file (``.gz`` is decompressed on the fly).
    directed : bool
        Whether ``u v`` means only ``u -> v``; if False both directions are stored.
    fmt : EdgeListFormat
        See the module docstring.
    name : str
        Description stored on the graph.

    Raises
    ------
    EdgeListError
        Naming the file and line of the first line that cannot be read.
    """
    path = Path(path)
    src: list = []
    dst: list = []
    weights: list[float] = []
    if fmt is EdgeListFormat.JSON:
        with _open_text(path) as fh:
            try:
                doc = json.load(fh)
            except json.JSONDecodeError as exc:
                raise EdgeListError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
        edges = doc.get("edges") if isinstance(doc, dict) else None
        if not isinstance(edges, list):
            raise EdgeListError(f"{path}: a JSON graph needs an 'edges' list of [source, target] pairs")
        for i, pair in enumerate(edges):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise EdgeListError(f"{path}: edge #{i} is {pair!r}, not a [source, target] pair")
            src.append(pair[0])
            dst.append(pair[1])
        extra = [_label(str(k)) for k in doc.get("labels", {})]
    else:
        extra = []
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                body = line.split("#", 1)[0].strip()
                if not body:
                    continue
                parts = body.split(None, 2)
                if len(parts) < 2:
                    raise EdgeListError(f"{path}:{lineno}: expected 'source target [weight]', got {body!r}")
                src.append(_label(parts[0]))
                dst.append(_label(parts[1]))
                if len(parts) == 3:
                    weights.append(_weight(parts[2], path, lineno))
        if weights and len(weights) != len(src):
            raise EdgeListError(f"{path}: some lines have a weight and others do not")
    labels_all = src + dst + extra
    try:
        labels = sorted(set(labels_all))
    except TypeError:  # mixed int/str labels: order of first appearance
        labels = list(dict.fromkeys(labels_all))
    index = {lab: i for i, lab in enumerate(labels)}
    s = np.fromiter((index[x] for x in src), dtype=np.int64, count=len(src))
    d = np.fromiter((index[x] for x in dst), dtype=np.int64, count=len(dst))
    w = np.asarray(weights, dtype=np.float64) if weights else None
    if fmt is not EdgeListFormat.MULTIGRAPH:
        # Collapse repeated pairs (in both orientations when undirected), keeping the first.
        a, b = (s, d) if directed else (np.minimum(s, d), np.maximum(s, d))
        _, first = np.unique(a * len(labels) + b, return_index=True)
        first.sort()
        s, d = s[first], d[first]
        w = None if w is None else w[first]
    return FlatGraph.from_edges(
        len(labels), s, d, labels=np.asarray(labels), weight=w, directed=directed, name=name or path.name
    )
