"""Queries behind the report and WFM pages, kept out of the handlers.

Two sources, each where it is strong:

* the KPI table and the per-interval series come from the interval rollups
  (:func:`hotline.store.reports.query_kpis`, the same engine as ``GET /reports/kpis``), so a
  month of a large center stays fast;
* the seeds' other reports (weekday × hour, waits of abandons, the per-operator table, EWT
  accuracy, billing) need single visits: they fold the interaction event log of the range
  with :mod:`hotline.core.kpi` (:func:`~hotline.core.kpi.overview.overview_document`).
  The page bounds the range (:data:`MAX_DAYS`) and the number of interactions it folds
  (:data:`MAX_FOLD`): past that it shows the rollup sections only and asks for a
  narrower range or one queue (:func:`count_interactions` decides, one indexed count).

WFM history (:func:`queue_history`) is calls and mean handle time per local interval of one
queue, folded from the same event log.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.core.access import Principal
from hotline.core.commands import Log
from hotline.core.kpi import KpiLogError, QueueVisit, VisitOutcome, fold_visits
from hotline.core.kpi.overview import overview_document
from hotline.core.model import EventType
from hotline.store import models as m
from hotline.store.db import Database
from hotline.store.reports import ReportQuery, query_kpis
from hotline.web.pages.data import QueueMeta

__all__ = [
    "MAX_DAYS",
    "MAX_FOLD",
    "ReportRange",
    "count_interactions",
    "kpi_groups",
    "load_range_visits",
    "operator_names",
    "overview",
    "queue_history",
]

#: the longest range a report page shows (the API has no such bound)
MAX_DAYS = 92
#: the most interactions a page folds event by event: 20,000 took 2.5 s on SQLite (one
#: month, this 2-core machine; rollup sections alone: 0.03 s)
MAX_FOLD = 25_000


@dataclass(frozen=True, slots=True)
class ReportRange:
    """What a report page shows: ``[start, end)`` in UTC, the tenant, hotlines and queue."""

    tenant_id: int
    start: dt.datetime
    end: dt.datetime
    tz: ZoneInfo
    hotline_ids: frozenset[int] | None
    queue_id: int | None


async def kpi_groups(
    db: Database, principal: Principal, where: ReportRange, by: Sequence[str], interval: str
) -> list[dict[str, Any]]:
    """Every KPI of KPI.md per group, from the rollups, in the session of ``principal``
    (its scope filters the rows again)."""
    query = ReportQuery(
        by=list(by),
        interval=interval,
        start=where.start,
        end=where.end,
        tz=where.tz,
        tenant_id=where.tenant_id,
        hotline_ids=where.hotline_ids,
        queue_id=where.queue_id,
    )
    async with db.session(principal) as session:
        return [group.as_dict() for group in await query_kpis(session, query)]


async def operator_names(db: Database, tenant_id: int) -> dict[int, str]:
    async with db.system_session() as s:
        rows = await s.execute(
            sa.select(m.User.id, m.User.display_name).where(m.User.tenant_id == tenant_id)
        )
        return {int(i): str(n) for i, n in rows.all()}


def _seconds(at: dt.datetime) -> float:
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.timestamp()


def _in_range(query: Any, where: ReportRange) -> Any:
    query = query.where(
        m.Interaction.tenant_id == where.tenant_id,
        m.Interaction.started_at >= where.start,
        m.Interaction.started_at < where.end,
    )
    if where.hotline_ids is not None:
        query = query.where(m.Interaction.hotline_id.in_(sorted(where.hotline_ids)))
    return query


async def count_interactions(db: Database, where: ReportRange) -> int:
    """Interactions of the range (all queues: a bound, not an exact figure per queue)."""
    async with db.system_session() as s:
        query = _in_range(sa.select(sa.func.count()).select_from(m.Interaction), where)
        return int(await s.scalar(query) or 0)


async def load_range_visits(db: Database, where: ReportRange) -> list[QueueVisit]:
    """Queue visits of the tenant's interactions started in the range, of its hotlines and
    (when given) its queue; a malformed log is skipped, not fatal (a page must open)."""
    query = _in_range(
        sa.select(
            m.InteractionEventRow.interaction_id,
            m.InteractionEventRow.type,
            m.InteractionEventRow.at,
            m.InteractionEventRow.data,
        )
        .join(m.Interaction, m.Interaction.id == m.InteractionEventRow.interaction_id)
        .order_by(m.InteractionEventRow.interaction_id, m.InteractionEventRow.seq),
        where,
    )
    async with db.system_session() as s:
        rows = await s.execute(query)
        lines = [Log(iid, EventType(kind), _seconds(at), data) for iid, kind, at, data in rows]
    by_interaction: dict[int, list[Log]] = {}
    for line in lines:
        by_interaction.setdefault(line.interaction_id, []).append(line)
    visits: list[QueueVisit] = []
    for log in by_interaction.values():
        try:
            visits.extend(fold_visits(log))
        except KpiLogError:
            continue
    if where.queue_id is not None:
        visits = [v for v in visits if v.queue_id == where.queue_id]
    return visits


def overview(
    visits: list[QueueVisit],
    where: ReportRange,
    queues: Sequence[QueueMeta],
    operators: dict[int, str],
    *,
    answer_within: float,
    short_abandon: float,
) -> dict[str, object]:
    """The seeds' reports over ``visits`` with names in place of ids."""
    hotlines = {q.hotline_id: q.hotline for q in queues}
    names = {"hotline": hotlines, "queue": {q.id: q.name for q in queues}, "operator": operators}

    def name(kind: str, id_: int) -> object:
        return names[kind].get(id_, f"#{id_}")

    return overview_document(
        visits,
        tz=where.tz,
        answer_within=answer_within,
        short_abandon=short_abandon,
        name=name,
    )


async def queue_history(
    db: Database,
    tenant_id: int,
    queue_id: int,
    tz: ZoneInfo,
    span: tuple[dt.datetime, dt.datetime],
    minutes: int,
) -> list[tuple[dt.datetime, float, float | None]]:
    """``(local interval start, calls, mean handle time s)`` of the queue's visits since
    ``span`` — the rows :func:`hotline.core.wfm.forecast.history_from_rows` reads.  Calls
    are offered visits; handle time is talk + wrap-up of those handled."""
    where = ReportRange(tenant_id, span[0], span[1], tz, None, queue_id)
    visits = await load_range_visits(db, where)
    slots: dict[dt.datetime, list[float]] = {}
    for visit in visits:
        if visit.outcome is VisitOutcome.WAITING:
            continue
        local = dt.datetime.fromtimestamp(visit.arrived_at, tz).replace(tzinfo=None)
        minute = (local.hour * 60 + local.minute) // minutes * minutes
        key = local.replace(hour=minute // 60, minute=minute % 60, second=0, microsecond=0)
        calls_handled_seconds = slots.setdefault(key, [0.0, 0.0, 0.0])
        calls_handled_seconds[0] += 1
        talk = visit.talk
        if visit.outcome is VisitOutcome.ANSWERED and talk is not None:
            calls_handled_seconds[1] += 1
            calls_handled_seconds[2] += talk + (visit.wrap_up or 0.0)
    rows: list[tuple[dt.datetime, float, float | None]] = []
    for key in sorted(slots):
        calls, handled, seconds = slots[key]
        aht = seconds / handled if handled else None
        if aht is not None and not (aht > 0 and math.isfinite(aht)):
            aht = None
        rows.append((key, calls, aht))
    return rows
