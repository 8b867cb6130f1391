"""Typed records of kernel arguments: NamedTuples whose fields are checked when a record is built.

A numba kernel that takes thirty positional arrays type-checks a call with two
``float64[n]`` arguments swapped and computes wrong numbers. The kernels therefore take a
few records instead (world, schedule, parameters, ...): ``typing.NamedTuple`` classes, which
numba accepts as arguments of jitted functions (also with ``cache=True``) and whose fields a
kernel reads by name. Each field is annotated with what it must hold::

    class Edges(NamedTuple):
        indptr: Annotated[np.ndarray, Array(np.int64, "n+1")]
        weight: Annotated[np.ndarray, Array(np.float64, "m")]
        scale: Annotated[float, Scalar(float)]

and a record is made only through :func:`build`, by keyword: every field named, each array
of exactly its dtype and number of dimensions, every named dimension the same size
wherever it appears (``"n"`` in one field and ``"n+1"`` in another; a dimension may also
name an ``int`` field of the same record, e.g. ``"days+1"``). Anything else raises
:class:`RecordError` naming the record, the field, what was expected and what was given.
Scalars are converted to one Python type per field (``float``, ``int``, ``bool``, or
``numpy.uint64`` for keys), so numba compiles one specialisation per kernel, not one per
caller's choice of ``int`` or ``np.int32``.

Records hold arrays, not copies (arrays that are not C-contiguous are made so, since numba
would compile another specialisation for them): building one costs microseconds,
independent of sizes, and :func:`memo` builds a record once per source object, so a kernel
called chunk after chunk pays for the checks once.
"""

from __future__ import annotations

import operator
import re
import sys
import typing
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

_DIM = re.compile(r"^([A-Za-z_]\w*)(?:\+(\d+))?$")


class RecordError(ValueError):
    """A record built with a missing, unknown, mistyped or misshapen field."""


@dataclass(frozen=True)
class Array:
    """A field holding a NumPy array.

    Parameters
    ----------
    dtype : NumPy dtype (or type)
        The exact dtype required (no casting: an ``int64`` array where ``int32`` is due is
        refused, since it would silently be another kernel specialisation, or a wrong one).
    *dims : str or int
        One per dimension: a fixed size (int), a name (``"n"``) that must have the same size
        in every field using it, a name plus a constant (``"n+1"``), or ``"*"`` for any size.
    """

    dtype: Any
    dims: tuple
    parsed: tuple  # per dimension: None (any), an int, or (name, offset)

    def __init__(self, dtype: Any, *dims: str | int) -> None:
        object.__setattr__(self, "dtype", np.dtype(dtype))
        object.__setattr__(self, "dims", tuple(dims))
        parsed = []
        for d in dims:
            if isinstance(d, int):
                parsed.append(d)
            elif d == "*":
                parsed.append(None)
            elif m := _DIM.match(str(d)):
                parsed.append((m.group(1), int(m.group(2) or 0)))
            else:
                raise ValueError(f"bad dimension {d!r}")
        object.__setattr__(self, "parsed", tuple(parsed))

    def describe(self) -> str:
        """E.g. ``float64[n]``."""
        return f"{self.dtype}[{', '.join(str(d) for d in self.dims)}]"


@dataclass(frozen=True)
class Scalar:
    """A field holding one number, converted to ``kind``: ``float``, ``int``, ``bool`` or ``np.uint64``."""

    kind: type

    def describe(self) -> str:
        """E.g. ``float``."""
        return getattr(self.kind, "__name__", str(self.kind))


def fields(cls: type) -> dict[str, Array | Scalar]:
    """The field specifications of a record class, in field order."""
    cached = cls.__dict__.get("_record_fields")
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls, globalns=vars(sys.modules[cls.__module__]), include_extras=True)
    spec = {}
    for name in cls._fields:
        meta = [m for m in getattr(hints[name], "__metadata__", ()) if isinstance(m, Array | Scalar)]
        if len(meta) != 1:
            raise TypeError(f"{cls.__name__}.{name} needs one Array(...) or Scalar(...) annotation")
        spec[name] = meta[0]
    cls._record_fields = spec  # NamedTuple classes accept new class attributes
    return spec


