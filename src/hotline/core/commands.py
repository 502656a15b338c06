"""What to do: the closed catalogue of outputs of the routing core.

The adapter performs them (ring a phone, play a prompt, append to the database); the
simulator performs them in virtual time.  ``Log`` lines are the interaction event log from
which every KPI is recomputed (``shared/KPI.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hotline.core.model import EventType, OperatorState, OverflowAction


@dataclass(frozen=True, slots=True)
class Offer:
    """Ring ``operator_id`` with the interaction until ``expires_at``; a callback offer
    means the operator accepts, then the adapter dials the customer."""

    interaction_id: int
    operator_id: int
    queue_id: int
    expires_at: float
    callback: bool = False


@dataclass(frozen=True, slots=True)
class CancelOffer:
    interaction_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class AnnounceWait:
    """Tell the waiting caller the estimated wait; offer a callback when it is long."""

    interaction_id: int
    ewt_seconds: float
    position: int
    offer_callback: bool


@dataclass(frozen=True, slots=True)
class Divert:
    """The queue gave up on the interaction (max wait): send it to voicemail, a callback
    or an external number (overflow to another queue is handled inside the core)."""

    interaction_id: int
    queue_id: int
    action: OverflowAction
    target: str | None


@dataclass(frozen=True, slots=True)
class OperatorStateChanged:
    operator_id: int
    state: OperatorState
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Log:
    """One line of the interaction's append-only event log."""

    interaction_id: int
    type: EventType
    at: float
    data: Mapping[str, object] = field(default_factory=dict)


Command = Offer | CancelOffer | AnnounceWait | Divert | OperatorStateChanged | Log
