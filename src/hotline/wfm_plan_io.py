"""The CSV and option formats of ``hotline wfm forecast/shifts/whatif`` (adapters, no math).

Every reader collects all problems, each ``line N: column: what is wrong`` (or the
option and value), and raises one :class:`InputError` with the list, so that a user sees
every mistake of a file at once — as ``hotline wfm staffing --cases`` does.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the CLI loads this module at every start
    from hotline.core.wfm.forecast import Event
    from hotline.core.wfm.shift_types import Operator, Template

__all__ = [
    "InputError",
    "parse_duration_minutes",
    "parse_event",
    "parse_percent",
    "parse_template",
    "read_history",
    "read_operators",
    "read_requirements",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class InputError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _rows(
    path: Path, required: Iterable[str], optional: Iterable[str] = ()
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError([f"cannot read the file ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise InputError(["not a UTF-8 text file"]) from None
    reader = csv.reader(text.splitlines())
    header = [h.strip() for h in next(reader, [])]
    required, optional = list(required), list(optional)
    problems = [f"line 1: {name}: missing column" for name in required if name not in header]
    if optional is not None and "*" not in optional:
        problems += [
            f"line 1: {name or '(empty)'}: unknown column; expected {','.join(required)}"
            + (f" (then any of {','.join(optional)})" if optional else "")
            for name in header
            if name not in required and name not in optional
        ]
    problems += [
        f"line 1: {name}: repeated column"
        for name in dict.fromkeys(header)
        if header.count(name) > 1
    ]
    if problems:
        raise InputError(problems)
    rows: list[tuple[int, dict[str, str]]] = []
    bad: list[str] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            bad.append(
                f"line {reader.line_num}: has {len(row)} cells, the header has {len(header)}"
            )
            continue
        rows.append((reader.line_num, {h: c.strip() for h, c in zip(header, row, strict=True)}))
    if bad:
        raise InputError(bad)
    return header, rows


def _number(
    line: int, column: str, cell: str, problems: list[str], *, low: float = 0.0, whole: bool = False
) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        problems.append(f"line {line}: {column}: not a number ({cell!r})")
        return None
    if not value >= low or value == float("inf") or (whole and value != int(value)):
        kind = "a whole number" if whole else "a number"
        problems.append(f"line {line}: {column}: must be {kind} ≥ {low:g} (got {cell})")
        return None
    return value


def _timestamp(line: int, column: str, cell: str, problems: list[str]) -> datetime | None:
    try:
        ts = datetime.fromisoformat(cell)
    except ValueError:
        problems.append(f"line {line}: {column}: not an ISO 8601 date and time ({cell!r})")
        return None
    return ts.replace(tzinfo=None)  # the wall-clock time as written: the queue's local time


def read_history(path: Path) -> dict[str, list[tuple[datetime, float, float | None]]]:
    """``timestamp,calls,aht[,queue]``: the start of each interval in the queue's local
    time (ISO 8601; an offset, if written, is ignored: the wall clock counts), calls
    offered, mean handle time in s (empty where there were no calls); rows by queue."""
    _, rows = _rows(path, ("timestamp", "calls", "aht"), ("queue",))
    problems: list[str] = []
    out: dict[str, list[tuple[datetime, float, float | None]]] = {}
    for line, row in rows:
        ts = _timestamp(line, "timestamp", row["timestamp"], problems)
        calls = _number(line, "calls", row["calls"], problems)
        aht = None
        if row["aht"]:
            aht = _number(line, "aht", row["aht"], problems, low=0.0)
        elif calls:
            problems.append(f"line {line}: aht: missing value (the interval has calls)")
        if ts is not None and calls is not None:
            out.setdefault(row.get("queue", "") or "", []).append((ts, calls, aht))
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError(["no data rows"])
    return out


def read_requirements(path: Path, interval_minutes: int) -> tuple[datetime, dict[str, list[int]]]:
    """``start,GROUP…``: one row per interval, consecutive, from a local midnight (the
    first row); one column per requirement group with the operators needed."""
    header, rows = _rows(path, ("start",), ("*",))
    groups = [h for h in header if h != "start"]
    if not groups:
        raise InputError(["line 1: give one column per requirement group after start"])
    problems: list[str] = []
    out: dict[str, list[int]] = {g: [] for g in groups}
    first: datetime | None = None
    for i, (line, row) in enumerate(rows):
        ts = _timestamp(line, "start", row["start"], problems)
        if ts is not None:
            if first is None:
                first = ts
                if ts.time() != datetime.min.time():
                    problems.append(f"line {line}: start: the first interval must start at 00:00")
            elif ts != first + timedelta(minutes=interval_minutes * i):
                expected = first + timedelta(minutes=interval_minutes * i)
                problems.append(
                    f"line {line}: start: expected {expected.isoformat(timespec='minutes')} "
                    f"(consecutive {interval_minutes}-minute intervals)"
                )
        for g in groups:
            value = _number(line, g, row[g] or "0", problems, whole=True)
            out[g].append(int(value or 0))
    if problems:
        raise InputError(problems)
    if first is None:
        raise InputError(["no data rows"])
    return first, out


def _clock(text: str) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if (
        not match
        or int(match[1]) > 24
        or int(match[2]) > 59
        or (int(match[1]) == 24 and int(match[2]))
    ):
        raise ValueError(f"{text!r} is not a time HH:MM")
    return int(match[1]) * 60 + int(match[2])


def _availability(cell: str, start: date, days: int) -> list[tuple[int, int]]:
    """``mon-fri 08:00-18:00; sat 10:00-14:00`` (``all`` = every day; an end before the
    start runs past midnight) as minute windows of the grid that starts on ``start``."""
    windows: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in cell.lower().split(";"))):
        try:
            which, hours = part.split()
            lo, hi = hours.split("-")
            begin, end = _clock(lo), _clock(hi)
        except ValueError as exc:
            raise ValueError(f"{part!r}: expected DAYS HH:MM-HH:MM ({exc})") from None
        if end <= begin:
            end += 1440
        if which == "all":
            chosen = set(range(7))
        elif "-" in which:
            a, b = which.split("-", 1)
            if a not in DAYS or b not in DAYS:
                raise ValueError(f"{which!r}: days are mon … sun")
            i, j = DAYS.index(a), DAYS.index(b)
            chosen = {(i + k) % 7 for k in range((j - i) % 7 + 1)}
        elif which in DAYS:
            chosen = {DAYS.index(which)}
        else:
            raise ValueError(f"{which!r}: days are mon … sun, a range mon-fri, or all")
        for d in range(days):
            if (start + timedelta(days=d)).weekday() in chosen:
                windows.append((d * 1440 + begin, d * 1440 + end))
    return windows


def read_operators(path: Path, start: date, days: int) -> list[Operator]:
    """``name,skills,hourly_rate,available[,max_shifts,min_shifts]``: skills separated by
    ``;`` (the requirement groups the operator may cover), availability as
    ``mon-fri 08:00-18:00; sat 10:00-14:00`` (``all 00:00-24:00`` for any time)."""
    from hotline.core.wfm.shift_types import Operator

    _, rows = _rows(
        path, ("name", "skills", "hourly_rate", "available"), ("max_shifts", "min_shifts")
    )
    problems: list[str] = []
    out: list[Operator] = []
    for line, row in rows:
        rate = _number(line, "hourly_rate", row["hourly_rate"], problems)
        most = _number(line, "max_shifts", row.get("max_shifts") or "5", problems, whole=True)
        least = _number(line, "min_shifts", row.get("min_shifts") or "0", problems, whole=True)
        try:
            windows = _availability(row["available"], start, days)
        except ValueError as exc:
            problems.append(f"line {line}: available: {exc}")
            continue
        if not row["name"]:
            problems.append(f"line {line}: name: missing value")
        skills = frozenset(s.strip() for s in row["skills"].split(";") if s.strip())
        if not skills:
            problems.append(f"line {line}: skills: missing value")
        if rate is None or most is None or least is None:
            continue
        out.append(Operator(row["name"], skills, rate, tuple(windows), int(most), int(least)))
    if problems:
        raise InputError(problems)
    return out


def parse_duration_minutes(text: str) -> int:
    """``11h``, ``90m``, ``1h30m`` or plain minutes."""
    match = re.fullmatch(r"\s*(?:(\d+)h)?\s*(?:(\d+)m?)?\s*", text)
    if not match or not (match[1] or match[2]):
        raise ValueError(f"{text!r} is not a duration such as 11h, 90m or 1h30m")
    return int(match[1] or 0) * 60 + int(match[2] or 0)


def parse_percent(text: str) -> float:
    """``+60%``, ``-10 %``, ``25`` as percent."""
    try:
        return float(text.strip().rstrip("%").strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a percentage such as +60% or -10%") from None


def parse_event(text: str) -> Event:
    """``FIRST:LAST:+60%`` (ISO dates, inclusive)."""
    from hotline.core.wfm.forecast import Event

    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"{text!r}: expected FIRST:LAST:+N% such as 2026-12-01:2026-12-07:+60%")
    try:
        first, last = date.fromisoformat(parts[0]), date.fromisoformat(parts[1])
    except ValueError:
        raise ValueError(f"{text!r}: the dates must be YYYY-MM-DD") from None
    factor = 1.0 + parse_percent(parts[2]) / 100.0
    if factor < 0 or last < first:
        raise ValueError(f"{text!r}: needs FIRST ≤ LAST and a change above -100%")
    return Event(first, last, factor)


def parse_template(text: str) -> Template:
    """``NAME=LENGTH[;PAUSE…]`` with ``PAUSE = name:MINUTES@EARLIEST-LATEST[:unpaid]``
    (minutes; the window is where the pause may start, counted from the shift start),
    e.g. ``8h=8h;break:15@60-150;lunch:60@180-300:unpaid``."""
    from hotline.core.wfm.shift_types import Pause, Template

    head, *pauses = [p.strip() for p in text.split(";")]
    if "=" not in head:
        raise ValueError(f"{text!r}: expected NAME=LENGTH[;name:MINUTES@EARLIEST-LATEST[:unpaid]…]")
    name, length = head.split("=", 1)
    specs: list[Pause] = []
    for pause in filter(None, pauses):
        match = re.fullmatch(r"(\w+):(\d+)@(\d+)-(\d+)(:unpaid)?", pause)
        if not match:
            raise ValueError(f"{pause!r}: expected name:MINUTES@EARLIEST-LATEST[:unpaid]")
        specs.append(
            Pause(match[1], int(match[2]), int(match[3]), int(match[4]), paid=not match[5])
        )
    return Template(name.strip(), parse_duration_minutes(length), tuple(specs))
