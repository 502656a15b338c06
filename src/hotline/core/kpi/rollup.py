"""Interval rollups: the sums :class:`KpiAccumulator` keeps, per 15-minute interval (pure).

Why rollups: a month of a 1,000-operator center is about 3 M queue visits; recomputing
KPIs from them for every report is too slow, so each settled visit is added once to a row
of counters and reports sum rows.  A row holds exactly the fields of
:class:`~hotline.core.kpi.compute.KpiAccumulator` (counts, sums and the maximum wait), so
summing rows gives the same KPIs as recomputing from the visits — the property the tests
check.

Key of a row (see :class:`RollupKey`): tenant, hotline, queue, the UTC start of the visit's
15-minute interval (the interval in which it *entered the queue*, KPI.md), the queue's
thresholds ``T`` and ``S`` at the time (so a row never mixes thresholds), and one
*dimension*: ``""`` (the queue total), ``channel``, ``source``, ``topic`` or ``operator``
with its value (``""`` when the visit has none).  Every visit is added to one row of each
dimension, so each dimension's rows sum to the queue totals; rows grow with the *sum* of
the dimensions' sizes, not their product (one row per queue × interval × value).  A report
groups by at most one of those dimensions besides hotline, queue and interval; crossing
two of them (operator × topic) needs a recomputation from the visits.

Coarser intervals (30 and 60 minutes, day, week, month) in a time zone are sums of 15-minute
rows: every UTC offset in use today is a whole multiple of 15 minutes (``+05:45`` Nepal,
``+09:30`` Adelaide, ``+12:45`` Chatham), so each 15-minute UTC interval lies inside exactly
one local 30-minute, hour, day, week and month bucket, DST changes included.

"Settled": a visit is added when its numbers are final: answered with its wrap-up ended,
or ended unanswered (abandoned, callback, overflow, transferred).  A survey score that comes
later changes an added visit; :func:`contribution` differences give the correction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Final
from zoneinfo import ZoneInfo

from hotline.core.kpi.compute import KpiAccumulator, Kpis
from hotline.core.kpi.records import KpiError, QueueVisit, VisitOutcome

#: Width of a rollup interval in seconds.
ROLLUP_SECONDS: Final = 900

#: Counter fields of a rollup row: every field of KpiAccumulator but the thresholds.
SUM_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(KpiAccumulator) if f.name not in {"answer_within", "short_abandon"}
)
#: Fields that are maxima rather than sums.
MAX_FIELDS: frozenset[str] = frozenset({"max_wait"})

#: The dimensions a visit is rolled up under ("" = the queue total).
DIMENSIONS: tuple[str, ...] = ("", "channel", "source", "topic", "operator")

#: Interval names a report may ask for, and their width in minutes when fixed.
INTERVALS: Mapping[str, int | None] = {
    "15": 15,
    "30": 30,
    "60": 60,
    "day": None,
    "week": None,
    "month": None,
}

Sums = dict[str, float | int | None]


@dataclass(frozen=True, slots=True)
class RollupKey:
    """Which row a visit's counters go to (see the module docstring)."""

    tenant_id: int
    hotline_id: int
    queue_id: int
    interval_start: int  # POSIX seconds, a multiple of ROLLUP_SECONDS
    answer_within: float
    short_abandon: float
    dimension: str
    value: str


def interval_start(seconds: float) -> int:
    """POSIX start of the 15-minute UTC interval that contains ``seconds``."""
    if not math.isfinite(seconds):
        raise KpiError(f"time must be finite, got {seconds!r}")
    return math.floor(seconds / ROLLUP_SECONDS) * ROLLUP_SECONDS


def with_labels(visit: QueueVisit, channel: str | None, source: str | None) -> QueueVisit:
    """The visit with the interaction row's channel and source when its log named neither.

    The routing engine's ``ARRIVED`` line carries only the queue; the channel and the
    dialled number are on the interaction row.  The live writer and a rebuild from the event
    log both apply this, so they count a visit under the same values.
    """
    if visit.channel is not None or visit.source is not None:
        return visit
    return dataclasses.replace(visit, channel=channel, source=source)


def rollup_ready(visit: QueueVisit) -> bool:
    """The visit's numbers are final (answered and wrapped up, or ended unanswered)."""
    if visit.outcome is VisitOutcome.WAITING:
        return False
    if visit.outcome is VisitOutcome.ANSWERED:
        return visit.wrap_up is not None and visit.ended_at is not None
    return True


def dimension_values(visit: QueueVisit) -> dict[str, str]:
    """The value of each dimension for one visit ("" when it has none)."""
    return {
        "": "",
        "channel": visit.channel or "",
        "source": visit.source or "",
        "topic": visit.topic or "",
        "operator": "" if visit.operator_id is None else str(visit.operator_id),
    }


def contribution(visit: QueueVisit, *, answer_within: float, short_abandon: float) -> Sums:
    """What one visit adds to its rows: KpiAccumulator's counters over that visit alone."""
    accumulator = KpiAccumulator(answer_within, short_abandon)
    accumulator.add(visit)
    return sums_of(accumulator)


def sums_of(accumulator: KpiAccumulator) -> Sums:
    return {name: getattr(accumulator, name) for name in SUM_FIELDS}


def difference(
    new: Mapping[str, float | int | None], old: Mapping[str, float | int | None]
) -> Sums:
    """``new − old`` field by field (a correction to add to a row); maxima keep ``new``.

    A maximum cannot be taken back, so this is exact only while the wait is unchanged,
    which holds for settled visits (only their survey score arrives late).
    """
    out: Sums = {}
    for name in SUM_FIELDS:
        a, b = new[name], old[name]
        if name in MAX_FIELDS:
            out[name] = a
        else:
            out[name] = (a or 0) - (b or 0)
    return out


