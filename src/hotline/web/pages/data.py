"""Queries behind the pages and the live hub (page handlers stay thin).

KPIs are never counted here: the day's event log is read back and folded with
``core/kpi`` exactly as reports do, so the wallboard and a report of the same day agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hotline.core.commands import Log
from hotline.core.kpi import KpiLogError, QueueVisit, VisitOutcome, compute_kpis, fold_visits
from hotline.core.model import EventType
from hotline.store import models as m
from hotline.store.db import Database
from hotline.web.live_events import Contact, HistoryItem, KpiData, QueueRow

__all__ = [
    "QueueMeta",
    "Viewer",
    "contact_by_phone",
    "day_start",
    "load_contact_and_history",
    "load_queues",
    "load_topics",
    "load_viewer",
    "load_visits",
    "operator_kpis",
    "queue_rows",
]

#: the contact card shows this many earlier interactions
HISTORY_LIMIT = 10


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in user as pages need them (name and language on top of the principal)."""

    user_id: int
    tenant_id: int | None
    display_name: str
    locale: str


@dataclass(frozen=True, slots=True)
class QueueMeta:
    id: int
    hotline_id: int
    hotline: str
    name: str
    timezone: str
    sl_seconds: int
    sl_target: float
    short_abandon: int
    wrap_up_seconds: int
    callback_threshold: int


