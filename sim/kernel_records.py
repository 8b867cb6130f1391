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

Records hold arrays, not copies: building one costs microseconds, independent of sizes
(arrays that are not C-contiguous are made so, since numba would compile another
specialisation for them).
"""

from __future__ import annotations

import operator
import re
import sys
import typing
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

    def __init__(self, dtype: Any, *dims: str | int) -> None:
        object.__setattr__(self, "dtype", np.dtype(dtype))
        object.__setattr__(self, "dims", tuple(dims))
        for d in dims:
            if not (isinstance(d, int) or d == "*" or _DIM.match(str(d))):
                raise ValueError(f"bad dimension {d!r}")

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
    missing = [k for k in spec if k not in values]
    unknown = [k for k in values if k not in spec]
    if missing or unknown:
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
        where = f"{cls.__name__}.{name}"
        a = values[name]
        if not isinstance(a, np.ndarray):
            raise RecordError(f"{where}: expected an array {s.describe()}, got {type(a).__name__}")
        if a.dtype != s.dtype or a.ndim != len(s.dims):
            raise RecordError(f"{where}: expected {s.describe()}, got {a.dtype} array of shape {a.shape}")
        for axis, d in enumerate(s.dims):
            if d == "*":
                continue
            if isinstance(d, int):
                if a.shape[axis] != d:
                    raise RecordError(f"{where}: expected {s.describe()}, got shape {a.shape}")
                continue
            dim, plus = _DIM.match(d).groups()
            base = a.shape[axis] - int(plus or 0)
            if dim in sizes and sizes[dim][0] != base:
                size, source = sizes[dim]
                raise RecordError(f"{where}: expected {s.describe()} with {dim} = {size} (from {source}), "
                                  f"got shape {a.shape}")
            if base < 0:
                raise RecordError(f"{where}: expected {s.describe()}, got shape {a.shape}")
            sizes.setdefault(dim, (base, where))
        out[name] = a if a.flags.c_contiguous else np.ascontiguousarray(a)
    return cls(**out)
