"""Today's queue and operator figures of one tenant, kept by folding each log line.

The wallboard shows, per queue, today's KPIs (KPI.md) and who waits; the desktop shows an
operator's handled count and AHT today.  Rather than reading the day's log back after
each event, the live hub feeds every line of the tenant to a :class:`TodayFold`, built
once from the log (:func:`load_lines`) and advanced line by line.

Theory of operation
-------------------
Rule 1. Each interaction's lines go to its :class:`~hotline.core.kpi.VisitFold`, kept
        while one of its visits is open: waiting, or answered with talk or wrap-up not
        over.  A visit is *final* once it is neither (its outcome, wait, talk and wrap-up
        never change again; only a later survey score could, which these figures do
        not show).
Rule 2. A final visit is added once to the sums (:class:`~hotline.core.kpi.KpiAccumulator`,
        with its queue's thresholds) of its queue and of its arrival day, the local day
        of the queue's hotline (KPI.md: an interaction belongs to the interval in which it
        arrived in the queue).  A final answered visit is also kept for its operator (a
        few hundred a day) for the desktop's handled and AHT.
Rule 3. An interaction whose visits are all final is forgotten; a later line (a callback
        answered and transferred hours later) starts a fresh fold, which gives the same
        new visits as the whole log would, since nothing was open to close.
Rule 4. A queue's figures at ``now`` are the sums of its bucket for the local day of
        ``now`` plus the open visits that arrived that day, so the day turns over at local
        midnight whenever it is asked; buckets of earlier days are dropped then.
Rule 5. The queues' time zones and thresholds are fixed for a fold (:class:`QueueParams`);
        when they change, or a line names a queue the fold has no parameters for
        (``stale``), the owner builds a new fold from the log.
The figures equal a fold of the same lines from scratch (``pages/data.queue_rows``):
``tests/unit/live/test_today_fold.py`` proves it on random engine logs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.core.commands import Log
from hotline.core.kpi import KpiAccumulator, KpiLogError, QueueVisit, VisitFold, VisitOutcome
from hotline.core.model import EventType
from hotline.store import models as m
from hotline.store.db import Database

__all__ = ["DAY_WINDOW", "QueueParams", "TodayFold", "load_lines", "local_day"]

#: how far back the log is read: every time zone's "today" began less than 25 h ago
DAY_WINDOW = 25 * 3600.0

_WAITING = VisitOutcome.WAITING
_ANSWERED = VisitOutcome.ANSWERED
#: lines after which a visit may have become final (Rule 1); others cannot end one
_SETTLING = frozenset(
    {
        EventType.QUEUED,
        EventType.ABANDONED,
        EventType.CALLBACK_REQUESTED,
        EventType.OVERFLOWED,
        EventType.TRANSFERRED,
        EventType.COMPLETED,
    }
)


@dataclass(frozen=True, slots=True)
class QueueParams:
    """What a queue's figures depend on besides its visits."""

    timezone: str
    answer_within: float
    short_abandon: float


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def local_day(timezone: str, at: float) -> tuple[float, float]:
    """``(start, end)`` UNIX seconds of the local day of ``at`` in ``timezone`` (23, 24 or
    25 hours long around DST changes)."""
    zone = _zone(timezone)
    local = dt.datetime.fromtimestamp(at, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    start = local.timestamp()
    following = (local.replace(tzinfo=None) + dt.timedelta(days=1)).replace(tzinfo=zone)
    return start, following.timestamp()


def _final(visit: QueueVisit) -> bool:
    outcome = visit.outcome
    return outcome is not _WAITING and (outcome is not _ANSWERED or visit.wrap_up is not None)


class _QueueDays:
    """One queue's sums of final visits, by local day (Rule 2)."""

    __slots__ = ("buckets", "params", "span")

    def __init__(self, params: QueueParams) -> None:
        self.params = params
        self.buckets: dict[float, KpiAccumulator] = {}
        self.span = (0.0, 0.0)  # the last day looked up: most visits fall in it

    def day_of(self, at: float) -> float:
        start, end = self.span
        if not start <= at < end:
            self.span = local_day(self.params.timezone, at)
            start = self.span[0]
        return start

    def bucket(self, day: float) -> KpiAccumulator:
        acc = self.buckets.get(day)
        if acc is None:
            acc = self.buckets[day] = KpiAccumulator(
                answer_within=self.params.answer_within, short_abandon=self.params.short_abandon
            )
        return acc


class TodayFold:
    """The running fold of one tenant's log lines (see the module docstring)."""

    def __init__(self, params: Mapping[int, QueueParams]) -> None:
        self.params = dict(params)
        self._queues = {qid: _QueueDays(p) for qid, p in self.params.items()}
        self._open: dict[int, VisitFold] = {}
        self._counted: dict[int, set[int]] = {}
        self._handled: dict[int, list[QueueVisit]] = {}
        #: a line named a queue without parameters: the figures need a new fold (Rule 5)
        self.stale = False

    def add(self, line: Log) -> None:
        """Fold one line (lines of one interaction in log order)."""
        iid = line.interaction_id
        fold = self._open.get(iid)
        if fold is None:
            fold = self._open[iid] = VisitFold(iid)
            self._counted[iid] = set()
        try:
            fold.add(line)
        except KpiLogError:  # a malformed log must not stop the figures: leave it out
            self._forget(iid)
            return
        if line.type in _SETTLING:
            self._settle(iid, fold)

    def add_all(self, lines: Iterable[Log]) -> None:
        for line in lines:
            self.add(line)

    def _forget(self, iid: int) -> None:
        self._open.pop(iid, None)
        self._counted.pop(iid, None)

    def _settle(self, iid: int, fold: VisitFold) -> None:
        counted = self._counted[iid]
        visits = fold.visits()
        for i, visit in enumerate(visits):
            if i in counted or not _final(visit):
                continue
            counted.add(i)
            days = self._queues.get(visit.queue_id)
            if days is None:
                self.stale = True
                continue
            days.bucket(days.day_of(visit.arrived_at)).add(visit)
            if visit.outcome is _ANSWERED and visit.operator_id is not None:
                self._handled.setdefault(visit.operator_id, []).append(visit)
        if len(counted) == len(visits):
            self._forget(iid)  # Rule 3

    def open_by_queue(self) -> dict[int, list[QueueVisit]]:
        """The visits not final yet, by queue (for :meth:`queue_figures`)."""
        found: dict[int, list[QueueVisit]] = {}
        for fold in self._open.values():
            for visit in fold.visits():
                if not _final(visit):
                    found.setdefault(visit.queue_id, []).append(visit)
        return found

    def queue_figures(
        self, queue_id: int, now: float, open_visits: Iterable[QueueVisit]
    ) -> tuple[KpiAccumulator, list[float]] | None:
        """The queue's sums for the local day of ``now`` with its ``open_visits`` (from
        :meth:`open_by_queue`) that arrived that day, and the entry times of those still
        waiting (Rule 4); None for a queue without parameters."""
        days = self._queues.get(queue_id)
        if days is None:
            return None
        today = days.day_of(now)
        for day in [d for d in days.buckets if d < today]:
            del days.buckets[day]
        acc = days.bucket(today)
        total = KpiAccumulator(answer_within=acc.answer_within, short_abandon=acc.short_abandon)
        total.merge(acc)
        waiting = []
        for visit in open_visits:
            if visit.arrived_at >= today:
                total.add(visit)
                if visit.outcome is _WAITING:
                    waiting.append(visit.arrived_at)
        return total, waiting

    def operator_visits(self, operator_id: int, since: float) -> list[QueueVisit]:
        """The operator's final answered visits that arrived at or after ``since`` (those
        older than :data:`DAY_WINDOW` before the latest are dropped)."""
        kept = self._handled.get(operator_id, [])
        if kept and kept[0].arrived_at < kept[-1].arrived_at - DAY_WINDOW:
            kept[:] = [v for v in kept if v.arrived_at >= kept[-1].arrived_at - DAY_WINDOW]
        return [v for v in kept if v.arrived_at >= since]


def _seconds(at: dt.datetime) -> float:
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.timestamp()


async def load_lines(db: Database, tenant_id: int, since: float) -> list[tuple[int, Log]]:
    """``(seq, line)`` of the tenant's interactions started at or after ``since``, each
    interaction's lines in log order (the same lines ``pages/data.load_visits`` folds)."""
    since_dt = dt.datetime.fromtimestamp(since, dt.UTC)
    async with db.system_session() as s:
        rows = await s.execute(
            sa.select(
                m.InteractionEventRow.interaction_id,
                m.InteractionEventRow.seq,
                m.InteractionEventRow.type,
                m.InteractionEventRow.at,
                m.InteractionEventRow.data,
            )
            .join(m.Interaction, m.Interaction.id == m.InteractionEventRow.interaction_id)
            .where(m.Interaction.tenant_id == tenant_id, m.Interaction.started_at >= since_dt)
            .order_by(m.InteractionEventRow.interaction_id, m.InteractionEventRow.seq)
        )
        return [
            (seq, Log(iid, EventType(kind), _seconds(at), data))
            for iid, seq, kind, at, data in rows
        ]
