"""The planner's roster: the creators they actually know, read from a CSV file.

``world.creators: {roster: creators.csv}`` replaces the generated creators of a creator–audience
world by the file's rows; the audience is built around them exactly as around generated ones
(:func:`sim.world.population.build_population`: followers drawn from the creator's platform,
weighted towards interested accounts for aligned creators).

Columns (a header line first; UTF-8, comma-separated, one creator per line):

==================  =========  =====================================================================
``handle``          required   the creator's name (unique; what ``partners.csv`` shows)
``platform``        required   the creator's home platform, one of ``world.platforms``
``followers``       required   real follower count, a whole number >= 1
``price_per_post``  required   USD per sponsored post, >= 0 (replaces the rate card for this creator)
``engagement_rate`` optional   engagements per follower per post, in [0, 1], as creators' media kits
                               and rate guides publish it; the model engages an *exposed* follower with
                               probability ``min(1, engagement_rate / reach)`` (reach = the platform's
                               organic reach x the tier's reach;
                               :func:`sim.world.levels.per_exposure_engagement`); it is the
                               creator's engagement, in place of the tier's level, the world's
                               ``dispersion`` and the platform's multipliers. Empty: the tier's
                               engagement, spread by the dispersion as for generated creators.
``alignment``       optional   alignment with the cause in [0, 1] (it enters the persuasion dose through
                               ``model.alignment_weight``); empty: drawn as for generated creators
``tier``            optional   nano, micro, macro, mega or celebrity (a tier of the world); empty: the
                               tier whose ``followers`` range [low, high) holds the count (the first,
                               in the scenario's order, when ranges overlap)
==================  =========  =====================================================================

Every problem is reported as ``creators.csv:LINE:COLUMN: column: what is wrong (got ...)``.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.input.errors import InputError

REQUIRED = ("handle", "platform", "followers", "price_per_post")
OPTIONAL = ("engagement_rate", "alignment", "tier")
TIERS = ("nano", "micro", "macro", "mega", "celebrity")  # sim.world.spec.TierName
#: Largest roster file read (a roster of 100,000 creators is ~5 MB).
MAX_BYTES = 32 * 2**20
#: Largest follower count (float64 holds every integer up to it exactly; world.tiers' bound too).
MAX_FOLLOWERS = 2**53
#: Most creators in a roster.
MAX_ROWS = 200_000
#: Problems listed in one message (the rest are counted).
_SHOWN = 5


class RosterError(InputError):
    """A roster file that cannot be used: ``problems`` holds one ``file:line:column: column: problem``
    line per problem."""

    def brief(self) -> str:
        """The problems on one line (the first few, then how many more), for the scenario's message at
        ``world.creators.roster``."""
        more = f" (and {len(self.problems) - _SHOWN} more problems)" if len(self.problems) > _SHOWN else ""
        return "; ".join(self.problems[:_SHOWN]) + more


@dataclass(frozen=True, eq=False)
class Roster:
    """A parsed roster, in file order.

    Attributes
    ----------
    source : str
        The file's name as given (for messages).
    handle, platform : tuple of str
    tier : tuple of str or None
        Tier per creator (None where the file leaves it empty; resolved by the world).
    followers : int64[n]
    price_per_post : float64[n]
        USD.
    engagement_rate : float64[n]
        NaN where the file leaves it empty.
    alignment : float64[n]
        NaN where the file leaves it empty.
    line : int64[n]
        Line of each creator in the file (1-based).
    columns : dict
        Column name -> 1-based character column of that field on each creator's line.
    """

    source: str
    handle: tuple[str, ...]
    platform: tuple[str, ...]
    tier: tuple[str | None, ...]
    followers: np.ndarray
    price_per_post: np.ndarray
    engagement_rate: np.ndarray
    alignment: np.ndarray
    line: np.ndarray
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.handle)

    def where(self, i: int, column: str) -> str:
        """``creators.csv:LINE:COLUMN`` of creator ``i``'s field ``column``."""
        cols = self.columns.get(column)
        col = int(cols[i]) if cols is not None else 1
        return f"{self.source}:{int(self.line[i])}:{col}"


