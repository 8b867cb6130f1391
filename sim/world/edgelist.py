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

import gzip
import json
import math
import re
from pathlib import Path

import numpy as np

from sim.world.catalog import EdgeListFormat
from sim.world.graph import FlatGraph


class EdgeListError(ValueError):
    """A file that cannot be read as the named format; the message names file and line."""


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


#: SNAP's attribute form of a weight, ``{'weight': 0.002}`` (read by pattern: nothing a file
#: holds is ever evaluated).
_ATTRS = re.compile(r"""^\{\s*(['"])weight\1\s*:\s*([^,{}\s]+)\s*\}$""")


def _weight(token: str, path: Path, lineno: int) -> float:
    match = _ATTRS.match(token)
    if token.startswith("{") and match is None:
        raise EdgeListError(f"{path}:{lineno}: edge attributes {token!r} are not {{'weight': number}}")
    text = match.group(2) if match else token
    try:
        value = float(text)
    except ValueError:
        raise EdgeListError(f"{path}:{lineno}: the weight {token!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise EdgeListError(f"{path}:{lineno}: the weight {token!r} must be a finite number >= 0")
    return value


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
    try:
        src, dst, weights, extra = _read(path, fmt)
    except UnicodeDecodeError:
        raise EdgeListError(f"{path}: not a UTF-8 text file") from None
    except EOFError:
        raise EdgeListError(f"{path}: the compressed file is cut short") from None
    if not src:
        raise EdgeListError(f"{path}: no edges")
    return _graph(path, src, dst, weights, extra, directed=directed, fmt=fmt, name=name)


def _read(path: Path, fmt: EdgeListFormat) -> tuple[list, list, list[float], list]:
    """Source and target labels, weights and extra labels of every edge in the file."""
    src: list = []
    dst: list = []
    weights: list[float] = []
    if fmt is EdgeListFormat.JSON:
        with _open_text(path) as fh:
            try:
                doc = json.load(fh)
            except json.JSONDecodeError as exc:
                raise EdgeListError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
            except RecursionError:  # the C decoder stops at the recursion limit and unwinds cleanly
                raise EdgeListError(f"{path}: invalid JSON: arrays and objects nested too deeply") from None
            except UnicodeDecodeError:
                raise  # said as "not a UTF-8 text file" by read_graph
            except ValueError:  # int() refuses integers of more than 4,300 digits
                raise EdgeListError(f"{path}: invalid JSON: a number has more than 4,300 digits") from None
        edges = doc.get("edges") if isinstance(doc, dict) else None
        if not isinstance(edges, list):
            raise EdgeListError(f"{path}: a JSON graph needs an 'edges' list of [source, target] pairs")
        for i, pair in enumerate(edges):
            if not (isinstance(pair, list) and len(pair) == 2
                    and all(isinstance(x, (int, str)) and not isinstance(x, bool) for x in pair)):
                raise EdgeListError(f"{path}: edge #{i} is {str(pair)[:60]}, not a [source, target] pair of "
                                    "ids (numbers or names)")
            src.append(pair[0])
            dst.append(pair[1])
        labels = doc.get("labels", {})
        if not isinstance(labels, dict):
            raise EdgeListError(f"{path}: 'labels' must be a mapping of node ids")
        extra = [_label(str(k)) for k in labels]
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
    return src, dst, weights, extra


def _graph(path: Path, src: list, dst: list, weights: list[float], extra: list, *, directed: bool,
           fmt: EdgeListFormat, name: str) -> FlatGraph:
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
