"""Configuration changes made through the API take effect in the running center at once,
on SQLite and PostgreSQL: the API reloads the live directory after each write, and the
center applies the differences to the routing engine without a restart.

A real :class:`LiveCenter` on the test database stands for the running center (call
control is not needed: the test sends the events it would send and reads the offers the
engine makes).  Time is a fake clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from hotline.core import events as ev
from hotline.core.commands import Command, Log, Offer
from hotline.core.model import Channel, Direction, EventType, Role
from hotline.live.center import LiveCenter
from hotline.live.directory import load_directory
from hotline.live.eventlog import EventLogWriter, InteractionStart
from hotline.store.db import Database
from tests.integration.world import NOW, World, auth

T0 = NOW.timestamp() + 3600.0


class CenterOnly:
    """``LiveControl`` for the API over a bare :class:`LiveCenter` (no telephony): the
    reload is the real one; the call-control methods are not used here."""

    def __init__(self, db: Database, center: LiveCenter) -> None:
        self.db = db
        self.center = center

    async def reload(self) -> None:
        self.center.reload(await load_directory(self.db))

    def operator_state(self, operator_id: int) -> tuple[str, str | None]:
        state, reason = self.center.engine.operator_state(operator_id)
        return str(state), reason

    def set_operator_state(self, operator_id: int, state: str, reason: str | None) -> None:
        raise NotImplementedError

    def call_parties(self, interaction_id: int) -> tuple[int, int | None] | None:
        return None

    def hold(self, interaction_id: int) -> bool:
        return False

    def resume(self, interaction_id: int) -> bool:
        return False

    def hang_up(self, interaction_id: int) -> bool:
        return False

    def transfer_to_queue(self, interaction_id: int, queue_id: int) -> bool:
        return False

    def complete_wrap_up(self, operator_id: int, interaction_id: int) -> None:
        """As ``LiveControlImpl`` does, without call control to ring."""
        self.center.handle(ev.WrapUpCompleted(operator_id, interaction_id))


@dataclasses.dataclass
class Live:
    center: LiveCenter
    client: httpx.AsyncClient
    commands: list[Command]


@pytest.fixture
async def live(database: Database, world: World, app_ctx: Any) -> AsyncIterator[Live]:
    from hotline.web.app import create_app

    writer = EventLogWriter(database)
    await writer.start()
    center = LiveCenter(await load_directory(database), writer, clock=lambda: T0)
    commands: list[Command] = []
    center.subscribe(commands.append)
    ctx = dataclasses.replace(app_ctx, live=CenterOnly(database, center))
    transport = httpx.ASGITransport(app=create_app(ctx))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Live(center, c, commands)
    finally:
        if center._timer is not None:  # the offer timer would fire after the test
            center._timer.cancel()
        await writer.close()


def arrive(live: Live, world: World) -> int:
    """A call to tenant alpha's hotline enters its queue, as call control would send it."""
    center, hotline_id = live.center, world.a.ids["hotlines"]
    iid = center.writer.new_interaction_id()
    center.writer.start_interaction(
        InteractionStart(
            iid, world.a.tenant_id, hotline_id, Channel.CALL, Direction.INBOUND,
            "+79990000000", "+74950000001", "+74950000001", T0,
        )
    )  # fmt: skip
    center.log(Log(iid, EventType.ARRIVED, T0, {"hotline_id": hotline_id}))
    center.handle(ev.InteractionArrived(iid, world.a.ids["queues"]))
    return iid


def offers(live: Live) -> list[tuple[int, int]]:
    return [(c.interaction_id, c.operator_id) for c in live.commands if isinstance(c, Offer)]


async def patch(live: Live, world: World, path: str, body: dict[str, Any]) -> None:
    headers = auth(world.a.tokens[Role.SUPERVISOR])
    response = await live.client.patch(f"/api/v1/{path}", json=body, headers=headers)
    assert response.status_code == 200, response.text


async def test_an_operator_given_the_hotline_through_the_api_gets_the_waiting_call(
    live: Live, world: World
) -> None:
    op = world.a.user_ids[Role.OPERATOR]
    live.center.handle(ev.OperatorWentReady(op))
    await patch(live, world, f"users/{op}", {"hotline_ids": []})
    iid = arrive(live, world)
    assert offers(live) == []  # ready, but no longer on the hotline: the call waits
    assert live.center.engine.position_of(iid) == 1

    await patch(live, world, f"users/{op}", {"hotline_ids": [world.a.ids["hotlines"]]})
    assert offers(live) == [(iid, op)]  # at once, as the reload is applied
    assert live.center.engine.operator_state(op)[0] == "reserved"


async def test_a_queue_requirement_relaxed_through_the_api_offers_the_waiting_call(
    live: Live, world: World
) -> None:
    op = world.a.user_ids[Role.OPERATOR]  # world.py: no skills
    await patch(live, world, f"queues/{world.a.ids['queues']}", {"skill_requirement": "english"})
    live.center.handle(ev.OperatorWentReady(op))
    iid = arrive(live, world)
    assert offers(live) == []
    await patch(live, world, f"users/{op}", {"skills": {"english": 3}})
    assert offers(live) == [(iid, op)]
    live.center.handle(ev.OfferAccepted(iid, op))

    # deactivated while talking: the call goes on, then the operator is logged out
    await patch(live, world, f"users/{op}", {"active": False})
    assert live.center.engine.operator_state(op)[0] == "busy"
    live.center.handle(ev.InteractionEnded(iid))
    live.center.handle(ev.OperatorWentReady(op))  # ends the wrap-up early; no more work
    assert live.center.engine.operator_state(op)[0] == "offline"
    second = arrive(live, world)
    assert offers(live) == [(iid, op)] and live.center.engine.position_of(second) == 1
