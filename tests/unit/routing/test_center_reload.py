"""``LiveCenter.reload`` diffs a new directory against the engine's configuration and
applies each change through the engine, on the center's one inbox (center Rule 4)."""

from __future__ import annotations

import dataclasses
from typing import cast

from structlog.testing import capture_logs

from hotline.core import events as ev
from hotline.core.commands import Command, Log, Offer
from hotline.core.model import OperatorState as S
from hotline.core.model import OverflowAction
from hotline.core.routing.config import OperatorConfig, QueueConfig
from hotline.live.center import LiveCenter
from hotline.live.directory import Directory
from hotline.live.eventlog import EventLogWriter


class Lines:
    """Stands for the event-log writer: keeps the lines."""

    def __init__(self) -> None:
        self.lines: list[Log] = []

    def append(self, line: Log) -> None:
        self.lines.append(line)


OVERFLOWING = QueueConfig(
    1, 1, max_wait_seconds=60, overflow_action=OverflowAction.QUEUE, overflow_target="2"
)
SPARE = QueueConfig(2, 1)
ALICE = OperatorConfig(7, frozenset({1}))
BOB = OperatorConfig(8, frozenset({1}))


def directory(queues: list[QueueConfig], operators: list[OperatorConfig]) -> Directory:
    return Directory(queues={q.id: q for q in queues}, operators={o.id: o for o in operators})


class Center:
    def __init__(self, first: Directory) -> None:
        self.now = 1000.0
        self.center = LiveCenter(first, cast(EventLogWriter, Lines()), clock=lambda: self.now)
        self.commands: list[Command] = []
        self.center.subscribe(self.commands.append)

    def offers(self) -> list[tuple[int, int]]:
        return [(c.interaction_id, c.operator_id) for c in self.commands if isinstance(c, Offer)]

    def close(self) -> None:
        if self.center._timer is not None:
            self.center._timer.cancel()


async def test_changes_are_applied_and_a_refused_one_is_logged_and_skipped() -> None:
    c = Center(directory([OVERFLOWING, SPARE], [ALICE]))
    engine = c.center.engine
    c.center.handle(ev.OperatorWentReady(7))
    c.center.handle(ev.InteractionArrived(1, 1))
    c.center.handle(ev.OfferAccepted(1, 7))
    longer = dataclasses.replace(OVERFLOWING, wrap_up_seconds=45)
    with capture_logs() as logged:
        # queue 2 removed while queue 1 still overflows to it; 7 removed, 8 added
        c.center.reload(directory([longer], [BOB]))
    refused = [e for e in logged if e["event"] == "center.config_refused"]
    assert [(e["change"], e["id"]) for e in refused] == [("queue.retire", 2)]
    assert "still a target of queue 1" in refused[0]["error"]
    applied = {(e["change"], e["id"]) for e in logged if e["event"] == "center.config_applied"}
    assert applied == {("queue.update", 1), ("operator.update", 8), ("operator.retire", 7)}
    assert engine.queue_config(1) == longer and engine.queue_ids() == [1, 2]
    assert engine.operator_ids() == [8]
    assert engine.operator_state(7) == (S.BUSY, None)  # retired, still on the call

    # the administrator removes the overflow: queue 2 can go now
    c.center.reload(directory([QueueConfig(1, 1, wrap_up_seconds=45)], [BOB]))
    assert engine.queue_ids() == [1] and not engine.has_queue(2)
    c.close()


async def test_a_reload_asked_for_while_commands_are_dispatched_waits_in_the_inbox() -> None:
    c = Center(directory([SPARE], [ALICE, BOB]))
    engine = c.center.engine
    seen_during: list[list[int]] = []

    def reload_on_offer(command: Command) -> None:
        if isinstance(command, Offer) and not seen_during:
            c.center.reload(directory([SPARE], [ALICE]))  # 8 removed, from a handler
            seen_during.append(engine.operator_ids())  # not yet: the engine is busy

    c.center.subscribe(reload_on_offer)
    c.center.handle(ev.OperatorWentReady(7))
    c.center.handle(ev.OperatorWentReady(8))
    c.center.handle(ev.InteractionArrived(1, 2))
    assert c.offers() == [(1, 7)]
    assert seen_during == [[7, 8]]
    assert engine.operator_ids() == [7]  # applied right after, on the same inbox
    assert engine.operator_state(8) == (S.OFFLINE, None)
    c.close()
