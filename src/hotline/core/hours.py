"""Business hours of a hotline: is it open now, and when does that next change?

Pure and clock-free: every question takes ``now`` (a timezone-aware ``datetime``) and the
answers are instants in UTC, so the flow engine can arm one deadline with `next_change`.

Theory of operation
-------------------
Rule 1 — the ranges of a date. For each *local* calendar date D in the hotline's time zone
the ranges in force are ``special_days[D]`` when D is a special day (an empty tuple closes
it), none when D is a holiday, otherwise ``weekly[D.weekday()]`` (0 = Monday; a missing
weekday is closed). A date may not be both a holiday and a special day: the two contradict
each other, so `BusinessHours` refuses it.

Rule 2 — ranges are wall-clock times. A range ``start-end`` of date D runs from D at
``start`` to D at ``end``; when ``end <= start`` it ends on D+1, so ``22:00-02:00`` runs
overnight, ``18:00-00:00`` ends at midnight and ``00:00-00:00`` is the whole day (in specs
midnight as an end is written ``24:00``). ``09:00-09:00`` is refused as ambiguous.

Rule 3 — the overnight tail belongs to the day it started on. A Friday ``22:00-02:00`` range
is open on Saturday at 01:00 because of *Friday's* schedule: a holiday or special day on
Saturday does not close that tail, while a holiday on Friday removes the whole range.

Rule 4 — wall time to instant. A boundary takes effect at the first instant at which the
local clock reads that time or later. A time that occurs twice (autumn fall-back) takes
effect at its first occurrence; a time that a spring-forward skips takes effect at the jump.
So ``02:30-04:00`` in New York on 2026-03-08 opens at 03:00 EDT, a range wholly inside the
skipped hour never opens, and ``00:00-01:30`` on 2026-11-01 closes at the first 01:30 and
stays closed while the clock repeats 01:00-02:00.

Rule 5 — open is a union of half-open intervals. Each range becomes ``[start, end)`` in real
time; the hotline is open at ``now`` when ``now`` lies in any of them. Ranges that touch or
overlap (Friday's tail and Saturday's early shift, ``09:00-12:00`` and ``12:00-18:00``) merge,
so no change is reported between them. `next_change` walks the same intervals as `is_open`,
so the two always agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DAY_NAMES",
    "SEARCH_DAYS",
    "BusinessHours",
    "HoursError",
    "TimeRange",
    "hours_to_spec",
    "is_open",
    "next_change",
    "parse_hours_spec",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names of the spec, indexed like `date.weekday` (0 = Monday)."""

SEARCH_DAYS = 400
"""How far `next_change` looks ahead: a year plus slack for a yearly holiday schedule."""