def day_start(timezone: str, now: float) -> float:
    """UNIX seconds of the local midnight that began the day of ``now`` in ``timezone``."""
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    local = dt.datetime.fromtimestamp(now, zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


async def load_viewer(db: Database, user_id: int) -> Viewer | None:
    async with db.system_session() as s:
        user = await s.get(m.User, user_id)
        if user is None:
            return None
        locale = user.locale if user.locale in ("ru", "en") else "ru"
        return Viewer(user.id, user.tenant_id, user.display_name, locale)


async def first_tenant(db: Database) -> int | None:
    async with db.system_session() as s:
        return await s.scalar(sa.select(sa.func.min(m.Tenant.id)))


async def load_queues(db: Database, tenant_id: int) -> list[QueueMeta]:
    async with db.system_session() as s:
        rows = await s.execute(
            sa.select(m.Queue, m.Hotline.name, m.Hotline.timezone)
            .join(m.Hotline, m.Hotline.id == m.Queue.hotline_id)
            .where(m.Queue.tenant_id == tenant_id)
            .order_by(m.Hotline.id, m.Queue.id)
        )
        return [
            QueueMeta(
                q.id,
                q.hotline_id,
                hotline,
                q.name,
                tz,
                q.service_level_seconds,
                q.service_level_target,
                q.short_abandon_seconds,
                q.wrap_up_seconds,
                q.callback_threshold_seconds,
            )
            for q, hotline, tz in rows
        ]


async def load_visits(db: Database, tenant_id: int, since: float) -> list[QueueVisit]:
    """Queue visits of the tenant's interactions that started at or after ``since``."""
    since_dt = dt.datetime.fromtimestamp(since, dt.UTC)
    async with db.system_session() as s:
        rows = await s.execute(
            sa.select(
                m.InteractionEventRow.interaction_id,
                m.InteractionEventRow.type,
                m.InteractionEventRow.at,
                m.InteractionEventRow.data,
            )
            .join(m.Interaction, m.Interaction.id == m.InteractionEventRow.interaction_id)
            .where(m.Interaction.tenant_id == tenant_id, m.Interaction.started_at >= since_dt)
            .order_by(m.InteractionEventRow.interaction_id, m.InteractionEventRow.seq)
        )
        lines = [Log(iid, EventType(kind), _seconds(at), data) for iid, kind, at, data in rows]
    try:
        return fold_visits(lines)
    except KpiLogError:
        # one malformed log must not blank the wallboard: fold interaction by interaction
        visits: list[QueueVisit] = []
        for iid in dict.fromkeys(line.interaction_id for line in lines):
            try:
                visits.extend(fold_visits(x for x in lines if x.interaction_id == iid))
            except KpiLogError:
                continue
        return visits


def _seconds(at: dt.datetime) -> float:
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.timestamp()


def queue_rows(
    queues: Sequence[QueueMeta], visits: Iterable[QueueVisit], now: float
) -> list[QueueRow]:
    """Today's figures per queue; "today" is the queue's hotline's local day."""
    by_queue: dict[int, list[QueueVisit]] = {}
    for visit in visits:
        by_queue.setdefault(visit.queue_id, []).append(visit)
    rows = []
    for q in queues:
        start = day_start(q.timezone, now)
        mine = [v for v in by_queue.get(q.id, ()) if v.arrived_at >= start]
        kpis = compute_kpis(mine, answer_within=q.sl_seconds, short_abandon=q.short_abandon)
        waits = [now - v.arrived_at for v in mine if v.outcome is VisitOutcome.WAITING]
        rows.append(
            QueueRow(
                id=q.id,
                hotline_id=q.hotline_id,
                hotline=q.hotline,
                name=q.name,
                waiting=len(waits),
                longest_wait=max(waits) if waits else None,
                offered=int(kpis["offered"] or 0),
                answered=int(kpis["answered"] or 0),
                abandoned=int(kpis["abandoned"] or 0),
                sl=kpis["sl_offered"],
                sl_target=q.sl_target,
                callback_threshold=q.callback_threshold,
                asa=kpis["asa"],
                aht=kpis["aht"],
            )
        )
    return rows


def operator_kpis(operator_id: int, visits: Iterable[QueueVisit], since: float) -> KpiData:
    """Handled and AHT of one operator's answers that entered a queue since ``since``."""
    mine = [v for v in visits if v.operator_id == operator_id and v.arrived_at >= since]
    kpis = compute_kpis(mine, answer_within=20, short_abandon=5)  # thresholds unused here
    handled = sum(1 for v in mine if v.wrap_up is not None)
    return KpiData(handled=handled, aht=kpis["aht"])


async def load_topics(
    db: Database, hotline_id: int
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Active ``(id, name)`` topics and outcomes of a hotline."""
    async with db.system_session() as s:
        rows = await s.execute(
            sa.select(m.Topic.id, m.Topic.kind, m.Topic.name)
            .where(m.Topic.hotline_id == hotline_id, m.Topic.active.is_(True))
            .order_by(m.Topic.id)
        )
        topics: list[tuple[int, str]] = []
        outcomes: list[tuple[int, str]] = []
        for tid, kind, name in rows:
            (outcomes if kind == "outcome" else topics).append((tid, name))
        return topics, outcomes


async def contact_by_phone(s: AsyncSession, tenant_id: int, phone: str) -> m.Contact | None:
    """The tenant's first contact (by id) whose phones include ``phone`` exactly."""
    candidates = await s.scalars(
        sa.select(m.Contact)
        .where(
            m.Contact.tenant_id == tenant_id,
            sa.cast(m.Contact.phones, sa.String).contains(phone, autoescape=True),
        )
        .order_by(m.Contact.id)
        .limit(20)
    )
    return next((c for c in candidates if phone in (c.phones or [])), None)


async def load_contact_and_history(
    db: Database, tenant_id: int, caller: str, exclude: int
) -> tuple[Contact | None, list[HistoryItem]]:
    """The contact whose phones include ``caller`` and the number's earlier interactions."""
    topic, outcome = aliased(m.Topic), aliased(m.Topic)
    async with db.system_session() as s:
        contact = await contact_by_phone(s, tenant_id, caller)
        rows = await s.execute(
            sa.select(
                m.Interaction.id,
                m.Interaction.started_at,
                m.Hotline.name,
                topic.name,
                outcome.name,
                m.User.display_name,
                m.Interaction.notes,
            )
            .join(m.Hotline, m.Hotline.id == m.Interaction.hotline_id)
            .outerjoin(topic, topic.id == m.Interaction.topic_id)
            .outerjoin(outcome, outcome.id == m.Interaction.outcome_id)
            .outerjoin(m.User, m.User.id == m.Interaction.operator_id)
            .where(
                m.Interaction.tenant_id == tenant_id,
                m.Interaction.caller == caller,
                m.Interaction.id != exclude,
            )
            .order_by(m.Interaction.started_at.desc())
            .limit(HISTORY_LIMIT)
        )
        history = [
            HistoryItem(
                interaction_id=iid,
                started_at=_seconds(started),
                hotline=hotline,
                topic=t,
                outcome=o,
                operator=op,
                notes=notes or "",
            )
            for iid, started, hotline, t, o, op, notes in rows
        ]
    found = (
        Contact(id=contact.id, name=contact.name, vip=contact.vip, notes=contact.notes)
        if contact is not None
        else None
    )
    return found, history


async def interaction_owner(
    db: Database, interaction_id: int
) -> tuple[int, int, int | None] | None:
    """``(tenant_id, hotline_id, operator_id)`` of a stored interaction, or None."""
    async with db.system_session() as s:
        row = (
            await s.execute(
                sa.select(
                    m.Interaction.tenant_id, m.Interaction.hotline_id, m.Interaction.operator_id
                ).where(m.Interaction.id == interaction_id)
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])


async def topic_kinds(db: Database, hotline_id: int, ids: Iterable[int]) -> dict[int, str]:
    """``{id: kind}`` of those ids that are active topics/outcomes of ``hotline_id``."""
    wanted = [i for i in ids]
    if not wanted:
        return {}
    async with db.system_session() as s:
        rows = await s.execute(
            sa.select(m.Topic.id, m.Topic.kind).where(
                m.Topic.id.in_(wanted), m.Topic.hotline_id == hotline_id, m.Topic.active.is_(True)
            )
        )
        return {tid: kind for tid, kind in rows}


async def update_interaction(db: Database, interaction_id: int, values: dict[str, object]) -> None:
    async with db.system_session() as s:
        await s.execute(
            sa.update(m.Interaction).where(m.Interaction.id == interaction_id).values(**values)
        )
        await s.commit()
