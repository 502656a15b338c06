"""The live hub's small tables: page subscribers, calls in progress, operators as seen.

Split from ``live_hub.py`` to keep that module about the flow of events.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog

from hotline.core import commands as cmd
from hotline.core.greeting import GreetingTemplateError, render_greeting
from hotline.core.kpi import KpiAccumulator
from hotline.live.directory import Directory
from hotline.web.live_events import CallData, OfferData, QueueRow, WaitingCall, WallboardData
from hotline.web.pages.data import QueueMeta

__all__ = [
    "QUEUE_LIMIT",
    "CallRow",
    "OperatorSeen",
    "Subscriber",
    "as_int",
    "log_failure",
    "offer_data",
    "queue_row",
    "visible",
]

log = structlog.get_logger("hotline.hub")

#: frames kept for a subscriber that does not read (live_hub.py Rule 4)
QUEUE_LIMIT = 256


class Subscriber:
    """One open page: a bounded queue of JSON frames."""

    def __init__(self, hotline_ids: frozenset[int] | None = None) -> None:
        self.hotline_ids = hotline_ids
        self.frames: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        self.dropped = 0

    def push(self, frame: str) -> None:
        if self.frames.full():
            self.frames.get_nowait()
            self.dropped += 1
        self.frames.put_nowait(frame)


@dataclass(slots=True)
class CallRow:
    tenant_id: int | None
    hotline_id: int | None
    caller: str | None
    queue_id: int | None = None
    queued_at: float | None = None
    operator_id: int | None = None
    phase: str | None = None


@dataclass(slots=True)
class OperatorSeen:
    state: str = "offline"
    reason: str | None = None
    since: float = 0.0
    offer: str | None = None  # the offer frame while ringing
    call: str | None = None  # the latest call frame (talking, held, wrap-up)
    call_data: CallData | None = None  # what that frame says
    extended: int | None = None  # the interaction whose wrap-up was extended (once)
    interaction_id: int | None = None
    handled: list[int] = field(default_factory=list)  # interactions it answered, latest last


def offer_data(
    directory: Directory, offer: cmd.Offer, call: CallRow
) -> tuple[OfferData, int | None]:
    """What the desktop shows of an offer, with the greeting line filled in for the
    operator, and the tenant it belongs to."""
    queue = directory.queues.get(offer.queue_id)
    hotline_id = call.hotline_id or (queue.hotline_id if queue else None)
    hotline = directory.hotlines.get(hotline_id) if hotline_id is not None else None
    info = directory.operator_info.get(offer.operator_id)
    greeting = ""
    if hotline is not None and info is not None:
        try:
            greeting = render_greeting(
                hotline.greeting_template,
                operator=info.display_name,
                company=hotline.tenant_name,
                hotline=hotline.name,
            )
        except GreetingTemplateError:  # saved before validation existed: show it raw
            greeting = hotline.greeting_template
    found = OfferData(
        interaction_id=offer.interaction_id,
        hotline_id=hotline_id,
        hotline=hotline.name if hotline else "",
        queue_id=offer.queue_id,
        queue=queue.name if queue else "",
        greeting=greeting,
        caller=call.caller,
        queued_at=call.queued_at,
        expires_at=offer.expires_at,
        wrap_up_seconds=queue.wrap_up_seconds if queue else 0.0,
    )
    return found, hotline.tenant_id if hotline else call.tenant_id


def queue_row(
    q: QueueMeta, acc: KpiAccumulator, waits: list[float], now: float, calls: list[WaitingCall]
) -> QueueRow:
    """One queue's wallboard row from its running sums, as ``pages/data.queue_rows`` makes
    it from the day's visits (``live/today.py``: the figures are equal)."""
    kpis = acc.result()
    longest = max(now - at for at in waits) if waits else None
    return QueueRow(
        id=q.id,
        hotline_id=q.hotline_id,
        hotline=q.hotline,
        name=q.name,
        waiting=len(waits),
        longest_wait=longest,
        offered=int(kpis["offered"] or 0),
        answered=int(kpis["answered"] or 0),
        abandoned=int(kpis["abandoned"] or 0),
        sl=kpis["sl_offered"],
        sl_target=q.sl_target,
        callback_threshold=q.callback_threshold,
        asa=kpis["asa"],
        aht=kpis["aht"],
        calls=calls,
    )


def visible(board: WallboardData, hotline_ids: frozenset[int] | None) -> WallboardData:
    """The board cut down to a site supervisor's hotlines (access rule 2)."""
    if hotline_ids is None:
        return board
    return WallboardData(
        tenant_id=board.tenant_id,
        queues=[q for q in board.queues if q.hotline_id in hotline_ids],
        operators=[o for o in board.operators if hotline_ids.intersection(o.hotline_ids)],
    )


def as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("hub.task_failed", error=repr(exc))