_MIDNIGHT = time(0, 0)
_DAY_MINUTES = 24 * 60
_ONE_DAY = timedelta(days=1)
_SPEC_KEYS = ("timezone", "weekly", "holidays", "special_days")
_RANGE_RE = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class HoursError(ValueError):
    """A business-hours definition (or a question about it) is invalid.

    ``path`` says where (``weekly.tue[1]``, ``holidays[0]``, ``timezone``; empty for the
    document itself) and ``message`` what is wrong; ``str()`` joins them.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def __reduce__(self) -> tuple[type[HoursError], tuple[str, str]]:
        return type(self), (self.path, self.message)  # picklable despite the 2-arg __init__


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Local wall-clock opening ``start``-``end`` of one date (see Rules 2 and 3).

    Times are naive, whole minutes. ``end <= start`` means the range ends the next day;
    ``end == time(0, 0)`` is midnight; ``time(0, 0)``-``time(0, 0)`` is the whole day.
    ``str()`` gives the spec form, e.g. ``"22:00-02:00"`` or ``"09:00-24:00"``.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if not isinstance(value, time):
                raise HoursError("TimeRange", f"{name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise HoursError("TimeRange", f"{name} must be naive (local wall time)")
            if value.second or value.microsecond:
                raise HoursError("TimeRange", f"{name} must be whole minutes, got {value}")
        if self.start == self.end != _MIDNIGHT:
            raise HoursError("TimeRange", f"{self} is empty: start equals end")

    @property
    def crosses_midnight(self) -> bool:
        """Whether the range ends on the next day (``22:00-02:00``, not ``18:00-24:00``)."""
        return self.end < self.start and self.end != _MIDNIGHT

    def minutes(self) -> tuple[int, int]:
        """``(start, end)`` in minutes from the start of the date; ``end <= start + 1440``."""
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return start, end + _DAY_MINUTES if end <= start else end

    def __str__(self) -> str:
        end = "24:00" if self.end == _MIDNIGHT else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"


def _zone(name: object) -> ZoneInfo:
    if not isinstance(name, str):
        raise HoursError(
            "timezone", f"expected an IANA time zone name such as 'Europe/Moscow', got {name!r}"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: malformed key such as '../x'
        raise HoursError("timezone", f"unknown IANA time zone {name!r}") from None


def _check_day(ranges: object, path: str) -> tuple[TimeRange, ...]:
    """Ranges of one date sorted by start; refuses non-ranges and overlaps within the date."""
    if not isinstance(ranges, tuple | list):
        raise HoursError(path, f"expected a tuple of TimeRange, got {type(ranges).__name__}")
    for index, item in enumerate(ranges):
        if not isinstance(item, TimeRange):
            raise HoursError(f"{path}[{index}]", f"expected a TimeRange, got {item!r}")
    order = sorted(range(len(ranges)), key=lambda i: (ranges[i].minutes(), i))
    for before, after in pairwise(order):
        if ranges[before].minutes()[1] > ranges[after].minutes()[0]:
            raise HoursError(f"{path}[{after}]", f"'{ranges[after]}' overlaps '{ranges[before]}'")
    return tuple(ranges[i] for i in order)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When a hotline is open (module docstring: Rules 1-5).

    ``timezone`` is an IANA name; ``weekly`` maps 0 (Monday) .. 6 (Sunday) to that day's
    ranges; ``holidays`` are local dates closed all day; ``special_days`` replace the weekly
    ranges of a date (an empty tuple closes it). Construction validates everything and
    raises `HoursError`; the mappings are stored as read-only copies with ranges sorted, so
    equal schedules compare (and hash) equal whatever order they were given in.
    """

    timezone: str
    weekly: Mapping[int, tuple[TimeRange, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    special_days: Mapping[date, tuple[TimeRange, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _zone(self.timezone)
        weekly: dict[int, tuple[TimeRange, ...]] = {}
        for day, ranges in self.weekly.items():
            if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
                raise HoursError("weekly", f"day {day!r} is not 0 (Monday) .. 6 (Sunday)")
            checked = _check_day(ranges, f"weekly.{DAY_NAMES[day]}")
            if checked:  # an empty weekday is the same as a missing one
                weekly[day] = checked
        holidays = frozenset(self.holidays)
        for holiday in holidays:
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise HoursError("holidays", f"{holiday!r} is not a datetime.date")
        special: dict[date, tuple[TimeRange, ...]] = {}
        for special_day in sorted(self.special_days):
            if not isinstance(special_day, date) or isinstance(special_day, datetime):
                raise HoursError("special_days", f"{special_day!r} is not a datetime.date")
            path = f"special_days.{special_day.isoformat()}"
            if special_day in holidays:
                raise HoursError(
                    path, "is also a holiday; a date is either closed all day or special"
                )
            special[special_day] = _check_day(self.special_days[special_day], path)
        object.__setattr__(self, "weekly", MappingProxyType(dict(sorted(weekly.items()))))
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "special_days", MappingProxyType(special))

    def __hash__(self) -> int:
        return hash(
            (
                self.timezone,
                tuple(self.weekly.items()),
                self.holidays,
                tuple(self.special_days.items()),
            )
        )

    @classmethod
    def always_open(cls, timezone: str) -> BusinessHours:
        """Open around the clock every day (``00:00-24:00`` on each weekday)."""
        whole_day = (TimeRange(_MIDNIGHT, _MIDNIGHT),)
        return cls(timezone, dict.fromkeys(range(7), whole_day))

    @property
    def zone(self) -> ZoneInfo:
        """The hotline's time zone (``ZoneInfo`` caches instances by name)."""
        return ZoneInfo(self.timezone)

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """The ranges that *start* on local date ``day`` (Rule 1), sorted by start."""
        if day in self.special_days:
            return self.special_days[day]
        if day in self.holidays:
            return ()
        return self.weekly.get(day.weekday(), ())


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Rule 4: the first UTC instant at which the clock in ``zone`` reads ``day at`` or later."""
    wall = datetime.combine(day, at)
    # fold=0 gives the first occurrence of a repeated time; for a skipped time it uses the
    # offset from before the jump, which lands after the jump, so it is checked below.
    first = wall.replace(tzinfo=zone).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # Skipped time: fold=1 uses the offset from after the jump and lands before it. Bisect in
    # whole seconds (tz transitions happen on whole seconds) for the first instant whose
    # wall clock reads >= wall.
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _intervals(
    hours: BusinessHours, zone: ZoneInfo, first_day: date, days: int
) -> Iterator[tuple[datetime, datetime]]:
    """Non-empty ``[start, end)`` UTC intervals of the ranges starting on ``days`` dates.

    They come sorted by start: ranges are sorted within a date, later dates start later on
    the wall clock, and Rule 4's mapping never goes backwards.
    """
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for time_range in hours.ranges_on(day):
            end_day = day + _ONE_DAY if time_range.end <= time_range.start else day
            start = _instant(day, time_range.start, zone)
            end = _instant(end_day, time_range.end, zone)
            if start < end:
                yield start, end


def _as_utc(now: datetime) -> datetime:
    if not isinstance(now, datetime):
        raise HoursError("now", f"expected a datetime, got {now!r}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise HoursError(
            "now", f"must be timezone-aware (e.g. tzinfo=datetime.UTC), got naive {now}"
        )
    return now.astimezone(UTC)


def is_open(hours: BusinessHours, now: datetime) -> bool:
    """Whether the hotline is open at ``now`` (timezone-aware; naive -> `HoursError`).

    Open at a range's start, closed at its end (Rule 5).
    """
    at = _as_utc(now)
    zone = hours.zone
    today = at.astimezone(zone).date()
    # Ranges of the previous date may still run (overnight tail, Rule 3); those of the next
    # date may already have started when the clock repeats a time around midnight.
    return any(start <= at < end for start, end in _intervals(hours, zone, today - _ONE_DAY, 3))


def next_change(hours: BusinessHours, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which `is_open` flips, in UTC.

    Looks `SEARCH_DAYS` local dates ahead and returns ``None`` when nothing flips within them
    (always open, never open, or the next opening is further away): ask again later then.
    """
    at = _as_utc(now)
    zone = hours.zone
    first_day = at.astimezone(zone).date() - _ONE_DAY
    days = SEARCH_DAYS + 2  # yesterday (overnight tail), today, and SEARCH_DAYS more
    # Ranges of dates beyond the search start at or after this instant.
    horizon = _instant(first_day + timedelta(days=days), _MIDNIGHT, zone)
    run: tuple[datetime, datetime] | None = None  # current union of touching intervals
    for start, end in _intervals(hours, zone, first_day, days):
        if run is not None and start <= run[1]:
            run = (run[0], max(run[1], end))
            continue
        if run is not None:  # complete: nothing later starts before its end
            if at < run[0]:
                return run[0]
            if at < run[1]:
                return run[1]
        run = (start, end)
    if run is None:
        return None
    if at < run[0]:
        return run[0]
    if at < run[1] < horizon:
        return run[1]
    return None  # open up to the horizon (and perhaps beyond), or the last run is past


# --- the JSON-like spec -------------------------------------------------------------------


def _kind(value: object) -> str:
    """JSON's name for the type of ``value``, for error messages."""
    names = {str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return names.get(type(value), type(value).__name__)


def _parse_range(text: object, path: str) -> TimeRange:
    if not isinstance(text, str):
        raise HoursError(path, f'expected a string "HH:MM-HH:MM", got {_kind(text)}')
    bad = f"{text!r} is not HH:MM-HH:MM"
    match = _RANGE_RE.fullmatch(text)
    if match is None:
        raise HoursError(path, bad)
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in match.groups())
    if start_hour > 23:
        raise HoursError(path, f"{bad} (start hour {start_hour:02d} is not 00..23)")
    if start_minute > 59:
        raise HoursError(path, f"{bad} (start minute {start_minute:02d} is not 00..59)")
    if end_minute > 59:
        raise HoursError(path, f"{bad} (end minute {end_minute:02d} is not 00..59)")
    if end_hour > 24 or (end_hour == 24 and end_minute != 0):
        raise HoursError(path, f"{bad} (end hour {end_hour:02d} is not 00..23, or 24:00)")
    start = time(start_hour, start_minute)
    end = _MIDNIGHT if end_hour == 24 else time(end_hour, end_minute)
    if start == end != _MIDNIGHT:
        raise HoursError(path, f"{text!r} is empty: start equals end (whole day: 00:00-24:00)")
    return TimeRange(start, end)


def _parse_ranges(value: object, path: str) -> tuple[TimeRange, ...]:
    if not isinstance(value, list | tuple):
        raise HoursError(path, f'expected an array of "HH:MM-HH:MM" strings, got {_kind(value)}')
    ranges = [_parse_range(item, f"{path}[{index}]") for index, item in enumerate(value)]
    return _check_day(ranges, path)


def _parse_date(text: object, path: str) -> date:
    if not isinstance(text, str):
        raise HoursError(path, f'expected a date string "YYYY-MM-DD", got {_kind(text)}')
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise HoursError(path, f"{text!r} is not a date YYYY-MM-DD")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError as error:  # "month must be in 1..12", "day is out of range for month"
        raise HoursError(path, f"{text!r} is not a date YYYY-MM-DD ({error})") from None


def _mapping(data: Mapping[str, object], key: str) -> Mapping[object, object]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise HoursError(key, f"expected an object, got {_kind(value)}")
    return value


def parse_hours_spec(data: Mapping[str, object]) -> BusinessHours:
    """Build `BusinessHours` from its JSON-like spec; `hours_to_spec` is the inverse.

    ``{"timezone": "Europe/Moscow", "weekly": {"mon": ["09:00-18:00"], "tue": ["09:00-13:00",
    "14:00-18:00"]}, "holidays": ["2026-01-01"], "special_days": {"2026-12-31":
    ["09:00-15:00"]}}``. Only ``timezone`` is required; weekday names are `DAY_NAMES`; a
    range ending at midnight may be written ``24:00`` or ``00:00``. Every fault raises
    `HoursError` with the path of the offending value, e.g.
    ``weekly.tue[1]: '25:00-18:00' is not HH:MM-HH:MM (start hour 25 is not 00..23)``.
    """
    if not isinstance(data, Mapping):
        raise HoursError("", f"expected an object with 'timezone', got {_kind(data)}")
    for key in data:
        if key not in _SPEC_KEYS:
            raise HoursError(str(key), f"unknown key (expected one of {', '.join(_SPEC_KEYS)})")
    if "timezone" not in data:
        raise HoursError("timezone", "is required (an IANA name such as 'Europe/Moscow')")
    timezone = _zone(data["timezone"]).key  # checked first: a wrong zone spoils every time
    weekly: dict[int, tuple[TimeRange, ...]] = {}
    for name, ranges in _mapping(data, "weekly").items():
        if name not in DAY_NAMES:
            raise HoursError(f"weekly.{name}", f"unknown day (expected {', '.join(DAY_NAMES)})")
        weekly[DAY_NAMES.index(str(name))] = _parse_ranges(ranges, f"weekly.{name}")
    holidays = data.get("holidays", [])
    if not isinstance(holidays, list | tuple):
        raise HoursError("holidays", f'expected an array of "YYYY-MM-DD", got {_kind(holidays)}')
    holiday_dates = frozenset(
        _parse_date(text, f"holidays[{index}]") for index, text in enumerate(holidays)
    )
    special: dict[date, tuple[TimeRange, ...]] = {}
    for text, ranges in _mapping(data, "special_days").items():
        day = _parse_date(text, f"special_days.{text}")
        special[day] = _parse_ranges(ranges, f"special_days.{text}")
    return BusinessHours(timezone, weekly, holiday_dates, special)


def hours_to_spec(hours: BusinessHours) -> dict[str, object]:
    """The spec of `parse_hours_spec` for ``hours``: sorted, midnight ends written ``24:00``."""
    return {
        "timezone": hours.timezone,
        "weekly": {
            DAY_NAMES[day]: [str(r) for r in ranges] for day, ranges in hours.weekly.items()
        },
        "holidays": [day.isoformat() for day in sorted(hours.holidays)],
        "special_days": {
            day.isoformat(): [str(r) for r in ranges] for day, ranges in hours.special_days.items()
        },
    }
