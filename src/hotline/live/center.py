"""The routing engine in real time: one inbox, one timer, commands fanned out.

Rule 1. Every input reaches the engine through :meth:`LiveCenter.handle`, on the event
        loop.  An input that arrives while commands are being dispatched (a SIP handler
        that declines an offer at once) waits in the inbox and is handled right after,
        so the engine never re-enters itself and no lock is needed (STYLE.md #4).
Rule 2. ``now`` is read from the injected clock once per input; the engine's next
        deadline is armed as a single ``loop.call_at`` (STYLE.md #2).
Rule 3. ``Log`` lines go to the event-log writer; every other command goes to the
        subscribers (call control, and later the wallboard) in the order produced.
Rule 4. A new directory (after a configuration change) goes through the same inbox:
        :meth:`LiveCenter.reload` diffs it against what the engine routes by and applies
        each added, changed or removed queue and operator through the engine (its Rule 6:
        work in hand is kept, waiting callers keep their place).  A change the engine
        refuses is logged and skipped; the rest still apply.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from functools import partial

import structlog

from hotline.core import events as ev
from hotline.core.commands import Command, Log
from hotline.core.model import EventType
from hotline.core.routing.engine import RoutingConfigError, RoutingEngine
from hotline.live.directory import Directory
from hotline.live.eventlog import EventLogWriter

__all__ = ["CommandHandler", "LiveCenter", "LogHandler"]

log = structlog.get_logger("hotline.center")

CommandHandler = Callable[[Command], None]
LogHandler = Callable[[Log], None]


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
        self._log_subscribers: list[LogHandler] = []
        self._inbox: deque[ev.Event | Directory] = deque()
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        #: interactions whose ARRIVED line call control wrote (with hotline and caller);
        #: the engine's own ARRIVED (queue only) is then redundant and not written
        self._arrived_logged: set[int] = set()

    def subscribe(self, handler: CommandHandler) -> None:
        self._subscribers.append(handler)

    def subscribe_log(self, handler: LogHandler) -> None:
        """Also see every ``Log`` line written (the wallboard's live feed), after the
        event-log writer has queued it."""
        self._log_subscribers.append(handler)

    def reload(self, directory: Directory) -> None:
        """Adopt a new snapshot (Rule 4): call control sees it at once, the engine routes
        by it as soon as the inbox reaches it (at once unless an input is being handled)."""
        self.directory = directory
        self._inbox.append(directory)
        self._drain()

    def _reconfigure(self, directory: Directory, now: float) -> list[Command]:
        """Apply the differences between ``directory`` and the engine's configuration:
        queues first (so operators link to the new ones), retirements of queues last (a
        queue still named as a target is only retired once the others stop naming it)."""
        engine = self.engine
        out: list[Command] = []
        changes: list[tuple[str, int, Callable[[], list[Command]]]] = []
        for qid, queue in directory.queues.items():
            if engine.queue_config(qid) != queue:
                changes.append(("queue.update", qid, partial(engine.update_queue, queue, now)))
        for oid, operator in directory.operators.items():
            if engine.operator_config(oid) != operator:
                changes.append(
                    ("operator.update", oid, partial(engine.update_operator, operator, now))
                )
        for oid in engine.operator_ids():
            if oid not in directory.operators:
                changes.append(("operator.retire", oid, partial(engine.retire_operator, oid, now)))
        for qid in engine.queue_ids():
            if qid not in directory.queues:
                changes.append(("queue.retire", qid, partial(engine.retire_queue, qid, now)))
        for what, ident, apply in changes:
            try:
                out += apply()
            except RoutingConfigError as exc:
                log.warning("center.config_refused", change=what, id=ident, error=str(exc))
                continue
            except Exception:  # a bug: keep the commands of the changes applied so far
                log.exception("center.config_failed", change=what, id=ident)
                continue
            log.info("center.config_applied", change=what, id=ident)
        return out

    def forget(self, interaction_id: int) -> None:
        """Call control is done with the interaction (the call ended)."""
        self._arrived_logged.discard(interaction_id)

    def log(self, line: Log) -> None:
        """A line written by call control itself (arrived, ivr, abandoned in the IVR…)."""
        if line.type is EventType.ARRIVED:
            self._arrived_logged.add(line.interaction_id)
        self.writer.append(line)
        self._publish_log(line)

    def handle(self, event: ev.Event) -> None:
        self._inbox.append(event)
        self._drain()

    def _drain(self) -> None:
        """Handle the inbox in order (Rule 1); a new directory is one more input (Rule 4)."""
        if self._busy:
            return
        self._busy = True
        try:
            while self._inbox:
                event = self._inbox.popleft()
                try:
                    if isinstance(event, Directory):
                        commands = self._reconfigure(event, self.clock())
                    else:
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
        except Exception:
            log.exception("center.timer_failed")
        finally:
            self._busy = False
        self._drain()  # inputs that came while the timer's commands were dispatched

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
                self._publish_log(command)
                continue
            for handler in self._subscribers:
                try:
                    handler(command)
                except Exception:
                    log.exception("center.subscriber_failed", command=repr(command))

    def _publish_log(self, line: Log) -> None:
        for handler in self._log_subscribers:
            try:
                handler(line)
            except Exception:
                log.exception("center.log_subscriber_failed", line=repr(line))

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
