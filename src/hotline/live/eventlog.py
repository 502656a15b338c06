"""Writes interactions and their event log to the database in batches, off the call path.

Why batches: a call writes ten or so lines; at 150 call set-ups per second one transaction
per line would be 1,500 commits a second on SQLite.  Lines are queued in memory in arrival
order and flushed every ``flush_interval`` seconds (or sooner when many are pending) in one
transaction.  A failed flush keeps the batch and retries it: an accepted line is never
dropped while the process lives (at shutdown :meth:`EventLogWriter.close` flushes).

Each batch also updates the KPI interval rollups of the visits its lines settled, in the
same transaction (:mod:`hotline.live.rollups`): reports never lag the log by more than a
flush, and a failed flush retries lines and rollups together.

Interaction ids are allocated here, in process, from the highest id stored at start: one
``hotline serve`` process owns the telephony of a database (scale-out gives each media
node its own id range; not built yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog

from hotline.core.commands import Log
from hotline.core.model import Channel, Direction
from hotline.live.rollups import RollupTracker
from hotline.store import models as m
from hotline.store.db import Database
from hotline.store.rollups import upsert_rollups

__all__ = ["EventLogWriter", "InteractionStart"]

log = structlog.get_logger("hotline.eventlog")

#: how long an interaction's tenant stays remembered for late lines (a survey after a
#: long wrap-up); a line later than this looks the tenant up in the database
_REMEMBER_SECONDS = 24 * 3600.0


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


@dataclass(frozen=True, slots=True)
class InteractionStart:
    """The row an interaction starts with (a call arrived on a hotline's number)."""

    interaction_id: int
    tenant_id: int
    hotline_id: int
    channel: Channel
    direction: Direction
    caller: str | None
    callee: str | None
    source: str | None
    at: float


@dataclass(slots=True)
class _Pending:
    starts: list[InteractionStart] = field(default_factory=list)
    lines: list[tuple[int, int, Log]] = field(default_factory=list)  # tenant, seq, line
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    rows: list[tuple[type[m.Base], dict[str, Any]]] = field(default_factory=list)
    #: interactions whose visits may have settled: their KPI rollups are updated in the batch
    folded: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.starts) + len(self.lines) + len(self.updates) + len(self.rows)