def digest(data: bytes) -> str:
    """SHA-256 of a roster's bytes (part of the scenario, so a changed roster is another scenario)."""
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: str | Path, source: str | None = None) -> bytes:
    """A roster file's bytes, at most :data:`MAX_BYTES` of them (an endless or enormous file is
    refused after reading one byte more, never read whole).

    Raises
    ------
    RosterError
        If the file is missing, a folder, unreadable, or larger than :data:`MAX_BYTES`.
    """
    path = Path(path)
    source = source or path.name
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise RosterError([f"no such file: {path}"]) from None
    except IsADirectoryError:
        raise RosterError([f"no such file: {path} (it is a folder)"]) from None
    except OSError as exc:
        raise RosterError([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    if len(data) > MAX_BYTES:
        raise RosterError([f"{source}: the file has more than {MAX_BYTES:,} bytes, the limit"])
    return data


def _field_starts(line: str) -> list[int]:
    """1-based character column where each comma-separated field of ``line`` starts (quotes respected)."""
    starts, quoted = [1], False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            starts.append(i + 2)
    return starts


def _shown(text: str, most: int = 40) -> str:
    """A field as a message quotes it: whole when short, else its start and its length."""
    t = text.strip()
    return repr(t) if len(t) <= most else f"{t[:most]!r}... ({len(t):,} characters)"


def _number(text: str, *, whole: bool, low: float, high: float = math.inf, low_open: bool = False) -> float:
    """The value of a numeric field, or ValueError saying what is allowed. A whole number's upper bound
    is named only when the value passes it (it is far above any real count)."""
    t = text.strip().replace("_", "")
    allowed = ("a whole number" if whole else "a number") + (
        f" > {low:g}" if low_open else f" >= {low:g}") + (
        f" and <= {high:g}" if math.isfinite(high) and not whole else "")
    got = f"(got {_shown(text)})"
    if not t:
        raise ValueError(f"is empty; must be {allowed}")
    try:
        v = int(t) if whole else float(t)
    except ValueError:  # also a whole number of more digits than Python converts (4,300)
        if whole:
            try:
                f = float(t)
            except ValueError:
                f = None
            if f is not None and math.isfinite(f) and f == int(f):
                v = int(f)
            elif f is not None and f > high:
                raise ValueError(f"must be a whole number <= {int(high):,} {got}") from None
            else:
                raise ValueError(f"must be {allowed} {got}") from None
        else:
            raise ValueError(f"must be {allowed} {got}") from None
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"must be {allowed} {got}")
    if whole and v > high:
        raise ValueError(f"must be a whole number <= {int(high):,} {got}")
    if v < low or (low_open and v == low) or v > high:
        raise ValueError(f"must be {allowed} {got}")
    return v


def _fail(source: str, problems: list[str]) -> RosterError:
    return RosterError(problems)


def parse_roster(data: bytes, source: str) -> Roster:
    """Parse and check a roster's bytes (format, types, ranges, duplicates; platforms and tiers are
    checked against the world by :func:`resolve`).

    Raises
    ------
    RosterError
        Listing up to five ``file:line:column: column: problem`` entries.
    """
    if len(data) > MAX_BYTES:
        raise RosterError([f"{source}: the file has more than {MAX_BYTES:,} bytes, the limit"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RosterError([f"{source}:{line}:{column}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the "
                           "file as UTF-8"]) from None
    lines = text.splitlines()
    numbered = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not numbered:
        raise RosterError([f"{source}:1:1: the roster is empty; the first line names the columns "
                           f"({', '.join(REQUIRED)}[, {', '.join(OPTIONAL)}])"])
    head_line, head_text = numbered[0]
    header = [h.strip() for h in next(csv.reader([head_text]))]
    starts = _field_starts(head_text)
    problems = []
    known = (*REQUIRED, *OPTIONAL)
    for k, name in enumerate(header):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"{source}:{head_line}:{starts[k] if k < len(starts) else 1}: unknown column '{name}' "
                            f"(columns: {', '.join(known)}){hint}")
        elif header.index(name) != k:
            problems.append(f"{source}:{head_line}:{starts[k]}: column '{name}' appears twice")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(f"{source}:{head_line}:1: missing required column{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)} (the first line names the columns)")
    if problems:
        raise _fail(source, problems)
    rows = numbered[1:]
    if not rows:
        raise RosterError([f"{source}:{head_line + 1}:1: the roster has a header but no creators"])
    if len(rows) > MAX_ROWS:
        raise RosterError([f"{source}:{rows[MAX_ROWS][0]}:1: more than {MAX_ROWS:,} creators"])
    col = {name: k for k, name in enumerate(header)}
    handles: list[str] = []
    platforms: list[str] = []
    tiers: list[str | None] = []
    numbers: dict[str, list[float]] = {name: [] for name in ("followers", "price_per_post", "engagement_rate",
                                                               "alignment")}
    line_no: list[int] = []
    positions: dict[str, list[int]] = {name: [] for name in header}
    seen: dict[str, int] = {}
    for number, raw in rows:
        try:
            fields = next(csv.reader([raw], strict=True))
        except csv.Error as exc:
            problems.append(f"{source}:{number}:1: not a CSV line ({exc})")
            continue
        starts = _field_starts(raw)
        if len(fields) != len(header):
            first = starts[min(len(fields), len(header)) - 1] if fields else 1
            problems.append(f"{source}:{number}:{first}: {len(fields)} fields, but the header names {len(header)}")
            continue

        def at(name: str, starts=starts, number=number) -> str:
            return f"{source}:{number}:{starts[col[name]]}"

        handle = fields[col["handle"]].strip()
        if not handle:
            problems.append(f"{at('handle')}: handle: is empty; every creator needs a name")
        elif any(ord(ch) < 32 for ch in handle):
            problems.append(f"{at('handle')}: handle: control characters are not allowed")
        elif handle in seen:
            problems.append(f"{at('handle')}: handle: '{handle}' appears twice (first on line {seen[handle]})")
        else:
            seen[handle] = number
        platform = fields[col["platform"]].strip()
        if not platform:
            problems.append(f"{at('platform')}: platform: is empty")
        values: dict[str, float] = {}
        # Follower counts are floored int64 in the world and divided as float64: up to 2**53 they are
        # exact (the bound of a tier's followers too).
        for name, whole, low, high, low_open in (("followers", True, 1, MAX_FOLLOWERS, False),
                                                 ("price_per_post", False, 0, math.inf, False),
                                                 ("engagement_rate", False, 0, 1, False),
                                                 ("alignment", False, 0, 1, False)):
            if name not in col:
                values[name] = math.nan
                continue
            text_value = fields[col[name]]
            if name in OPTIONAL and not text_value.strip():
                values[name] = math.nan
                continue
            try:
                values[name] = _number(text_value, whole=whole, low=low, high=high, low_open=low_open)
            except ValueError as exc:
                problems.append(f"{at(name)}: {name}: {exc}")
                values[name] = math.nan
        tier = fields[col["tier"]].strip() if "tier" in col else ""
        if tier and tier not in TIERS:
            close = difflib.get_close_matches(tier, TIERS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"{at('tier')}: tier: unknown tier '{tier}' (tiers: {', '.join(TIERS)}){hint}")
        handles.append(handle)
        platforms.append(platform)
        tiers.append(tier or None)
        for name, column_values in numbers.items():
            column_values.append(values[name])
        line_no.append(number)
        for name in header:
            positions[name].append(starts[col[name]])
        if len(problems) > 50:
            break
    if problems:
        raise _fail(source, problems)
    return Roster(
        source=source, handle=tuple(handles), platform=tuple(platforms), tier=tuple(tiers),
        followers=np.array(numbers["followers"], dtype=np.int64),
        price_per_post=np.array(numbers["price_per_post"], dtype=np.float64),
        engagement_rate=np.array(numbers["engagement_rate"], dtype=np.float64),
        alignment=np.array(numbers["alignment"], dtype=np.float64),
        line=np.array(line_no, dtype=np.int64),
        columns={name: np.array(v, dtype=np.int64) for name, v in positions.items()})


def read_roster(path: str | Path, source: str | None = None) -> Roster:
    """Read and parse a roster file (see :func:`parse_roster`)."""
    path = Path(path)
    source = source or path.name
    return parse_roster(read_bytes(path, source), source)


def resolve(roster: Roster, platforms, tiers: dict) -> Roster:
    """Check the roster against the world (known platforms and tiers) and fill in every creator's tier.

    Parameters
    ----------
    roster : Roster
    platforms : collection of str
        The world's platforms.
    tiers : dict
        Tier name -> tier spec (with ``followers`` = (low, high)), in the scenario's order.

    Raises
    ------
    RosterError
    """
    problems = []
    resolved = []
    for i in range(len(roster)):
        if roster.platform[i] not in platforms:
            close = difflib.get_close_matches(roster.platform[i], list(platforms), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"{roster.where(i, 'platform')}: platform: unknown platform '{roster.platform[i]}' "
                            f"(world.platforms: {', '.join(platforms)}){hint}")
        tier = roster.tier[i]
        if tier is not None:
            if tier not in tiers:
                problems.append(f"{roster.where(i, 'tier')}: tier: '{tier}' is not a tier of the world "
                                f"(world.tiers: {', '.join(tiers)})")
        else:
            f = int(roster.followers[i])
            tier = next((t for t, spec in tiers.items() if spec.followers[0] <= f < spec.followers[1]), None)
            if tier is None:
                ranges = "; ".join(f"{t} {s.followers[0]:,}-{s.followers[1]:,}" for t, s in tiers.items())
                problems.append(f"{roster.where(i, 'followers')}: followers: {f:,} is in no tier's range "
                                f"({ranges}); give a tier column or widen world.tiers' followers")
        resolved.append(tier)
        if len(problems) > 50:
            break
    if problems:
        raise _fail(roster.source, problems)
    return Roster(roster.source, roster.handle, roster.platform, tuple(resolved), roster.followers,
                  roster.price_per_post, roster.engagement_rate, roster.alignment, roster.line, roster.columns)


def read_text(data: str, source: str = "<roster>") -> Roster:
    """Parse a roster given as text (tests, notebooks)."""
    return parse_roster(data.encode("utf-8"), source)


__all__ = ["Roster", "RosterError", "digest", "parse_roster", "read_bytes", "read_roster", "read_text", "resolve"]
