"""A supervisor moves a waiting call to another queue through the API, on SQLite and
PostgreSQL: ``POST /api/v1/interactions/{id}/move`` reaches the running center's inbox,
the engine moves the call keeping its seniority, the event log records the move, and the
roles and scopes of ``core/access.py`` hold (supervisors and admins only, 404 outside the
caller's tenant or hotlines).

A real :class:`LiveCenter` stands for the running center, as in test_live_reconfigure.py;
its ``LiveControl`` does what ``live.control.LiveControlImpl`` does for moves (the same
``live.moves`` functions) without call control.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from hotline.core import events as ev
from hotline.core.commands import CancelOffer, Command, Log, Offer
from hotline.core.model import Channel, Direction, EventType, Role
from hotline.live.center import LiveCenter
from hotline.live.directory import load_directory
from hotline.live.eventlog import EventLogWriter, InteractionStart
from hotline.live.moves import WaitingPlace, move_waiting, waiting_place
from hotline.security import token_digest
from hotline.store import models as m
from hotline.store.db import Database
from hotline.web.api.moves import MoveControl
from tests.integration.test_live_reconfigure import CenterOnly
from tests.integration.world import NOW, World, auth

T0 = NOW.timestamp() + 3600.0
SITE_TOKEN = "token-alpha-site-supervisor"


class CenterWithMoves(CenterOnly):
    """``LiveControl`` and ``MoveControl`` over a bare center (no call control)."""

    def waiting_place(self, interaction_id: int) -> WaitingPlace | None:
        return waiting_place(self.center, interaction_id)

    def move_waiting(self, interaction_id: int, queue_id: int, by: int | None) -> WaitingPlace:
        return move_waiting(self.center, interaction_id, queue_id, by)


@dataclasses.dataclass
class Live:
    center: LiveCenter
    client: httpx.AsyncClient
    commands: list[Command]
    lines: list[Log]
    ids: dict[str, int]


async def _site_supervisor(db: Database, world: World, hotline_id: int) -> None:
    """A supervisor of tenant alpha limited to one hotline (access rule 2)."""
    async with db.system_session() as s:
        user = m.User(
            tenant_id=world.a.tenant_id,
            login="alpha-site",
            display_name="Site",
            role=Role.SUPERVISOR,
            password_hash="x",
            capacity={},
            created_at=NOW,
        )
        user.hotline_links = [m.UserHotline(hotline_id=hotline_id)]
        s.add(user)
        await s.flush()
        s.add(
            m.ApiToken(
                user_id=user.id,
                token_hash=token_digest(SITE_TOKEN),
                kind="api",
                created_at=NOW,
                expires_at=NOW + dt.timedelta(days=3650),
            )
        )
        await s.commit()


@pytest.fixture
async def live(database: Database, world: World, app_ctx: Any) -> AsyncIterator[Live]:
    from hotline.web.app import create_app

    writer = EventLogWriter(database)
    await writer.start()
    center = LiveCenter(await load_directory(database), writer, clock=lambda: T0)
    commands: list[Command] = []
    lines: list[Log] = []
    center.subscribe(commands.append)
    center.subscribe_log(lines.append)
    control = CenterWithMoves(database, center)
    assert isinstance(control, MoveControl)
    ctx = dataclasses.replace(app_ctx, live=control)
    transport = httpx.ASGITransport(app=create_app(ctx))
    sup = auth(world.a.tokens[Role.SUPERVISOR])
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            # a second queue on alpha's hotline, and a second hotline with its own queue
            second = await c.post(
                "/api/v1/queues",
                json={"hotline_id": world.a.ids["hotlines"], "name": "Second"},
                headers=sup,
            )
            assert second.status_code == 201, second.text
            other_line = await c.post(
                "/api/v1/hotlines",
                json={"tenant_id": world.a.tenant_id, "name": "alpha two", "timezone": "UTC"},
                headers=sup,
            )
            assert other_line.status_code == 201, other_line.text
            elsewhere = await c.post(
                "/api/v1/queues",
                json={"hotline_id": other_line.json()["id"], "name": "Elsewhere"},
                headers=sup,
            )
            assert elsewhere.status_code == 201, elsewhere.text
            await control.reload()
            await _site_supervisor(database, world, world.a.ids["hotlines"])
            ids = {
                "main": world.a.ids["queues"],
                "second": second.json()["id"],
                "elsewhere": elsewhere.json()["id"],
            }
            yield Live(center, c, commands, lines, ids)
    finally:
        if center._timer is not None:  # the offer timer would fire after the test
            center._timer.cancel()
        await writer.close()


def arrive(live: Live, world: World, queue_id: int) -> int:
    """A call to tenant alpha enters ``queue_id``, as call control would send it."""
    center, hotline_id = live.center, world.a.ids["hotlines"]
    iid = center.writer.new_interaction_id()
    center.writer.start_interaction(
        InteractionStart(
            iid, world.a.tenant_id, hotline_id, Channel.CALL, Direction.INBOUND,
            "+79990000000", "+74950000001", "+74950000001", T0,
        )
    )  # fmt: skip
    center.log(Log(iid, EventType.ARRIVED, T0, {"hotline_id": hotline_id}))
    center.handle(ev.InteractionArrived(iid, queue_id))
    return iid


async def move(live: Live, token: str, iid: int, queue_id: int) -> httpx.Response:
    return await live.client.post(
        f"/api/v1/interactions/{iid}/move", json={"queue_id": queue_id}, headers=auth(token)
    )


async def test_given_a_waiting_call_when_a_supervisor_moves_it_then_it_waits_in_the_new_queue_ahead_of_later_callers(  # noqa: E501
    live: Live, world: World, database: Database
) -> None:
    first = arrive(live, world, live.ids["main"])
    later = arrive(live, world, live.ids["second"])
    r = await move(live, world.a.tokens[Role.SUPERVISOR], first, live.ids["second"])
    assert r.status_code == 200, r.text
    assert r.json() == {
        "interaction_id": first,
        "from_queue_id": live.ids["main"],
        "queue_id": live.ids["second"],
        "status": "waiting",
        "position": 1,  # seniority: it entered a queue before ``later`` did
    }
    assert live.center.engine.position_of(later) == 2
    moved = [(x.type, dict(x.data)) for x in live.lines if x.interaction_id == first][-2:]
    main, second = live.ids["main"], live.ids["second"]
    supervisor = world.a.user_ids[Role.SUPERVISOR]
    assert moved == [
        (EventType.TRANSFERRED, {"from_queue": main, "to_queue": second, "moved_by": supervisor}),
        (EventType.QUEUED, {"queue_id": second, "ewt": None, "position": 1, "moved_from": main}),
    ]
    # written to the database: the log lines, and the interaction's current queue
    await live.center.writer.flush()
    async with database.system_session() as s:
        types = await s.scalars(
            sa.select(m.InteractionEventRow.type)
            .where(m.InteractionEventRow.interaction_id == first)
            .order_by(m.InteractionEventRow.seq)
        )
        assert list(types) == ["arrived", "queued", "transferred", "queued"]
        row = await s.get(m.Interaction, first)
        assert row is not None and row.queue_id == live.ids["second"]


async def test_given_a_ringing_call_when_moved_then_the_offer_is_cancelled_and_the_call_waits(
    live: Live, world: World
) -> None:
    op = world.a.user_ids[Role.OPERATOR]  # world.py: serves alpha's first hotline
    live.center.handle(ev.OperatorWentReady(op))
    iid = arrive(live, world, live.ids["main"])
    assert [c for c in live.commands if isinstance(c, Offer)][-1].operator_id == op
    r = await move(live, world.a.tokens[Role.SUPERVISOR], iid, live.ids["elsewhere"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["position"]) == ("waiting", 1)
    assert CancelOffer(iid, op) in live.commands
    assert live.center.engine.operator_state(op)[0] == "ready"  # not on that hotline

    # back to a queue the operator serves: offered at once
    again = await move(live, world.a.tokens[Role.SUPERVISOR], iid, live.ids["main"])
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "ringing" and again.json()["position"] is None
    live.center.handle(ev.OfferAccepted(iid, op))  # answered calls are not moved: 409
    answered = await move(live, world.a.tokens[Role.SUPERVISOR], iid, live.ids["second"])
    assert (answered.status_code, answered.json()["error_id"]) == (409, "not_waiting")


async def test_given_roles_and_scopes_when_moving_then_only_supervisors_and_admins_in_scope(
    live: Live, world: World
) -> None:
    iid = arrive(live, world, live.ids["main"])
    for role in (Role.OPERATOR, Role.CLIENT):
        r = await move(live, world.a.tokens[role], iid, live.ids["second"])
        assert r.status_code == 403, (role, r.text)
    # another tenant's supervisor does not see the call; nor may it move into its queues
    r = await move(live, world.b.tokens[Role.SUPERVISOR], iid, world.b.ids["queues"])
    assert (r.status_code, r.json()["error_id"]) == (404, "not_found")
    r = await move(live, world.a.tokens[Role.SUPERVISOR], iid, world.b.ids["queues"])
    assert r.status_code == 404, r.text
    r = await move(live, world.admin_token, iid, world.b.ids["queues"])  # same tenant only
    assert r.status_code == 404, r.text
    # a supervisor limited to the first hotline moves neither into nor out of the other
    r = await move(live, SITE_TOKEN, iid, live.ids["elsewhere"])
    assert r.status_code == 404, r.text
    away = arrive(live, world, live.ids["elsewhere"])
    r = await move(live, SITE_TOKEN, away, live.ids["main"])
    assert r.status_code == 404, r.text
    r = await move(live, SITE_TOKEN, iid, live.ids["second"])
    assert r.status_code == 200, r.text
    # nothing to move, or nowhere to
    r = await move(live, SITE_TOKEN, iid, live.ids["second"])
    assert (r.status_code, r.json()["error_id"]) == (409, "same_queue")
    r = await move(live, world.admin_token, 10**12, live.ids["main"])
    assert r.status_code == 404, r.text
    r = await move(live, world.admin_token, iid, 999_999)
    assert r.status_code == 404, r.text
    # the admin moves it back: the engine kept one place in line for it throughout
    r = await move(live, world.admin_token, iid, live.ids["main"])
    assert r.status_code == 200 and r.json()["position"] == 1, r.text
