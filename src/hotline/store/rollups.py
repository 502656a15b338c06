"""KPI rollup rows in the database: upsert, and rebuild from the event log.

The row format and why rows add up to the same KPIs as a recomputation is in
:mod:`hotline.core.kpi.rollup`; this module only moves those rows in and out of SQL.
Upserts add counters (``INSERT … ON CONFLICT DO UPDATE``, on SQLite and PostgreSQL alike),
so concurrent writers of the same row cannot lose each other's counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.commands import Log
from hotline.core.kpi.records import QueueVisit, VisitFold
from hotline.core.kpi.rollup import (
    MAX_FIELDS,
    ROLLUP_SECONDS,
    SUM_FIELDS,
    RollupKey,
    Sums,
    rollup_rows,
    with_labels,
)
from hotline.store import models as m

__all__ = ["QueueInfo", "load_queues", "rebuild_rollups", "upsert_rollups", "visit_rows"]

_TABLE = m.KpiRollup.__table__
_KEY_COLUMNS = (
    "tenant_id",
    "dimension",
    "quarter",
    "hotline_id",
    "queue_id",
    "value",
    "answer_within",
    "short_abandon",
)
#: rows per INSERT statement (SQLite allows 32,766 bound parameters; a row has 27)
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """What aggregation needs of a queue: its hotline and thresholds ``T`` and ``S``."""

    tenant_id: int
    hotline_id: int
    answer_within: float
    short_abandon: float


async def load_queues(session: AsyncSession, queue_ids: Iterable[int]) -> dict[int, QueueInfo]:
    ids = sorted(set(queue_ids))
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(
            m.Queue.id,
            m.Queue.tenant_id,
            m.Queue.hotline_id,
            m.Queue.service_level_seconds,
            m.Queue.short_abandon_seconds,
        ).where(m.Queue.id.in_(ids))
    )
    return {
        qid: QueueInfo(tenant, hotline, float(t), float(s)) for qid, tenant, hotline, t, s in rows
    }


def visit_rows(
    visits: Iterable[QueueVisit], queues: Mapping[int, QueueInfo]
) -> dict[RollupKey, Sums]:
    """Rollup rows of the settled visits whose queue is known (others are skipped)."""
    return rollup_rows(
        (v, q.tenant_id, q.hotline_id, q.answer_within, q.short_abandon)
        for v in visits
        if (q := queues.get(v.queue_id)) is not None
    )


def _record(key: RollupKey, sums: Mapping[str, float | int | None]) -> dict[str, Any]:
    return {
        "tenant_id": key.tenant_id,
        "dimension": key.dimension,
        "quarter": key.interval_start // ROLLUP_SECONDS,
        "interval_start": dt.datetime.fromtimestamp(key.interval_start, dt.UTC),
        "hotline_id": key.hotline_id,
        "queue_id": key.queue_id,
        "value": key.value[:200],
        "answer_within": key.answer_within,
        "short_abandon": key.short_abandon,
        **{name: sums[name] for name in SUM_FIELDS},
    }


async def upsert_rollups(session: AsyncSession, rows: Mapping[RollupKey, Sums]) -> None:
    """Add ``rows`` to the stored counters (creating rows that do not exist yet)."""
    if not rows:
        return
    bind = session.get_bind()
    dialect = bind.dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(_TABLE)
    table, new = _TABLE.c, stmt.excluded
    updates: dict[str, Any] = {}
    for name in SUM_FIELDS:
        if name in MAX_FIELDS:
            updates[name] = sa.case(
                (
                    sa.and_(
                        new[name].is_not(None),
                        sa.or_(table[name].is_(None), new[name] > table[name]),
                    ),
                    new[name],
                ),
                else_=table[name],
            )
        else:
            updates[name] = table[name] + new[name]
    stmt = stmt.on_conflict_do_update(index_elements=list(_KEY_COLUMNS), set_=updates)
    records = [_record(key, sums) for key, sums in rows.items()]
    for i in range(0, len(records), _CHUNK):
        await session.execute(stmt, records[i : i + _CHUNK])


async def rebuild_rollups(session: AsyncSession, tenant_id: int) -> int:
    """Recompute a tenant's rollups from its whole event log (repairs, and the proof that
    the incremental rows equal a recomputation).  Returns the number of rows written."""
    await session.execute(sa.delete(m.KpiRollup).where(m.KpiRollup.tenant_id == tenant_id))
    events = await session.execute(
        sa.select(
            m.InteractionEventRow.interaction_id,
            m.InteractionEventRow.type,
            m.InteractionEventRow.at,
            m.InteractionEventRow.data,
        )
        .where(m.InteractionEventRow.tenant_id == tenant_id)
        .order_by(m.InteractionEventRow.interaction_id, m.InteractionEventRow.seq)
    )
    folds: dict[int, VisitFold] = {}
    for iid, kind, at, data in events:
        fold = folds.get(iid)
        if fold is None:
            fold = folds[iid] = VisitFold(iid)
        fold.add(Log(iid, kind, at.timestamp(), data or {}))
    labels = await session.execute(
        sa.select(m.Interaction.id, m.Interaction.channel, m.Interaction.source).where(
            m.Interaction.tenant_id == tenant_id
        )
    )
    label = {iid: (str(channel), source) for iid, channel, source in labels}
    visits = [
        with_labels(v, *label.get(iid, (None, None)))
        for iid, fold in folds.items()
        for v in fold.visits()
    ]
    queues = await load_queues(session, (v.queue_id for v in visits))
    rows = visit_rows(visits, queues)
    await upsert_rollups(session, rows)
    return len(rows)
