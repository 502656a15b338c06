"""The live event-log writer on SQLite and PostgreSQL: batched, ordered, loss-free."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import sqlalchemy as sa

from hotline.core.commands import Log
from hotline.core.model import (
    AfterHoursAction,
    CallbackOrigin,
    CallbackStatus,
    Channel,
    Direction,
    EventType,
)
from hotline.live.eventlog import EventLogWriter, InteractionStart
from hotline.store import models as m
from hotline.store.db import Database

T0 = 1_795_000_000.0  # 2026-11-19, an ordinary Unix time


async def _hotline(db: Database) -> tuple[int, int]:
    now = dt.datetime.fromtimestamp(T0, dt.UTC)
    async with db.system_session() as session:
        tenant = m.Tenant(name="T", slug="t", created_at=now)
        session.add(tenant)
        await session.flush()
        hotline = m.Hotline(
            tenant_id=tenant.id,
            name="H",
            timezone="Europe/Moscow",
            greeting_template="Hello, {operator}",
            after_hours_action=AfterHoursAction.VOICEMAIL,
            created_at=now,
        )
        session.add(hotline)
        await session.commit()
        return tenant.id, hotline.id


def _start(iid: int, tenant: int, hotline: int, at: float) -> InteractionStart:
    return InteractionStart(
        interaction_id=iid,
        tenant_id=tenant,
        hotline_id=hotline,
        channel=Channel.CALL,
        direction=Direction.INBOUND,
        caller="79160000000",
        callee="500",
        source="500",
        at=at,
    )


async def _events(db: Database, iid: int) -> list[tuple[int, str, float, dict[str, Any]]]:
    async with db.system_session() as session:
        rows = await session.scalars(
            sa.select(m.InteractionEventRow)
            .where(m.InteractionEventRow.interaction_id == iid)
            .order_by(m.InteractionEventRow.seq)
        )
        return [(r.seq, str(r.type), r.at.timestamp(), r.data) for r in rows]


async def test_given_lines_when_flushed_then_stored_in_order_with_rows_and_updates(
    database: Database,
) -> None:
    tenant, hotline = await _hotline(database)
    writer = EventLogWriter(database, flush_interval=0.05)
    await writer.start()
    try:
        iid = writer.new_interaction_id()
        writer.start_interaction(_start(iid, tenant, hotline, T0))
        writer.append(Log(iid, EventType.ARRIVED, T0, {"hotline_id": hotline, "source": "500"}))
        writer.append(Log(iid, EventType.QUEUED, T0 + 1.5, {"queue_id": 7, "ewt": float("nan")}))
        writer.append(Log(iid, EventType.CALLBACK_REQUESTED, T0 + 9, {"queue_id": 7}))
        writer.add_row(
            m.Callback,
            {
                "tenant_id": tenant,
                "hotline_id": hotline,
                "interaction_id": iid,
                "number": "79160000000",
                "origin": CallbackOrigin.QUEUE,
                "status": CallbackStatus.PENDING,
                "requested_at": dt.datetime.fromtimestamp(T0 + 9, dt.UTC),
                "queued_at": dt.datetime.fromtimestamp(T0 + 1.5, dt.UTC),
                "attempts": 0,
            },
        )
        writer.update(iid, ended_at=T0 + 10)
        await writer.flush()
    finally:
        await writer.close()

    events = await _events(database, iid)
    assert [(seq, kind) for seq, kind, _, _ in events] == [
        (1, "arrived"),
        (2, "queued"),
        (3, "callback_requested"),
    ]
    assert [round(at - T0, 3) for _, _, at, _ in events] == [0.0, 1.5, 9.0]
    assert events[1][3] == {"queue_id": 7, "ewt": None}  # NaN is not JSON: stored as null
    async with database.system_session() as session:
        interaction = await session.get(m.Interaction, iid)
        assert interaction is not None
        assert interaction.ended_at == dt.datetime.fromtimestamp(T0 + 10, dt.UTC)
        callbacks = list(await session.scalars(sa.select(m.Callback)))
        assert [(c.interaction_id, c.status) for c in callbacks] == [(iid, CallbackStatus.PENDING)]


async def test_given_a_failing_write_when_retried_then_nothing_is_lost(database: Database) -> None:
    tenant, hotline = await _hotline(database)
    writer = EventLogWriter(database, flush_interval=0.01)
    real_write = writer._write
    failures = []

    async def flaky(batch: Any) -> None:
        if not failures:
            failures.append(len(batch))
            raise OSError("database went away")  # what a restarted PostgreSQL looks like
        await real_write(batch)

    writer._write = flaky  # type: ignore[method-assign]
    await writer.start()
    try:
        iid = writer.new_interaction_id()
        writer.start_interaction(_start(iid, tenant, hotline, T0))
        for i in range(50):
            writer.append(Log(iid, EventType.IVR, T0 + i, {"n": i}))
        await writer.flush()
    finally:
        await writer.close()
    assert failures, "the first write should have failed"
    events = await _events(database, iid)
    assert [data["n"] for _, _, _, data in events] == list(range(50))


async def test_given_stored_interactions_when_a_writer_starts_then_new_ids_follow_them(
    database: Database,
) -> None:
    tenant, hotline = await _hotline(database)
    first = EventLogWriter(database)
    await first.start()
    ids = [first.new_interaction_id() for _ in range(3)]
    for iid in ids:
        first.start_interaction(_start(iid, tenant, hotline, T0))
    await first.close()
    second = EventLogWriter(database)
    await second.start()
    try:
        assert second.new_interaction_id() == max(ids) + 1
    finally:
        await second.close()


async def test_given_a_batch_being_written_when_closed_then_close_returns(
    database: Database,
) -> None:
    """close() cancels the loop just as it wakes (flush() woke it while it wrote); the
    cancellation must end the loop, not be taken for the wake-up (asyncio.wait_for on
    Python 3.11 returns the inner result then, and close() waited forever)."""
    tenant, hotline = await _hotline(database)
    writer = EventLogWriter(database, flush_interval=0.01)
    real_write = writer._write
    writing, release = asyncio.Event(), asyncio.Event()

    async def slow(batch: Any) -> None:
        if batch:
            writing.set()
            await release.wait()
        await real_write(batch)

    writer._write = slow  # type: ignore[method-assign]
    await writer.start()
    iid = writer.new_interaction_id()
    writer.start_interaction(_start(iid, tenant, hotline, T0))
    writer.append(Log(iid, EventType.ARRIVED, T0, {"hotline_id": hotline}))
    await writing.wait()  # the loop took the batch and writes it
    closing = asyncio.create_task(writer.close())
    await asyncio.sleep(0)  # close() -> flush() wakes the loop while it writes
    release.set()
    done, _ = await asyncio.wait([closing], timeout=10)
    if not done:  # end the test, not the session: cancel what close() waits for
        assert writer._task is not None
        writer._task.cancel()
        await closing
    assert done, "close() waited forever on a writer loop that took its cancellation for a wake-up"
    assert [kind for _, kind, _, _ in await _events(database, iid)] == ["arrived"]