def _scalar(cls: type, name: str, spec: Scalar, value: Any) -> Any:
    where = f"{cls.__name__}.{name}"
    if isinstance(value, np.ndarray) or isinstance(value, bool | np.bool_) and spec.kind is not bool:
        raise RecordError(f"{where}: expected a {spec.describe()}, got {type(value).__name__} {value!r}")
    try:
        if spec.kind is float:
            out = float(value)
            if not isinstance(value, int | float | np.integer | np.floating):
                raise TypeError
        elif spec.kind is bool:
            if not isinstance(value, bool | np.bool_):
                raise TypeError
            out = bool(value)
        elif spec.kind is int:
            out = operator.index(value)
        elif spec.kind is np.uint64:
            out = np.uint64(operator.index(value))
        else:  # pragma: no cover - a record class's mistake
            raise TypeError(f"unsupported scalar kind {spec.kind!r}")
    except (TypeError, ValueError, OverflowError):
        raise RecordError(f"{where}: expected a {spec.describe()}, got {type(value).__name__} {value!r}") from None
    return out


def build(cls: type, **values: Any) -> Any:
    """Make a record of class ``cls`` from keyword arguments, checking every field.

    Raises
    ------
    RecordError
        A field is missing or unknown; an array has another dtype or number of dimensions
        than its annotation, or a named dimension differs between fields; a scalar is not a
        number of the field's kind.
    """
    spec = fields(cls)
    if values.keys() != spec.keys():
        missing = [k for k in spec if k not in values]
        unknown = [k for k in values if k not in spec]
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(unknown)}"] if unknown else [])
        raise RecordError(f"{cls.__name__}: {'; '.join(parts)}")
    out: dict[str, Any] = {}
    sizes: dict[str, tuple[int, str]] = {}  # dimension name -> (size, where it was set)
    for name, s in spec.items():  # scalars first: dimensions may name them
        if isinstance(s, Scalar):
            out[name] = _scalar(cls, name, s, values[name])
            if s.kind is int:
                sizes[name] = (out[name], f"{cls.__name__}.{name}")
    for name, s in spec.items():
        if isinstance(s, Scalar):
            continue
        a = values[name]
        if not isinstance(a, np.ndarray):
            raise RecordError(f"{cls.__name__}.{name}: expected an array {s.describe()}, got {type(a).__name__}")
        shape = a.shape
        if a.dtype != s.dtype or len(shape) != len(s.parsed):
            raise RecordError(f"{cls.__name__}.{name}: expected {s.describe()}, got {a.dtype} array of shape {shape}")
        for size, d in zip(shape, s.parsed, strict=True):
            if d is None:
                continue
            if isinstance(d, int):
                if size != d:
                    raise RecordError(f"{cls.__name__}.{name}: expected {s.describe()}, got shape {shape}")
                continue
            dim, plus = d
            base = size - plus
            known = sizes.get(dim)
            if known is None:
                if base < 0:
                    raise RecordError(f"{cls.__name__}.{name}: expected {s.describe()}, got shape {shape}")
                sizes[dim] = (base, f"{cls.__name__}.{name}")
            elif known[0] != base:
                raise RecordError(f"{cls.__name__}.{name}: expected {s.describe()} with {dim} = {known[0]} "
                                  f"(from {known[1]}), got shape {shape}")
        out[name] = a if a.flags.c_contiguous else np.ascontiguousarray(a)
    return cls(**out)


_MEMO: dict[Callable, weakref.WeakKeyDictionary] = {}


def memo(make: Callable[..., Any], *sources: Any) -> Any:
    """``make(*sources)``, computed once per combination of source objects and kept while they live.

    For records built from frozen objects (a population, compiled arrays, a schedule, a
    graph): a kernel called chunk after chunk on the same objects then pays for the checks
    once. Sources are keyed by identity (they must be weak-referenceable, hashable by
    identity: ``eq=False`` dataclasses) and held weakly; the record refers to their arrays,
    not to them, so it goes when they go.
    """
    table = _MEMO.get(make)
    if table is None:
        table = _MEMO.setdefault(make, weakref.WeakKeyDictionary())
    for src in sources[:-1]:
        inner = table.get(src)
        if inner is None:
            inner = table.setdefault(src, weakref.WeakKeyDictionary())
        table = inner
    value = table.get(sources[-1])
    if value is None:
        value = table[sources[-1]] = make(*sources)
    return value
