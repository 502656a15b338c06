"""What the pages' WebSockets carry: a written, versioned schema (STYLE.md #7).

Every frame is one JSON object ``{"v": 1, "type": "...", "at": UNIX_SECONDS, "data": {...}}``
validated by :data:`LiveMessage`.  ``v`` changes only when a field changes meaning or goes
away; adding a field or a new ``type`` keeps ``v`` (pages ignore types they do not know).
``python -m hotline.web.live_events`` prints the JSON Schema (``docs/ws-events.schema.json``
is that output).

Desktop frames go to one operator only; wallboard frames to supervisors and admins of the
tenant, cut down to the hotlines each may see (``core/access.py`` rule 2).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "SCHEMA_VERSION",
    "CallPhase",
    "Contact",
    "DesktopCall",
    "DesktopKpis",
    "DesktopOffer",
    "DesktopOfferCancelled",
    "DesktopScreenPop",
    "DesktopState",
    "HistoryItem",
    "LiveMessage",
    "OperatorRow",
    "QueueRow",
    "WaitingCall",
    "WallboardSnapshot",
    "live_json_schema",
]

SCHEMA_VERSION: Literal[1] = 1

CallPhase = Literal["talking", "held", "wrap_up", "ended"]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = SCHEMA_VERSION
    at: float = Field(description="server time of the frame, UNIX seconds")


class StateData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    state: str = Field(description="offline, ready, not_ready, reserved, busy or wrap_up")
    reason: str | None = None
    since: float = Field(description="UNIX seconds the state began (as seen by this server)")


class DesktopState(_Frame):
    type: Literal["desktop.state"] = "desktop.state"
    data: StateData


class OfferData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    interaction_id: int
    hotline_id: int | None
    hotline: str
    queue_id: int
    queue: str
    greeting: str = Field(description="the hotline's greeting line, filled in for this operator")
    caller: str | None
    queued_at: float | None = Field(description="UNIX seconds the caller entered the queue")
    expires_at: float = Field(description="UNIX seconds the offer stops ringing")
    wrap_up_seconds: float


class DesktopOffer(_Frame):
    type: Literal["desktop.offer"] = "desktop.offer"
    data: OfferData


class InteractionRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    interaction_id: int


class DesktopOfferCancelled(_Frame):
    type: Literal["desktop.offer_cancelled"] = "desktop.offer_cancelled"
    data: InteractionRef


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    name: str
    vip: bool
    notes: str


class HistoryItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    interaction_id: int
    started_at: float
    hotline: str
    topic: str | None
    outcome: str | None
    operator: str | None
    notes: str


class ScreenPopData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    interaction_id: int
    caller: str | None
    contact: Contact | None
    history: list[HistoryItem]


class DesktopScreenPop(_Frame):
    type: Literal["desktop.screen_pop"] = "desktop.screen_pop"
    data: ScreenPopData


class CallData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    interaction_id: int
    phase: CallPhase
    hotline_id: int | None = None
    wrap_up_ends_at: float | None = Field(
        default=None, description="UNIX seconds the queue's wrap-up time runs out"
    )


class DesktopCall(_Frame):
    type: Literal["desktop.call"] = "desktop.call"
    data: CallData


class KpiData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    handled: int = Field(description="interactions this operator finished today")
    aht: float | None = Field(description="average handle time today, seconds (KPI.md aht)")


class DesktopKpis(_Frame):
    type: Literal["desktop.kpis"] = "desktop.kpis"
    data: KpiData


class WaitingCall(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    interaction_id: int
    caller: str | None = Field(description="the caller's number, when known")
    waiting_since: float = Field(
        description="UNIX seconds the caller first entered a queue (kept across moves)"
    )
    position: int = Field(description="1-based place in line in this queue")
    ringing: bool = Field(description="offered to an operator, not yet answered")


class QueueRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    hotline_id: int
    hotline: str
    name: str
    waiting: int
    longest_wait: float | None = Field(description="seconds the longest waiting caller waits")
    offered: int
    answered: int
    abandoned: int
    sl: float | None = Field(description="KPI.md sl_offered today, 0..1")
    sl_target: float
    callback_threshold: float = Field(
        description="seconds of wait past which callers are offered a callback (alert)"
    )
    asa: float | None
    aht: float | None
    calls: list[WaitingCall] = Field(
        default_factory=list,
        description="who waits now, in the order they will be served (the first 50); "
        "a supervisor may move them to another queue (POST /api/v1/interactions/{id}/move)",
    )


class OperatorRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    name: str
    state: str
    reason: str | None
    since: float
    hotline_ids: list[int]
    interaction_id: int | None


class WallboardData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tenant_id: int
    queues: list[QueueRow]
    operators: list[OperatorRow]


class WallboardSnapshot(_Frame):
    type: Literal["wallboard.snapshot"] = "wallboard.snapshot"
    data: WallboardData


LiveMessage = Annotated[
    DesktopState
    | DesktopOffer
    | DesktopOfferCancelled
    | DesktopScreenPop
    | DesktopCall
    | DesktopKpis
    | WallboardSnapshot,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(LiveMessage)


def live_json_schema() -> dict[str, Any]:
    """JSON Schema of every frame (the contract for other clients of the WebSockets)."""
    schema: dict[str, Any] = _ADAPTER.json_schema()
    schema["$id"] = f"https://hotline.example/ws-events/v{SCHEMA_VERSION}.json"
    schema["title"] = f"Hotline page WebSocket frames, version {SCHEMA_VERSION}"
    return schema


def parse_frame(text: str) -> Any:
    """A frame read back and checked (tests and other clients)."""
    return _ADAPTER.validate_json(text)


if __name__ == "__main__":
    print(json.dumps(live_json_schema(), ensure_ascii=False, indent=2))