def is_zero(sums: Mapping[str, float | int | None]) -> bool:
    """No counter changes (a correction that can be skipped)."""
    return all(sums[name] == 0 for name in SUM_FIELDS if name not in MAX_FIELDS)


def add_sums(into: Sums, more: Mapping[str, float | int | None]) -> None:
    """Add ``more`` into ``into`` in place (maxima take the larger)."""
    for name in SUM_FIELDS:
        b = more[name]
        if name in MAX_FIELDS:
            a = into.get(name)
            into[name] = b if a is None or (b is not None and b > a) else a
        else:
            into[name] = (into.get(name) or 0) + (b or 0)


def empty_sums() -> Sums:
    return sums_of(KpiAccumulator(0.0, 0.0))


def rollup_rows(
    visits: Iterable[tuple[QueueVisit, int, int, float, float]],
) -> dict[RollupKey, Sums]:
    """Rows for ``(visit, tenant_id, hotline_id, T, S)`` tuples, settled visits only."""
    rows: dict[RollupKey, Sums] = {}
    for visit, tenant_id, hotline_id, t, s in visits:
        if not rollup_ready(visit):
            continue
        sums = contribution(visit, answer_within=t, short_abandon=s)
        start = interval_start(visit.arrived_at)
        for dimension, value in dimension_values(visit).items():
            key = RollupKey(
                tenant_id, hotline_id, visit.queue_id, start, float(t), float(s), dimension, value
            )
            row = rows.get(key)
            if row is None:
                rows[key] = dict(sums)
            else:
                add_sums(row, sums)
    return rows


def kpis_from_sums(sums: Mapping[str, float | int | None]) -> Kpis:
    """Every KPI of KPI.md (occupancy excepted) from summed rollup counters.

    The thresholds only matter when counting visits, so the accumulator is rebuilt with
    placeholders: the counters already say what was within ``T`` and shorter than ``S``.
    """
    accumulator = KpiAccumulator(0.0, 0.0)
    for name in SUM_FIELDS:
        value = sums.get(name)
        if name in MAX_FIELDS:
            setattr(accumulator, name, None if value is None else float(value))
        elif name in _INT_FIELDS:
            setattr(accumulator, name, int(value or 0))
        else:
            setattr(accumulator, name, float(value or 0.0))
    return accumulator.result()


_INT_FIELDS: frozenset[str] = frozenset(
    f.name for f in fields(KpiAccumulator) if f.type in ("int", int)
)


def bucket_start(start_utc: int, interval: str, zone: ZoneInfo) -> int:
    """POSIX start of the report bucket, in ``zone``, that the 15-minute row at ``start_utc``
    falls in (render it with ``datetime.fromtimestamp(start, zone)``).

    ``interval`` is a key of :data:`INTERVALS`.  Minute buckets are cut on the local wall
    clock (with the 15-minute offsets of the module docstring, each row lies in one, and the
    repeated hour of a DST change gives two buckets, told apart by their instants); a week
    starts on Monday (ISO 8601); day, week and month start at local midnight.
    """
    if interval not in INTERVALS:
        raise KpiError(f"interval must be one of {', '.join(INTERVALS)}, got {interval!r}")
    local = dt.datetime.fromtimestamp(start_utc, zone)
    minutes = INTERVALS[interval]
    if minutes is not None:
        return start_utc - (local.minute % minutes) * 60 - local.second
    day = local.date()
    if interval == "week":
        day = day - dt.timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    # the wall-clock midnight of that date, with the offset in force then
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())


def offset_steps(zone: ZoneInfo, first: int, last: int) -> list[tuple[int, int]]:
    """The zone's UTC offset over quarters ``first``..``last`` (POSIX seconds / 900), as
    ``(from_quarter, offset_in_quarters)`` steps, the first at ``first``.

    Lets SQL cut local buckets with integer arithmetic: local quarter = quarter + offset.
    Offsets are whole quarters in every zone since 1972 (the module docstring); an older
    odd offset (Monrovia's −0:44:30 until 1972) is floored to a quarter.  Changes are
    looked for every 6 hours, then pinned to the quarter by bisection.
    """
    if last < first:
        return [(first, _offset_quarters(zone, first))]
    step = 24  # quarters: 6 hours, less than the shortest gap between two changes
    steps = [(first, _offset_quarters(zone, first))]
    at = first
    while at < last:
        nxt = min(at + step, last)
        if _offset_quarters(zone, nxt) != steps[-1][1]:
            lo, hi = at, nxt  # the change is in (lo, hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_quarters(zone, mid) == steps[-1][1]:
                    lo = mid
                else:
                    hi = mid
            steps.append((hi, _offset_quarters(zone, hi)))
            at = hi
        else:
            at = nxt
    return steps


def _offset_quarters(zone: ZoneInfo, quarter: int) -> int:
    offset = dt.datetime.fromtimestamp(quarter * ROLLUP_SECONDS, zone).utcoffset()
    seconds = 0 if offset is None else int(offset.total_seconds())
    return seconds // ROLLUP_SECONDS


def local_bucket(local_quarter: int, offset: int, interval: str, zone: ZoneInfo) -> int:
    """POSIX start of the bucket of a row given as local quarter (quarter + offset, floored
    to the bucket width for minute intervals, or any quarter of the local day for day,
    week and month) and its offset in quarters — what the report query's SQL groups by."""
    minutes = INTERVALS[interval]
    if minutes is not None:
        return (local_quarter - offset) * ROLLUP_SECONDS
    day = dt.date(1970, 1, 1) + dt.timedelta(days=local_quarter // 96)
    if interval == "week":
        day = day - dt.timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())
