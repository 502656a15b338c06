"""A routing engine driven along a timeline, for the routing tests (STYLE §15).

``Run.at(t, *events)`` fires every deadline up to ``t`` (each at its own time), then feeds
the events at ``t``; every command is kept with the time it came out, and the helpers
select what a test asserts on: log lines, offers, operator states, announcements.
"""

from __future__ import annotations

from typing import Any

from hotline.core import events as ev
from hotline.core.commands import AnnounceWait, Command, Log, Offer, OperatorStateChanged
from hotline.core.routing.config import OperatorConfig, QueueConfig
from hotline.core.routing.engine import RoutingEngine


class Run:
    """Drive an engine in virtual time and keep every command with the time it came out."""

    def __init__(
        self, queues: list[QueueConfig], operators: list[OperatorConfig], seed: int = 0
    ) -> None:
        self.engine = RoutingEngine(queues, operators, seed=seed)
        self.out: list[tuple[float, Command]] = []
        self.now = 0.0

    def until(self, now: float) -> None:
        """Fire every deadline up to ``now``, each at its own time."""
        assert now >= self.now, "a timeline runs forward"
        self.now = now
        while (deadline := self.engine.next_deadline()) is not None and deadline <= now:
            self.out += [(deadline, c) for c in self.engine.on_timer(deadline)]

    def at(self, now: float, *events: ev.Event) -> None:
        self.until(now)
        for event in events:
            self.out += [(now, c) for c in self.engine.handle(event, now)]

    def log(self, *keys: str) -> list[tuple[Any, ...]]:
        """``(at, interaction, type, *selected data)`` for each log line."""
        return [
            (c.at, c.interaction_id, c.type, *(c.data[k] for k in keys if k in c.data))
            for _, c in self.out
            if isinstance(c, Log)
        ]

    def offers(self) -> list[tuple[float, int, int]]:
        return [(t, c.interaction_id, c.operator_id) for t, c in self.out if isinstance(c, Offer)]

    def serve(self, now: float, iid: int, seconds: float) -> None:
        """The operator ringing with ``iid`` answers at ``now`` and talks ``seconds``."""
        operator_id = next(o for _, i, o in reversed(self.offers()) if i == iid)
        self.at(now, ev.OfferAccepted(iid, operator_id))
        self.at(now + seconds, ev.InteractionEnded(iid))

    def states(self, operator_id: int) -> list[tuple[float, str, str | None]]:
        return [
            (t, c.state, c.reason)
            for t, c in self.out
            if isinstance(c, OperatorStateChanged) and c.operator_id == operator_id
        ]

    def queued(self) -> list[tuple[Any, ...]]:
        """``(at, interaction, position, ewt)`` of each ``QUEUED`` line."""
        return [
            (c.at, c.interaction_id, c.data["position"], c.data["ewt"])
            for _, c in self.out
            if isinstance(c, Log) and c.type == "queued"
        ]

    def announced(self) -> list[tuple[float, int, float, int, bool]]:
        return [
            (t, c.interaction_id, c.ewt_seconds, c.position, c.offer_callback)
            for t, c in self.out
            if isinstance(c, AnnounceWait)
        ]
