"""The routing engine in real time: one inbox, one timer, commands fanned out.

Rule 1. Every input reaches the engine through :meth:`LiveCenter.handle`, on the event
        loop.  An input that arrives while commands are being dispatched (a SIP handler
        that declines an offer at once) waits in the inbox and is handled right after,
        so the engine never re-enters itself and no lock is needed (STYLE.md #4).
Rule 2. ``now`` is read from the injected clock once per input; the engine's next
        deadline is armed as a single ``loop.call_at`` (STYLE.md #2).
Rule 3. ``Log`` lines go to the event-log writer; every other command goes to the
        subscribers (call control, and later the wallboard) in the order produced.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

import structlog

from hotline.core import events as ev
from hotline.core.commands import Command, Log
from hotline.core.model import EventType
from hotline.core.routing.engine import RoutingEngine
from hotline.live.directory import Directory
from hotline.live.eventlog import EventLogWriter

__all__ = ["CommandHandler", "LiveCenter"]

log = structlog.get_logger("hotline.center")

CommandHandler = Callable[[Command], None]


class LiveCenter:
    def __init__(
        self,
        directory: Directory,
        writer: EventLogWriter,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.engine = RoutingEngine(directory.queues.values(), directory.operators.values())
        self.writer = writer
        self.clock = clock
        self._subscribers: list[CommandHandler] = []
        self._inbox: deque[ev.Event] = deque()
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        #: interactions whose ARRIVED line call control wrote (with hotline and caller);
        #: the engine's own ARRIVED (queue only) is then redundant and not written
        self._arrived_logged: set[int] = set()

    def subscribe(self, handler: CommandHandler) -> None:
        self._subscribers.append(handler)

    def reload(self, directory: Directory) -> None:
        """Adopt a new snapshot: new queues and operators join the engine (changing an
        existing queue's routing rules needs a restart, for now)."""
        self.directory = directory
        for qid, queue in directory.queues.items():
            if not self.engine.has_queue(qid):
                self.engine.configure_queue(queue)
        for oid, operator in directory.operators.items():
            if not self.engine.has_operator(oid):
                self.engine.configure_operator(operator)

    def forget(self, interaction_id: int) -> None:
        """Call control is done with the interaction (the call ended)."""
        self._arrived_logged.discard(interaction_id)

    def log(self, line: Log) -> None:
        """A line written by call control itself (arrived, ivr, abandoned in the IVR…)."""
        if line.type is EventType.ARRIVED:
            self._arrived_logged.add(line.interaction_id)
        self.writer.append(line)

    def handle(self, event: ev.Event) -> None:
        self._inbox.append(event)
        if self._busy:
            return
        self._busy = True
        try:
            while self._inbox:
                event = self._inbox.popleft()
                try:
                    commands = self.engine.handle(event, self.clock())
                except Exception:
                    log.exception("center.handle_failed", event=repr(event))
                    continue
                self._dispatch(commands)
        finally:
            self._busy = False
        self._arm()

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        if self._busy:  # cannot happen on one loop, but never re-enter the engine
            self._arm()
            return
        self._busy = True
        try:
            self._dispatch(self.engine.on_timer(self.clock()))
            while self._inbox:
                self._dispatch(self.engine.handle(self._inbox.popleft(), self.clock()))
        except Exception:
            log.exception("center.timer_failed")
        finally:
            self._busy = False
        self._arm()

    def _dispatch(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, Log):
                if command.type is EventType.ARRIVED and (
                    command.interaction_id in self._arrived_logged
                ):
                    continue
                if command.type is EventType.COMPLETED:
                    self._arrived_logged.discard(command.interaction_id)
                self.writer.append(command)
                continue
            for handler in self._subscribers:
                try:
                    handler(command)
                except Exception:
                    log.exception("center.subscriber_failed", command=repr(command))

    def _arm(self) -> None:
        deadline = self.engine.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_at = None
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, deadline - self.clock())
        self._timer = loop.call_at(loop.time() + delay, self._on_timer)
        self._timer_at = deadline
