"""The live hub between the routing center and the pages, on a real database.

A real :class:`LiveCenter` (routing engine, event-log writer) is driven with the events
call control would send; the test reads the frames the hub queues for a desktop and two
wallboards, as a page's WebSocket would, and checks them against the schema and against
figures worked out by hand.  Time is a fake clock: the world seeds one interaction at
09:00 UTC that is still waiting, and our call arrives at 10:00.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hotline.core import events as ev
from hotline.core.commands import Log
from hotline.core.model import Channel, Direction, EventType, Role
from hotline.live.center import LiveCenter
from hotline.live.directory import load_directory
from hotline.live.eventlog import EventLogWriter, InteractionStart
from hotline.store.db import Database
from hotline.web.live_events import parse_frame
from hotline.web.live_hub import LiveHub, Subscriber
from tests.integration.world import NOW, World

T0 = (NOW + dt.timedelta(hours=1)).timestamp()  # 10:00 UTC, the world's day
DEADLINE_S = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def live(database: Database, world: World) -> AsyncIterator[tuple[LiveHub, Clock]]:
    clock = Clock()
    writer = EventLogWriter(database)
    await writer.start()
    center = LiveCenter(await load_directory(database), writer, clock=clock)
    hub = LiveHub(center, database, clock=clock, settle=0.0)
    try:
        yield hub, clock
    finally:
        if center._timer is not None:  # the offer/wrap-up timer would fire after the test
            center._timer.cancel()
        await writer.close()


async def next_frame(sub: Subscriber, kind: str) -> Any:
    """The next frame of ``kind`` (earlier frames of other kinds are skipped)."""
    async with asyncio.timeout(DEADLINE_S):
        while True:
            frame = parse_frame(await sub.frames.get())
            if frame.type == kind:
                return frame


async def test_given_a_call_when_offered_answered_and_ended_then_desktop_and_wallboard_frames(
    live: tuple[LiveHub, Clock], world: World
) -> None:
    hub, clock = live
    center = hub.center
    op = world.a.user_ids[Role.OPERATOR]
    queue_id, hotline_id = world.a.ids["queues"], world.a.ids["hotlines"]
    desk = hub.open_desktop(op)
    other_desk = hub.open_desktop(world.b.user_ids[Role.OPERATOR])
    board_a = hub.open_wallboard(world.a.tenant_id, None)
    board_b = hub.open_wallboard(world.b.tenant_id, None)

    center.handle(ev.OperatorWentReady(op))
    state = await next_frame(desk, "desktop.state")
    assert (state.data.state, state.data.since) == ("ready", T0)

    iid = center.writer.new_interaction_id()
    center.writer.start_interaction(
        InteractionStart(
            iid, world.a.tenant_id, hotline_id, Channel.CALL, Direction.INBOUND,
            "+79990000000", "+74950000001", "+74950000001", T0,
        )
    )  # fmt: skip
    center.log(
        Log(iid, EventType.ARRIVED, T0, {"hotline_id": hotline_id, "caller": "+79990000000"})
    )
    center.handle(ev.InteractionArrived(iid, queue_id))
    offer = await next_frame(desk, "desktop.offer")
    # world.py: operator display name "operator", tenant "Tenant alpha"
    assert offer.data.greeting == "Здравствуйте, меня зовут operator, компания Tenant alpha"
    assert (offer.data.caller, offer.data.queue, offer.data.hotline) == (
        "+79990000000",
        "Main",
        "alpha line",
    )
    assert offer.data.queued_at == T0
    pop = await next_frame(desk, "desktop.screen_pop")
    assert pop.data.contact is not None and pop.data.contact.name == "Caller"
    # the world's earlier interaction from this number, not the one ringing now
    assert [h.interaction_id for h in pop.data.history] == [world.a.ids["interactions"]]

    clock.now = T0 + 4
    center.handle(ev.OfferAccepted(iid, op))
    talking = await next_frame(desk, "desktop.call")
    assert (talking.data.phase, talking.data.interaction_id) == ("talking", iid)

    clock.now = T0 + 64
    center.handle(ev.InteractionEnded(iid))
    wrap = await next_frame(desk, "desktop.call")
    assert wrap.data.phase == "wrap_up"
    assert wrap.data.wrap_up_ends_at == T0 + 64 + 30  # world.py: the queue's wrap_up_seconds
    clock.now = T0 + 70
    assert hub.extend_wrap_up(op, 30) == T0 + 64 + 30 + 30
    longer = await next_frame(desk, "desktop.call")
    assert (longer.data.phase, longer.data.wrap_up_ends_at) == ("wrap_up", T0 + 124)
    assert hub.extend_wrap_up(op, 30) is None  # once per interaction
    # the engine agrees: its wrap-up timer moved to the new end
    assert center.engine.next_deadline() == T0 + 124

    async with asyncio.timeout(DEADLINE_S):
        while True:
            snapshot = await next_frame(board_a, "wallboard.snapshot")
            board = snapshot.data
            row = next(q for q in board.queues if q.id == queue_id)
            if row.answered == 1 and board.operators[0].state == "wrap_up":
                break
    # By hand: two visits today (the world's, waiting since 09:00, and ours, answered
    # after 4 s): offered 2, answered 1, SL 1 within 20 s / 2 offered, ASA 4 s; the longest
    # wait is the world's: 1 h plus the snapshot's time after T0 (64 s or 70 s, depending
    # on whether the refresh ran before the extension moved the clock).
    assert (row.offered, row.answered, row.abandoned, row.waiting) == (2, 1, 0, 1)
    assert row.sl == 0.5
    assert row.asa == 4.0
    assert snapshot.at in (T0 + 64, T0 + 70)
    assert row.longest_wait == 3600 + (snapshot.at - T0)
    assert row.aht is None  # wrap-up still running: not handled yet
    assert (row.sl_target, row.callback_threshold) == (0.8, 180)  # world.py's queue
    assert [(o.id, o.interaction_id) for o in board.operators] == [(op, iid)]
    # nothing of tenant alpha reaches bravo's wallboard or bravo's operator
    assert board_b.frames.empty()
    assert other_desk.frames.empty()


async def test_given_a_site_supervisor_when_the_board_is_cut_then_only_their_hotlines(
    live: tuple[LiveHub, Clock], world: World
) -> None:
    hub, _ = live
    board = await hub.wallboard(world.a.tenant_id)
    assert [q.id for q in board.queues] == [world.a.ids["queues"]]
    mine = hub.visible(board, frozenset({world.a.ids["hotlines"]}))
    assert mine == board
    elsewhere = hub.visible(board, frozenset({world.b.ids["hotlines"]}))
    assert (elsewhere.queues, elsewhere.operators) == ([], [])


async def test_given_a_frozen_tab_when_frames_pile_up_then_the_oldest_are_dropped() -> None:
    sub = Subscriber()
    limit = sub.frames.maxsize
    for i in range(limit + 5):
        sub.push(str(i))
    assert sub.dropped == 5
    assert sub.frames.get_nowait() == "5"  # 0..4 went first


async def test_given_waiting_callers_when_events_come_then_the_board_lists_them_from_a_fold_built_once(  # noqa: E501
    live: tuple[LiveHub, Clock], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log is read once, when the first page asks (Rule 3); then lines advance the
    running fold, and the board lists who waits, in order, with the caller's number."""
    import hotline.web.live_hub as hub_module
    from hotline.live.today import load_lines as real

    reads: list[int] = []

    async def counted(db: Database, tenant_id: int, since: float) -> Any:
        reads.append(tenant_id)
        return await real(db, tenant_id, since)

    monkeypatch.setattr(hub_module, "load_lines", counted)
    hub, clock = live
    center = hub.center
    queue_id, hotline_id = world.a.ids["queues"], world.a.ids["hotlines"]
    board_a = hub.open_wallboard(world.a.tenant_id, None)
    first = await hub.wallboard(world.a.tenant_id)
    assert first.queues[0].waiting == 1  # the world's caller, from the log
    ids = []
    for caller in ("+79990000001", "+79990000002"):
        iid = center.writer.new_interaction_id()
        center.writer.start_interaction(
            InteractionStart(
                iid, world.a.tenant_id, hotline_id, Channel.CALL, Direction.INBOUND,
                caller, "+74950000001", "+74950000001", T0,
            )
        )  # fmt: skip
        center.log(Log(iid, EventType.ARRIVED, T0, {"hotline_id": hotline_id, "caller": caller}))
        center.handle(ev.InteractionArrived(iid, queue_id))
        ids.append(iid)
    async with asyncio.timeout(DEADLINE_S):
        while True:
            row = (await next_frame(board_a, "wallboard.snapshot")).data.queues[0]
            if row.waiting == 3:
                break
    assert [(c.interaction_id, c.caller, c.position, c.ringing) for c in row.calls] == [
        (ids[0], "+79990000001", 1, False),
        (ids[1], "+79990000002", 2, False),
    ]
    clock.now = T0 + 30
    center.handle(ev.CallerAbandoned(ids[0]))
    async with asyncio.timeout(DEADLINE_S):
        while True:
            row = (await next_frame(board_a, "wallboard.snapshot")).data.queues[0]
            if row.abandoned == 1:
                break
    assert (row.offered, row.waiting, [c.position for c in row.calls]) == (3, 2, [1])
    assert reads == [world.a.tenant_id]  # built once; every event after that was folded
