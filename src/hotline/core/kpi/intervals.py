"""Reporting intervals in a time zone: which slot a visit's queue entry falls in.

KPI.md: an interaction belongs to the interval in which it **arrived in the queue**.  Visit
times are POSIX seconds (:mod:`hotline.core.kpi.history`); a report cuts them into
wall-clock slots of the hotline's time zone (an IANA name, read with :mod:`zoneinfo`).

Theory of operation
-------------------
Rule 1. A 15-, 30- or 60-minute slot is a **wall-clock** slot: the instant's local time is
        floored to the slot length (``10:47`` → ``10:30`` for 30 minutes) and the slot
        keeps the UTC offset in effect at the instant.  Its key is ``(wall start, offset)``,
        so it is one slot of real length in the usual case, across midnight included.
Rule 2. On a **fall-back** day (Europe/Berlin, last Sunday of October, 03:00 CEST → 02:00
        CET) the wall-clock hour 02:00–03:00 happens twice.  Its slots are told apart by
        their offset: ``02:00+02:00``, ``02:30+02:00``, then ``02:00+01:00``,
        ``02:30+01:00``.  The day has 25 hours: 100, 50 or 25 slots.  Nothing merges two
        real half hours into one slot, so slot totals stay comparable with staffing.
Rule 3. On a **spring-forward** day (last Sunday of March, 02:00 CET → 03:00 CEST) the
        wall-clock hour 02:00–03:00 does not exist: no instant falls in it and no slot is
        made for it.  The day has 23 hours: 92, 46 or 23 slots.
        Where a change is not a whole number of slots (Australia/Lord_Howe moves by 30
        minutes; with 60-minute slots), the slot it cuts is split in two by offset, each
        shorter than the slot length: every real instant is still in exactly one slot.
Rule 4. A zone without DST (Europe/Moscow since 2014, UTC+3) has 24-hour days and no such
        slots; the same instants give other wall-clock slots than in Berlin, by design.
Rule 5. ``day`` is the local calendar date (from local midnight to the next: 23, 24 or 25
        hours); ``week`` the ISO week, Monday to Sunday; ``month`` the calendar month.
        A slot's :attr:`Slot.start` is the POSIX second at which it begins: local midnight
        of its first day (for a zone whose DST gap starts at midnight, the first instant of
        the day), or for minute slots the wall start at the slot's offset.

Sorting slots by :attr:`Slot.start` orders them in real time; :attr:`Slot.label` is what a
report prints (ISO 8601 with offset for minute slots, so the two 02:00 of a fall-back day
read differently).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.core.kpi.records import KpiError

_NAIVE_EPOCH = datetime(1970, 1, 1)


class Calendar(enum.StrEnum):
    """Calendar periods (Rule 5)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


#: Slot lengths in minutes that the reports offer (issue 6): each divides an hour, so
#: slots nest (15 in 30 in 60) and start on the quarter hours of the wall clock.
SLOT_MINUTES = (15, 30, 60)


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting interval: ``minutes`` (15, 30, 60) or a ``calendar`` period."""

    minutes: int | None = None
    calendar: Calendar | None = None

    def __post_init__(self) -> None:
        if (self.minutes is None) == (self.calendar is None):
            raise KpiError("a period is either minutes or a calendar period, not both")
        if self.minutes is not None and self.minutes not in SLOT_MINUTES:
            raise KpiError(f"interval minutes must be one of {SLOT_MINUTES}, got {self.minutes}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"15"``, ``"30"``, ``"60"``, ``"day"``, ``"week"`` or ``"month"``."""
        value = text.strip().lower()
        if value.isdigit() and int(value) in SLOT_MINUTES:
            return cls(minutes=int(value))
        try:
            return cls(calendar=Calendar(value))
        except ValueError:
            choices = ", ".join([*map(str, SLOT_MINUTES), *Calendar])
            raise KpiError(f"interval must be one of {choices}; got {text!r}") from None

    def __str__(self) -> str:
        return str(self.minutes) if self.calendar is None else self.calendar.value


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """One reporting interval: where it begins (POSIX seconds) and how a report names it."""

    start: float
    label: str


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or :class:`KpiError` saying it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise KpiError(f"unknown time zone {name!r} (an IANA name such as Europe/Moscow)") from None


def _offset_label(offset: timedelta) -> str:
    return datetime(2000, 1, 1, tzinfo=timezone(offset)).isoformat()[-6:]


