"""The operator's own figures for today on the desktop, beside handled and AHT.

Definitions (``shared/KPI.md``; nothing is counted on the side):

* the visits are the operator's **answered** queue visits that entered the queue today
  (the operator's first hotline's local day, as the hub counts handled and AHT), folded
  from the event log by ``core/kpi`` exactly as reports do;
* ``sl_answered`` -- KPI.md's ``answered_within / answered``: of the calls the operator
  answered, the share answered within *their queue's* threshold ``T`` (each queue has its
  own, so visits are counted per queue and summed).  The ``sl_offered`` variant makes no
  sense for one operator: abandoned calls were never theirs;
* ``sales`` and ``leads`` -- interactions among those visits that the operator wrapped up
  with an outcome marked ``counts_as`` ``sale`` / ``lead`` (topics table), read from the
  interactions' saved outcome: a call counts once however many times it came back.

:func:`own_kpis` is the pure part; :func:`load_own_kpis` reads the log and the outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from hotline.core.kpi import QueueVisit, VisitOutcome, compute_kpis
from hotline.core.model import DEFAULT_SERVICE_LEVEL_SECONDS
from hotline.store import models as m
from hotline.store.db import Database
from hotline.web.pages import data

__all__ = ["OwnKpis", "load_own_kpis", "operator_day_start", "own_kpis"]


@dataclass(frozen=True, slots=True)
class OwnKpis:
    handled: int
    aht: float | None
    answered: int
    answered_within: int
    sl_answered: float | None
    sales: int
    leads: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def own_kpis(
    operator_id: int,
    visits: Iterable[QueueVisit],
    since: float,
    thresholds: Mapping[int, float],
    counts_as: Mapping[int, str | None],
) -> OwnKpis:
    """Today's figures of one operator.

    ``thresholds`` is each queue's ``T`` in seconds (a queue missing there, say deleted
    since, counts with the default 20 s); ``counts_as`` maps the ids of interactions the
    operator wrapped up to their outcome's ``counts_as``.
    """
    mine = [v for v in visits if v.operator_id == operator_id and v.arrived_at >= since]
    base = data.operator_kpis(operator_id, mine, since)
    by_queue: dict[int, list[QueueVisit]] = {}
    for v in mine:
        if v.outcome is VisitOutcome.ANSWERED:
            by_queue.setdefault(v.queue_id, []).append(v)
    answered = within = 0
    for queue_id, group in by_queue.items():
        threshold = thresholds.get(queue_id, DEFAULT_SERVICE_LEVEL_SECONDS)
        kpis = compute_kpis(group, answer_within=threshold, short_abandon=0)
        answered += int(kpis["answered"] or 0)
        within += int(kpis["answered_within"] or 0)
    answered_ids = {v.interaction_id for group in by_queue.values() for v in group}
    marks = [counts_as.get(iid) for iid in answered_ids]
    return OwnKpis(
        handled=base.handled,
        aht=base.aht,
        answered=answered,
        answered_within=within,
        sl_answered=None if answered == 0 else within / answered,  # KPI.md: 0/0 is null
        sales=marks.count("sale"),
        leads=marks.count("lead"),
    )


async def operator_day_start(db: Database, operator_id: int, now: float) -> float:
    """Local midnight of the operator's first hotline (by id), as the live hub takes it."""
    async with db.system_session() as s:
        zone = await s.scalar(
            sa.select(m.Hotline.timezone)
            .join(m.UserHotline, m.UserHotline.hotline_id == m.Hotline.id)
            .where(m.UserHotline.user_id == operator_id)
            .order_by(m.Hotline.id)
            .limit(1)
        )
    return data.day_start(zone or "UTC", now)


async def load_own_kpis(db: Database, tenant_id: int, operator_id: int, now: float) -> OwnKpis:
    """:func:`own_kpis` of today from the database."""
    since = await operator_day_start(db, operator_id, now)
    visits = [
        v for v in await data.load_visits(db, tenant_id, since) if v.operator_id == operator_id
    ]
    thresholds = {q.id: float(q.sl_seconds) for q in await data.load_queues(db, tenant_id)}
    ids = sorted({v.interaction_id for v in visits})
    counts_as: dict[int, str | None] = {}
    if ids:
        async with db.system_session() as s:
            rows = await s.execute(
                sa.select(m.Interaction.id, m.Topic.counts_as)
                .join(m.Topic, m.Topic.id == m.Interaction.outcome_id)
                .where(
                    m.Interaction.id.in_(ids),
                    m.Interaction.operator_id == operator_id,
                    m.Topic.counts_as.is_not(None),
                )
            )
            counts_as = {iid: mark for iid, mark in rows}
    return own_kpis(operator_id, visits, since, thresholds, counts_as)
