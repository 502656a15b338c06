"""KPI reports from the rollup rows: grouped sums, cut into local-time buckets in SQL.

Why in SQL: a month of 40 queues is 115,200 quarter-hour rows per dimension value; handing
them all to Python to merge into half hours took seconds.  The database groups them
instead, by integer arithmetic on ``quarter`` (POSIX seconds / 900): with the zone's UTC
offset in quarters as a ``CASE`` over the offset changes in the range
(:func:`~hotline.core.kpi.rollup.offset_steps`), the local quarter is ``quarter + offset``;
a 30-minute bucket is that floored to a multiple of 2 (grouped together with the offset,
so the repeated hour of a DST change stays two buckets), a local day is it divided by 96.
Weeks and months are merged from days in Python (a few rows per group).  Without ``tz``
every hotline is cut in its own zone (the ``CASE`` is per hotline).

Who sees what is the caller's business (the API passes the tenant and hotlines of the
principal); the session's scope filters the rows again.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.kpi.rollup import (
    INTERVALS,
    MAX_FIELDS,
    ROLLUP_SECONDS,
    SUM_FIELDS,
    Sums,
    add_sums,
    kpis_from_sums,
    local_bucket,
    offset_steps,
)
from hotline.store import models as m

__all__ = ["GROUPINGS", "KpiGroup", "ReportQuery", "dimension_of", "query_kpis"]

#: Groupings a report may ask for: the row dimension each needs ("" for none).
GROUPINGS: Mapping[str, str] = {
    "hotline": "",
    "queue": "",
    "interval": "",
    "channel": "channel",
    "source": "source",
    "topic": "topic",
    "operator": "operator",
}
_UTC = ZoneInfo("UTC")
#: PostgreSQL memory per sort or hash of one report query (see :func:`_roomy`)
_WORK_MEM = "64MB"


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """A KPI report: grouping (keys of :data:`GROUPINGS`), interval, range and zone.

    ``start``/``end`` bound the 15-minute rows by their UTC start (inclusive/exclusive);
    ``tz`` None cuts each hotline's buckets in its own time zone.
    """

    by: Sequence[str]
    interval: str = "60"
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    tz: ZoneInfo | None = None
    tenant_id: int | None = None
    hotline_ids: frozenset[int] | None = None
    queue_id: int | None = None


@dataclass(slots=True)
class KpiGroup:
    key: dict[str, Any]
    sums: Sums
    answer_within: float | None
    short_abandon: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            **kpis_from_sums(self.sums),
            "answer_within": self.answer_within,
            "short_abandon": self.short_abandon,
        }


def dimension_of(by: Sequence[str]) -> str:
    """The row dimension a grouping reads; ValueError when it crosses two of them."""
    unknown = [b for b in by if b not in GROUPINGS]
    if unknown:
        raise ValueError(f"unknown grouping {unknown[0]!r}; choose from {', '.join(GROUPINGS)}")
    dims = {GROUPINGS[b] for b in by} - {""}
    if len(dims) > 1:
        raise ValueError(
            f"group by at most one of channel, source, topic, operator (got {', '.join(by)}): "
            "rollups keep each of them apart; `hotline report kpis --log` crosses them"
        )
    return dims.pop() if dims else ""


def _quarter(at: dt.datetime) -> int:
    return int(at.timestamp()) // ROLLUP_SECONDS + (1 if int(at.timestamp()) % 900 else 0)


def _int(value: int) -> Any:
    """An integer written into the SQL text, not bound: the same expression appears in
    SELECT and GROUP BY, and PostgreSQL matches them only when their text is the same."""
    return sa.literal_column(str(int(value)), sa.Integer())


def _offset_case(
    quarter: Any, zones: Mapping[int | None, ZoneInfo], hotline: Any, first: int, last: int
) -> Any:
    """SQL for the UTC offset in quarters of each row (see the module docstring)."""

    def of_zone(zone: ZoneInfo) -> Any:
        steps = offset_steps(zone, first, last)
        if len(steps) == 1:
            return _int(steps[0][1])
        whens = [
            (quarter < _int(start), _int(offset))
            for (_, offset), (start, _) in itertools.pairwise(steps)
        ]
        return sa.case(*whens, else_=_int(steps[-1][1]))

    if None in zones:
        return of_zone(zones[None])
    cases = [
        (hotline == _int(hid), of_zone(zone))
        for hid, zone in sorted(zones.items(), key=lambda item: item[0] or 0)
        if hid is not None
    ]
    return sa.case(*cases, else_=_int(0)) if cases else _int(0)


async def _filters(session: AsyncSession, query: ReportQuery, dimension: str) -> list[Any]:
    r = m.KpiRollup
    where: list[Any] = [r.dimension == dimension]
    if query.tenant_id is not None:
        where.append(r.tenant_id == query.tenant_id)
    if query.hotline_ids is not None:
        where.append(r.hotline_id.in_(sorted(query.hotline_ids)))
    if query.queue_id is not None:
        where.append(r.queue_id == query.queue_id)
    if query.start is not None:
        where.append(r.quarter >= _quarter(query.start))
    if query.end is not None:
        where.append(r.quarter < _quarter(query.end))
    return where


async def query_kpis(session: AsyncSession, query: ReportQuery) -> list[KpiGroup]:
    """KPI groups from the rollups, sorted by key (None first)."""
    dimension = dimension_of(query.by)
    if query.interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    r = m.KpiRollup
    where = await _filters(session, query, dimension)
    cols: dict[str, Any] = {}
    per_hotline_zone = "interval" in query.by and query.tz is None
    if "hotline" in query.by or per_hotline_zone:
        cols["hotline_id"] = r.hotline_id
    if "queue" in query.by:
        cols["queue_id"] = r.queue_id
    if dimension:
        cols["value"] = r.value
    zones: dict[int | None, ZoneInfo] = {}
    if "interval" in query.by:
        bounds = (
            await session.execute(
                sa.select(sa.func.min(r.quarter), sa.func.max(r.quarter)).where(*where)
            )
        ).one()
        if bounds[0] is None:
            return []
        zones = {None: query.tz} if query.tz is not None else await _hotline_zones(session, query)
        offset = _offset_case(r.quarter, zones, r.hotline_id, int(bounds[0]), int(bounds[1]))
        local = r.quarter + offset
        minutes = INTERVALS[query.interval]
        if minutes is not None:
            width = minutes // 15
            cols["local"] = local - local % _int(width) if width > 1 else local
            cols["offset"] = offset
        else:
            # the first quarter of the local day
            cols["local"] = local // _int(96) * _int(96)
    group_cols = [c.label(name) for name, c in cols.items()]
    # not a bare constant: SQLite reads GROUP BY 8 as "the 8th column"
    grouping = [
        c
        for c in group_cols
        if not isinstance(c.element, sa.ColumnClause) or c.element.table is not None
    ]
    aggregates = [
        (sa.func.max(getattr(r, n)) if n in MAX_FIELDS else sa.func.sum(getattr(r, n))).label(n)
        for n in SUM_FIELDS
    ]
    stmt = sa.select(
        *group_cols,
        *aggregates,
        sa.func.min(r.answer_within),
        sa.func.max(r.answer_within),
        sa.func.min(r.short_abandon),
        sa.func.max(r.short_abandon),
    ).where(*where)
    if grouping:
        stmt = stmt.group_by(*grouping)
    await _roomy(session)
    result = await session.execute(stmt)
    return _groups(query, dimension, list(cols), zones, result)


def _groups(
    query: ReportQuery,
    dimension: str,
    names: list[str],
    zones: Mapping[int | None, ZoneInfo],
    rows: Any,
) -> list[KpiGroup]:
    """KpiGroups from the SQL rows (tens of thousands for a month by queue × 30 minutes:
    the loop reads columns by position and caches each bucket's start)."""
    n = len(names)
    end = n + len(SUM_FIELDS)
    pos = {name: i for i, name in enumerate(names)}
    hotline_at, local_at, offset_at = pos.get("hotline_id"), pos.get("local"), pos.get("offset")
    # (key name, column position) of each key part, and how to read it
    parts: list[tuple[str, int]] = []
    if "hotline" in query.by:
        parts.append(("hotline_id", pos["hotline_id"]))
    if "queue" in query.by:
        parts.append(("queue_id", pos["queue_id"]))
    value_at = pos.get("value")
    interval = "interval" in query.by
    groups: dict[tuple[Any, ...], KpiGroup] = {}
    buckets: dict[tuple[int, int, int | None], tuple[int, dt.datetime]] = {}
    for row in rows:
        sums: Sums = dict(zip(SUM_FIELDS, row[n:end], strict=True))
        if not sums["offered"]:
            continue  # the one row of an aggregate over no rows (no grouping)
        key = {name: row[at] for name, at in parts}
        if value_at is not None:
            raw = row[value_at]
            if dimension == "operator":
                key["operator_id"] = int(raw) if raw else None
            else:
                key[dimension] = raw or None
        group_key = tuple(key.values())
        if interval:
            hotline = None if hotline_at is None else row[hotline_at]
            cache = (row[local_at], 0 if offset_at is None else row[offset_at], hotline)
            bucket = buckets.get(cache)
            if bucket is None:
                zone = query.tz or zones.get(hotline, _UTC)
                start = local_bucket(int(cache[0]), int(cache[1]), query.interval, zone)
                bucket = buckets[cache] = (start, dt.datetime.fromtimestamp(start, zone))
            key["interval_start"] = bucket[1]
            # the instant, not the datetime: two aware datetimes of one zone compare by wall
            # clock, so the two 02:00 of a fall-back night would be one group
            group_key += (bucket[0],)
        t_min, t_max, s_min, s_max = row[end:]
        found = groups.get(group_key)
        if found is None:
            groups[group_key] = KpiGroup(key, sums, _same(t_min, t_max), _same(s_min, s_max))
        else:  # several zones' rows in one bucket, or days merged into a week or month
            add_sums(found.sums, sums)
            found.answer_within = _merge(found.answer_within, _same(t_min, t_max))
            found.short_abandon = _merge(found.short_abandon, _same(s_min, s_max))
    return [groups[k] for k in sorted(groups, key=_sort_key)]


async def _roomy(session: AsyncSession) -> None:
    """Memory for the grouping: a month by queue × 30 minutes is ~57,000 groups of 26
    aggregates, which PostgreSQL's default 4 MB ``work_mem`` sorts on disk.  ``SET LOCAL``
    lasts until the session's transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))


def _same(low: float | None, high: float | None) -> float | None:
    return low if low is not None and low == high else None


def _merge(a: float | None, b: float | None) -> float | None:
    return a if a == b else None


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    # None sorts first, and values of one position share a type
    return tuple((0, 0) if v is None else (1, v) for v in key)


async def _hotline_zones(session: AsyncSession, query: ReportQuery) -> dict[int | None, ZoneInfo]:
    stmt = sa.select(m.Hotline.id, m.Hotline.timezone)
    if query.tenant_id is not None:
        stmt = stmt.where(m.Hotline.tenant_id == query.tenant_id)
    if query.hotline_ids is not None:
        stmt = stmt.where(m.Hotline.id.in_(sorted(query.hotline_ids)))
    rows = await session.execute(stmt)
    zones: dict[int | None, ZoneInfo] = {}
    for hid, name in rows:
        try:
            zones[hid] = ZoneInfo(name)
        except (KeyError, ValueError, OSError):  # a zone the system lacks: report in UTC
            zones[hid] = _UTC
    return zones