def _day_start(day: date, tz: ZoneInfo) -> float:
    # fold=0 is the first of two midnights, and for a gap that starts at midnight it maps
    # to the gap's end, the first instant of the day (PEP 495)
    return datetime.combine(day, time(), tzinfo=tz).timestamp()


def calendar_first_day(day: date, calendar: Calendar) -> date:
    """The first day of the calendar period holding ``day`` (Rule 5)."""
    match calendar:
        case Calendar.DAY:
            return day
        case Calendar.WEEK:
            return day - timedelta(days=day.weekday())
        case Calendar.MONTH:
            return day.replace(day=1)


def _calendar_label(first: date, calendar: Calendar) -> str:
    if calendar is Calendar.MONTH:
        return first.strftime("%Y-%m")
    return first.isoformat()  # a week is named by its Monday


def slot_of(at: float, period: Period, tz: ZoneInfo) -> Slot:
    """The slot of ``period`` in ``tz`` holding the POSIX instant ``at`` (Rules 1–5)."""
    local = datetime.fromtimestamp(at, tz)
    if period.calendar is not None:
        first = calendar_first_day(local.date(), period.calendar)
        return Slot(_day_start(first, tz), _calendar_label(first, period.calendar))
    minutes = period.minutes or 60
    wall = local.replace(tzinfo=None)
    floor = wall.replace(minute=wall.minute - wall.minute % minutes, second=0, microsecond=0)
    offset = local.utcoffset() or timedelta()
    # exact whole seconds from the wall-clock floor and the offset (``at`` minus the
    # elapsed part would carry float rounding into the slot's identity)
    start = (floor - _NAIVE_EPOCH - offset).total_seconds()
    return Slot(start, floor.isoformat() + _offset_label(offset))


def slots_between(first_at: float, last_at: float, period: Period, tz: ZoneInfo) -> Iterator[Slot]:
    """Every slot from the one holding ``first_at`` to the one holding ``last_at``, in order.

    What a report lists when it shows empty intervals too: the slots the zone's clock
    actually goes through (Rules 2 and 3 decide how many a DST day has).
    """
    if last_at < first_at:
        return
    slot = slot_of(first_at, period, tz)
    last = slot_of(last_at, period, tz)
    while True:
        yield slot
        if slot == last:
            return
        slot = _next_slot(slot, period, tz)


def _next_slot(slot: Slot, period: Period, tz: ZoneInfo) -> Slot:
    if period.calendar is None:
        # Step a minute at a time (transitions fall on whole minutes) to the first instant
        # in a later slot: adding the slot length would skip a slot when the clock goes
        # back in the middle of one, and a slot cut short by a gap ends early.
        at = slot.start
        while True:
            at += 60.0
            following = slot_of(at, period, tz)
            if following.start > slot.start:
                return following
    first = datetime.fromtimestamp(slot.start, tz).date()
    match period.calendar:
        case Calendar.DAY:
            following_day = first + timedelta(days=1)
        case Calendar.WEEK:
            following_day = first + timedelta(days=7)
        case Calendar.MONTH:
            following_day = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return slot_of(_day_start(following_day, tz), period, tz)


_QUARTER = 900  # seconds; every UTC offset in use is a whole number of quarter hours


class SlotFinder:
    """:func:`slot_of` for many instants of one period and zone, remembered per quarter hour.

    Grouping a month of visits asks for the slots of a few thousand distinct UTC quarter
    hours only.  A quarter whose first and last instants fall in the same slot lies wholly
    in it (without a clock change inside, local time runs on with it; with one, the offsets
    of the two ends differ and so do their slots), so that slot is kept for every instant
    of the quarter; a quarter split by a change is looked up instant by instant.
    """

    def __init__(self, period: Period, tz: ZoneInfo) -> None:
        self.period = period
        self.tz = tz
        self._memo: dict[int, Slot | None] = {}

    def __call__(self, at: float) -> Slot:
        quarter = int(at // _QUARTER)
        memo = self._memo
        if quarter in memo:
            slot = memo[quarter]
        else:
            start = quarter * _QUARTER
            first = slot_of(start, self.period, self.tz)
            last = slot_of(start + _QUARTER - 0.001, self.period, self.tz)
            slot = memo[quarter] = first if first == last else None
        return slot if slot is not None else slot_of(at, self.period, self.tz)
