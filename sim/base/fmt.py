"""Numbers written for people: counts as whole numbers, money in dollars, parameters to 2-3 figures.

One place for how every page, table, figure and terminal line shows a number, so a planner never
reads ``trust_growth = 0.035632401471957564``, ``10,000,000.0 accounts`` or ``181,510.4`` people.
Machine-readable outputs (CSV, Parquet, JSON) keep full precision; only what is shown is rounded.
"""

from __future__ import annotations

import math
from numbers import Real

#: Shown for a missing or undefined value.
MISSING = "–"


def _bad(x) -> bool:
    return x is None or (isinstance(x, Real) and not math.isfinite(float(x)))


def count(x) -> str:
    """A count of people, accounts or partners: a whole number with thousands separators (``1,495,118``)."""
    if _bad(x):
        return MISSING
    return f"{round(float(x)):,}"


def signed_count(x) -> str:
    """A difference of counts with its sign (``+12,300``, ``-4``)."""
    if _bad(x):
        return MISSING
    return f"{round(float(x)):+,}"


def compact_count(x) -> str:
    """A large count in words a planner reads at a glance: ``1.5 million``, ``230,000``, ``1,240``."""
    if _bad(x):
        return MISSING
    v = float(x)
    if abs(v) >= 1e6:
        return f"{v / 1e6:.3g} million"
    if abs(v) >= 1e4:
        return f"{float(f'{v:.3g}'):,.0f}"
    return count(v)


def money(x, compact: bool = False) -> str:
    """USD: whole dollars from $10 up (``$150,000``), cents below (``$1.25``); ``compact``: ``$150k``, ``$1.5M``."""
    if _bad(x):
        return MISSING
    v = float(x)
    sign = "-" if v < 0 else ""
    v = abs(v)
    if compact and v >= 1e6:
        return f"{sign}${v / 1e6:.3g}M"
    if compact and v >= 1e3:
        return f"{sign}${v / 1e3:.3g}k"
    if v >= 10:
        return f"{sign}${v:,.0f}"
    return f"{sign}${v:,.2f}"


def param(x) -> str:
    """A parameter value to 3 significant figures (``0.0356``, ``485``, ``0.1``); names pass through."""
    if isinstance(x, str):
        return x
    if _bad(x):
        return MISSING
    v = float(x)
    if abs(v) >= 1000:  # 3 figures, written out: 150,000 rather than 1.5e+05
        return f"{float(f'{v:.3g}'):,.0f}"
    return f"{v:.3g}"


def share(x) -> str:
    """A probability or share as a percentage: ``62%``, ``0.4%``, ``<0.1%``, ``100%``."""
    if _bad(x):
        return MISSING
    v = float(x) * 100
    if v == 0:
        return "0%"
    if v < 0.1:
        return "<0.1%"
    if v < 9.95:
        return f"{v:.1f}%"
    return f"{v:.0f}%"


def assignment(label: str, value) -> str:
    """``label = value`` with the value as :func:`param` shows it."""
    return f"{label} = {param(value)}"
