"""A validated flow: the frozen form the interpreter runs.

Build one with `hotline.core.flows.validate.validate_flow`, which checks the document and
its graph; constructing these dataclasses by hand skips those checks (the interpreter still
terminates on any flow, thanks to its loop guard, but may hang up on a dangling reference).
Field meanings and bounds are those of the document schema (`hotline.core.flows.schema`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hotline.core.flows.actions import TransferKind

__all__ = [
    "STANDARD_PROMPTS",
    "CallbackOfferNode",
    "Flow",
    "FlowNode",
    "HangupNode",
    "HoursNode",
    "MenuNode",
    "PlayNode",
    "QueueNode",
    "SetNode",
    "SurveyNode",
    "TransferNode",
    "VoicemailNode",
    "node_type",
]

STANDARD_PROMPTS = (
    "greeting",
    "menu",
    "invalid",
    "after_hours",
    "voicemail",
    "callback_offer",
    "callback_confirm",
    "callback_accepted",
    "thanks",
    "survey",
    "ewt_intro",
    "position_intro",
    "moh",
)
"""The standard prompt set every hotline is given (Russian and English); the demo flows use
only these, and the interpreter plays ``ewt_intro``, ``position_intro``, ``callback_offer``
and ``callback_confirm`` by name."""


@dataclass(frozen=True, slots=True)
class PlayNode:
    """Play ``prompt``, then go to ``next``; a digit skips the rest when ``barge_in``."""

    id: str
    prompt: str
    next: str
    barge_in: bool = True


@dataclass(frozen=True, slots=True)
class MenuNode:
    """Play ``prompt`` and collect one digit; ``options`` maps digits to node ids."""

    id: str
    prompt: str
    options: Mapping[str, str]
    timeout: int = 5
    retries: int = 2
    invalid_prompt: str | None = None
    on_failure: str | None = None
    barge_in: bool = True


@dataclass(frozen=True, slots=True)
class HoursNode:
    """Branch on the hotline's business hours; ``holiday`` falls back to ``closed``."""

    id: str
    open: str
    closed: str
    holiday: str | None = None


@dataclass(frozen=True, slots=True)
class SetNode:
    """Tag the interaction with each of ``topic``, ``source``, ``language`` that is set."""

    id: str
    next: str
    topic: str | None = None
    source: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class QueueNode:
    """Wait in routing queue ``queue`` with music and wait-time announcements."""

    id: str
    queue: int
    announce_every: int | None = None
    callback_offer: bool = False
    music: str = "moh"
    next_after_call: str | None = None
    next_after_callback: str | None = None


@dataclass(frozen=True, slots=True)
class VoicemailNode:
    """Play ``prompt``, record a message, optionally offer a callback, then ``next``."""

    id: str
    prompt: str
    next: str
    max_seconds: int = 120
    ask_callback: bool = False


@dataclass(frozen=True, slots=True)
class SurveyNode:
    """Play ``prompt`` and collect a CSAT score 1-5, then ``next`` (answered or not)."""

    id: str
    prompt: str
    next: str
    timeout: int = 8
    barge_in: bool = True


@dataclass(frozen=True, slots=True)
class TransferNode:
    """Hand the call over to a queue, another hotline or a number; the flow ends."""

    id: str
    kind: TransferKind
    value: str


@dataclass(frozen=True, slots=True)
class CallbackOfferNode:
    """Offer a callback in queue ``queue``: ``accept_digit`` accepts, anything else declines."""

    id: str
    prompt: str
    queue: int
    next_accepted: str
    next_declined: str
    accept_digit: str = "1"
    timeout: int = 5
    barge_in: bool = True


@dataclass(frozen=True, slots=True)
class HangupNode:
    """End the call."""

    id: str


FlowNode = (
    PlayNode
    | MenuNode
    | HoursNode
    | SetNode
    | QueueNode
    | VoicemailNode
    | SurveyNode
    | TransferNode
    | CallbackOfferNode
    | HangupNode
)
"""The closed catalogue of node kinds."""


@dataclass(frozen=True, slots=True)
class Flow:
    """A validated flow: ``nodes`` by id (read-only), entered at ``start``."""

    start: str
    nodes: Mapping[str, FlowNode]


_NODE_TYPES: dict[type, str] = {
    PlayNode: "play",
    MenuNode: "menu",
    HoursNode: "hours",
    SetNode: "set",
    QueueNode: "queue",
    VoicemailNode: "voicemail",
    SurveyNode: "survey",
    TransferNode: "transfer",
    CallbackOfferNode: "callback_offer",
    HangupNode: "hangup",
}


def node_type(node: FlowNode) -> str:
    """The document's ``type`` of ``node`` (``"menu"`` for a `MenuNode`)."""
    return _NODE_TYPES[type(node)]
