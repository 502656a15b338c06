"""KPI rollups kept up to date as the live event log is written.

The event-log writer shows every line to a :class:`RollupTracker`, which folds each
interaction's lines into queue visits (:class:`~hotline.core.kpi.records.VisitFold`, the
same fold a report recomputation uses).  When the writer flushes a batch, the tracker turns
the visits that *settled* since the last flush (see :func:`~hotline.core.kpi.rollup.
rollup_ready`) into rollup rows, which the writer upserts in the batch's own transaction:
a visit's counters are committed with the batch that holds the line that settled it (or,
when that line arrived while the previous batch was being written, with that batch), and
the tracker's memory of what it counted changes only once a batch has committed.

A visit already counted can still change: a survey score (``csat``) often arrives after
wrap-up, and moves to a later answered visit if the call was transferred.  The tracker
remembers what it counted per visit and writes the difference.  Thresholds ``T`` and ``S``
are the queue's when the visit is first counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.commands import Log
from hotline.core.kpi.records import KpiError, VisitFold
from hotline.core.kpi.rollup import (
    SUM_FIELDS,
    RollupKey,
    Sums,
    add_sums,
    difference,
    empty_sums,
    rollup_ready,
    rollup_rows,
    with_labels,
)
from hotline.store.rollups import load_queues

__all__ = ["RollupChanges", "RollupTracker"]

log = structlog.get_logger("hotline.rollups")

#: what was counted for one visit: its rows and its thresholds
_Counted = tuple[dict[RollupKey, Sums], float, float]


@dataclass(slots=True)
class _Interaction:
    fold: VisitFold
    channel: str | None
    source: str | None
    counted: dict[int, _Counted] = field(default_factory=dict)


@dataclass(slots=True)
class RollupChanges:
    """Rows to add in the batch's transaction, and what to remember once it commits."""

    rows: dict[RollupKey, Sums] = field(default_factory=dict)
    counted: dict[tuple[int, int], _Counted] = field(default_factory=dict)


class RollupTracker:
    """Folds live lines per interaction and tells which rollup rows change at each flush."""

    def __init__(self) -> None:
        self._live: dict[int, _Interaction] = {}

    def start(self, interaction_id: int, channel: str | None, source: str | None) -> None:
        self._live[interaction_id] = _Interaction(VisitFold(interaction_id), channel, source)

    def see(self, line: Log) -> bool:
        """Fold one line; True when the interaction's visits may have changed."""
        item = self._live.get(line.interaction_id)
        if item is None:
            return False
        try:
            item.fold.add(line)
        except KpiError as exc:  # a malformed line: stop counting this interaction
            log.error("rollups.bad_line", interaction_id=line.interaction_id, error=str(exc))
            del self._live[line.interaction_id]
            return False
        return True

    def forget(self, interaction_ids: Iterable[int]) -> None:
        for iid in interaction_ids:
            self._live.pop(iid, None)

    async def changes(self, session: AsyncSession, interaction_ids: Iterable[int]) -> RollupChanges:
        """Rows to upsert for the visits of ``interaction_ids`` that settled or changed."""
        out = RollupChanges()
        settled = []
        for iid in sorted(set(interaction_ids)):
            item = self._live.get(iid)
            if item is None:
                continue
            for index, visit in enumerate(item.fold.visits()):
                if rollup_ready(visit):
                    visit = with_labels(visit, item.channel, item.source)
                    settled.append((iid, index, visit))
        if not settled:
            return out
        queues = await load_queues(session, {v.queue_id for _, _, v in settled})
        for iid, index, visit in settled:
            queue = queues.get(visit.queue_id)
            before = self._live[iid].counted.get(index)
            if queue is None:
                continue  # a queue deleted meanwhile: nothing to count it under
            t, s = (
                (queue.answer_within, queue.short_abandon)
                if before is None
                else (before[1], before[2])
            )
            rows = rollup_rows([(visit, queue.tenant_id, queue.hotline_id, t, s)])
            old = {} if before is None else before[0]
            for key in rows.keys() | old.keys():
                delta = difference(rows.get(key, empty_sums()), old.get(key, empty_sums()))
                if any(delta[n] != 0 for n in SUM_FIELDS if n != "max_wait"):
                    target = out.rows.setdefault(key, empty_sums())
                    add_sums(target, delta)
            out.counted[(iid, index)] = (rows, t, s)
        return out

    def commit(self, changes: RollupChanges) -> None:
        """The batch committed: remember what is now counted."""
        for (iid, index), counted in changes.counted.items():
            item = self._live.get(iid)
            if item is not None:
                item.counted[index] = counted