class EventLogWriter:
    """Batched, ordered, loss-free writer of interactions and event lines."""

    def __init__(self, db: Database, *, flush_interval: float = 0.1, max_batch: int = 2000):
        self._db = db
        self._interval = flush_interval
        self._max_batch = max_batch
        self._pending = _Pending()
        self._tenant: dict[int, tuple[int, float]] = {}
        self._seq: dict[int, int] = {}
        self._next_id = 1
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        self._rollups = RollupTracker()
        self.lines_written = 0

    async def start(self) -> None:
        async with self._db.system_session() as session:
            top = await session.scalar(sa.select(sa.func.max(m.Interaction.id)))
        self._next_id = (top or 0) + 1
        self._task = asyncio.create_task(self._run(), name="eventlog-writer")
        self._task.add_done_callback(_report_end)

    def new_interaction_id(self) -> int:
        iid = self._next_id
        self._next_id += 1
        return iid

    def start_interaction(self, start: InteractionStart) -> None:
        self._tenant[start.interaction_id] = (start.tenant_id, time.monotonic())
        self._rollups.start(start.interaction_id, start.channel.value, start.source)
        self._pending.starts.append(start)
        self._poke()

    def append(self, line: Log) -> None:
        """Queue one line of the interaction's log (its interaction must have started)."""
        iid = line.interaction_id
        known = self._tenant.get(iid)
        if known is None:
            log.error("eventlog.unknown_interaction", interaction_id=iid, type=str(line.type))
            return
        seq = self._seq.get(iid, 0) + 1
        self._seq[iid] = seq
        self._pending.lines.append((known[0], seq, line))
        if self._rollups.see(line):
            self._pending.folded.add(iid)
        self._poke()

    def update(self, interaction_id: int, **values: Any) -> None:
        """Set columns of the interaction row (queue, operator, topic, ended_at …)."""
        self._pending.updates.setdefault(interaction_id, {}).update(values)
        self._poke()

    def add_row(self, model: type[m.Base], values: dict[str, Any]) -> None:
        """Insert a row that belongs with the log (a callback promised, a recording made),
        in the same batch, after the interactions it refers to."""
        self._pending.rows.append((model, values))
        self._poke()

    def _poke(self) -> None:
        if len(self._pending) >= self._max_batch:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything queued so far (tests and shutdown)."""
        task = self._task
        if task is None or task.done():
            await self._write(self._take())
            return
        while self._pending or self._writing:
            if task.done():  # the loop died (logged): write what is left here
                await self._write(self._take())
                return
            self._drained.clear()
            self._wake.set()
            # woken by the loop when drained; the timeout re-checks that it still runs
            await _wait(self._drained, 1.0)

    _writing = False

    def _take(self) -> _Pending:
        batch, self._pending = self._pending, _Pending()
        return batch

    async def _run(self) -> None:
        while True:
            await _wait(self._wake, self._interval)
            self._wake.clear()
            if self._pending:
                batch = self._take()
                self._writing = True
                try:
                    await self._write(batch)
                except Exception:
                    log.exception("eventlog.flush_failed", pending=len(batch))
                    self._requeue(batch)
                    await asyncio.sleep(self._interval)  # back off before retrying
                finally:
                    self._writing = False
            if not self._pending:
                self._drained.set()
            self._forget_old()

    def _requeue(self, batch: _Pending) -> None:
        later = self._pending
        batch.starts.extend(later.starts)
        batch.lines.extend(later.lines)
        batch.rows.extend(later.rows)
        batch.folded |= later.folded
        for iid, values in later.updates.items():
            batch.updates.setdefault(iid, {}).update(values)
        self._pending = batch

    async def _write(self, batch: _Pending) -> None:
        if not batch:
            return
        async with self._db.system_session() as session, session.begin():
            if batch.starts:
                await session.execute(
                    sa.insert(m.Interaction),
                    [
                        {
                            "id": s.interaction_id,
                            "tenant_id": s.tenant_id,
                            "hotline_id": s.hotline_id,
                            "channel": s.channel,
                            "direction": s.direction,
                            "caller": s.caller,
                            "callee": s.callee,
                            "source": s.source,
                            "started_at": _utc(s.at),
                            "notes": "",
                        }
                        for s in batch.starts
                    ],
                )
            if batch.lines:
                await session.execute(
                    sa.insert(m.InteractionEventRow),
                    [
                        {
                            "tenant_id": tenant,
                            "interaction_id": line.interaction_id,
                            "seq": seq,
                            "type": line.type,
                            "at": _utc(line.at),
                            "data": _json_safe(line.data),
                        }
                        for tenant, seq, line in batch.lines
                    ],
                )
            for model, values in batch.rows:
                await session.execute(sa.insert(model), [values])
            for iid, values in batch.updates.items():
                row = {k: (_utc(v) if k == "ended_at" else v) for k, v in values.items()}
                await session.execute(
                    sa.update(m.Interaction).where(m.Interaction.id == iid).values(**row)
                )
            rollups = await self._rollups.changes(session, batch.folded)
            await upsert_rollups(session, rollups.rows)
        self._rollups.commit(rollups)
        self.lines_written += len(batch.lines)

    def _forget_old(self) -> None:
        if len(self._tenant) < 10_000:
            return
        horizon = time.monotonic() - _REMEMBER_SECONDS
        for iid in [i for i, (_, t) in self._tenant.items() if t < horizon]:
            del self._tenant[iid]
            self._seq.pop(iid, None)
            self._rollups.forget([iid])

    async def close(self) -> None:
        if self._task is not None:
            await self.flush()
            self._task.cancel()
            # wait for the loop to end without taking its CancelledError for our own: a
            # caller that cancels close() still gets its cancellation
            await asyncio.wait([self._task])
            self._task = None
        await self._write(self._take())


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Wait until ``event`` is set or ``seconds`` pass, and let a cancellation
    through.  Not ``asyncio.wait_for``: on Python 3.11 it returns the inner result when the
    task is cancelled just as the event is set (cpython gh-86296), so ``close()`` cancelling
    a loop that ``flush()`` had just woken was taken for a wake-up and the loop ran on,
    while ``close()`` waited for it forever."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def _report_end(task: asyncio.Task[None]) -> None:
    """The writer loop ends only when closed (cancelled); anything else loses lines."""
    if not task.cancelled() and task.exception() is not None:
        log.error("eventlog.writer_died", error=repr(task.exception()))


def _json_safe(data: Mapping[str, object]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, float) and value != value:  # NaN is not JSON
            out[key] = None
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out
