"""A hotline that requires the wrap-up holds its operator in wrap-up past the queue's timer
until the wrap-up is saved from the desktop, on SQLite and PostgreSQL (engine Rule 8).

A real :class:`LiveCenter` on the test database stands for the running center, as in
test_live_reconfigure.py (its ``CenterOnly`` control, which completes wrap-ups as
``LiveControlImpl`` does); the test sends the events call control would send.  Time is a
fake clock; a deadline is fired as the loop's timer would fire it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from hotline.core import events as ev
from hotline.core.commands import Command, Log, OperatorStateChanged
from hotline.core.model import Channel, Direction, EventType, Role
from hotline.core.routing.config import REQUIRED_WRAP_UP_LIMIT_SECONDS
from hotline.live.center import LiveCenter
from hotline.live.directory import load_directory
from hotline.live.eventlog import EventLogWriter, InteractionStart
from hotline.store import models as m
from hotline.store.db import Database
from tests.integration.test_desktop_extras import csrf
from tests.integration.test_live_reconfigure import CenterOnly
from tests.integration.world import NOW, World

T0 = NOW.timestamp() + 3600.0
WRAP_UP = 30.0  # the world's queue


@dataclasses.dataclass
class Live:
    center: LiveCenter
    client: httpx.AsyncClient
    commands: list[Command]
    clock: list[float]

    def at(self, seconds: float) -> None:
        """Move the clock to ``T0 + seconds`` and fire what is due, as the timer would."""
        self.clock[0] = T0 + seconds
        deadline = self.center.engine.next_deadline()
        if deadline is not None and deadline <= self.clock[0]:
            self.center._on_timer()

    def state(self, operator_id: int) -> tuple[str, str | None]:
        state, reason = self.center.engine.operator_state(operator_id)
        return str(state), reason

    def states(self, operator_id: int) -> list[tuple[str, str | None]]:
        return [
            (str(c.state), c.reason)
            for c in self.commands
            if isinstance(c, OperatorStateChanged) and c.operator_id == operator_id
        ]


async def _require_wrap_up(db: Database, hotline_id: int, on: bool) -> None:
    async with db.system_session() as s:
        await s.execute(
            sa.update(m.Hotline).where(m.Hotline.id == hotline_id).values(topic_required=on)
        )
        await s.commit()


async def _outcome(db: Database, world: World) -> int:
    async with db.system_session() as s:
        row = m.Topic(
            tenant_id=world.a.tenant_id,
            hotline_id=world.a.ids["hotlines"],
            kind="outcome",
            name="Решено",
        )
        s.add(row)
        await s.commit()
        return row.id


async def _live(database: Database, app_ctx: Any) -> AsyncIterator[Live]:
    from hotline.web.app import create_app

    writer = EventLogWriter(database)
    await writer.start()
    clock = [T0]
    center = LiveCenter(await load_directory(database), writer, clock=lambda: clock[0])
    commands: list[Command] = []
    center.subscribe(commands.append)
    ctx = dataclasses.replace(app_ctx, live=CenterOnly(database, center))
    transport = httpx.ASGITransport(app=create_app(ctx))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Live(center, c, commands, clock)
    finally:
        if center._timer is not None:  # a deadline would fire after the test
            center._timer.cancel()
        await writer.close()


@pytest.fixture
async def required(database: Database, world: World, app_ctx: Any) -> AsyncIterator[Live]:
    """The center over tenant alpha's hotline, which requires the wrap-up."""
    await _require_wrap_up(database, world.a.ids["hotlines"], True)
    async for live in _live(database, app_ctx):
        yield live


@pytest.fixture
async def optional(database: Database, world: World, app_ctx: Any) -> AsyncIterator[Live]:
    """The same, the hotline not requiring it."""
    async for live in _live(database, app_ctx):
        yield live


async def _answered_and_ended(live: Live, world: World) -> tuple[int, int]:
    """The operator goes ready, a call arrives, is answered at 0 and ends at 10 (wrap-up
    until 40), as call control would report it; the rows are written."""
    op = world.a.user_ids[Role.OPERATOR]
    center, hotline_id = live.center, world.a.ids["hotlines"]
    iid = center.writer.new_interaction_id()
    center.writer.start_interaction(
        InteractionStart(
            iid, world.a.tenant_id, hotline_id, Channel.CALL, Direction.INBOUND,
            "+79990000000", "+74950000001", "+74950000001", T0,
        )
    )  # fmt: skip
    center.log(Log(iid, EventType.ARRIVED, T0, {"hotline_id": hotline_id}))
    center.handle(ev.OperatorWentReady(op))
    center.handle(ev.InteractionArrived(iid, world.a.ids["queues"]))
    center.handle(ev.OfferAccepted(iid, op))
    center.writer.update(iid, operator_id=op)
    live.at(10)
    center.handle(ev.InteractionEnded(iid))
    await center.writer.flush()
    assert live.state(op) == ("wrap_up", None)
    return op, iid


async def _save(live: Live, world: World, iid: int, outcome: int) -> httpx.Response:
    return await live.client.post(
        "/desktop/wrapup",
        json={"interaction_id": iid, "topic_id": world.a.ids["topics"], "outcome_id": outcome},
        headers=csrf(world.a.tokens[Role.OPERATOR]),
    )


async def test_given_a_hotline_requiring_wrap_up_when_the_timer_runs_out_then_held_until_saved(
    required: Live, world: World, database: Database
) -> None:
    live = required
    outcome = await _outcome(database, world)
    op, iid = await _answered_and_ended(live, world)

    live.at(10 + WRAP_UP + 60)  # the queue's 30 s are long over
    assert live.state(op) == ("wrap_up", None)
    assert live.states(op)[-1] == ("wrap_up", None)

    r = await _save(live, world, iid, outcome)
    assert r.status_code == 200, r.text
    assert live.state(op) == ("ready", None)
    assert live.states(op)[-2:] == [("wrap_up", None), ("ready", None)]
    await live.center.writer.flush()
    async with database.system_session() as s:
        completed = await s.scalar(
            sa.select(m.InteractionEventRow.data).where(
                m.InteractionEventRow.interaction_id == iid,
                m.InteractionEventRow.type == EventType.COMPLETED,
            )
        )
    assert completed is not None and completed["wrap_up"] == pytest.approx(WRAP_UP + 60)


async def test_given_a_hotline_requiring_wrap_up_when_never_saved_then_not_ready_at_the_limit(
    required: Live, world: World
) -> None:
    live = required
    op, _iid = await _answered_and_ended(live, world)
    live.at(10 + WRAP_UP)
    assert live.state(op) == ("wrap_up", None)
    live.at(10 + REQUIRED_WRAP_UP_LIMIT_SECONDS)
    assert live.state(op) == ("not_ready", "wrap_up")


async def test_given_a_hotline_not_requiring_it_when_the_timer_runs_out_then_ready(
    optional: Live, world: World
) -> None:
    op, _iid = await _answered_and_ended(optional, world)
    optional.at(10 + WRAP_UP)
    assert optional.state(op) == ("ready", None)
