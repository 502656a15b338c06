"""What happened: the closed catalogue of inputs to the routing core.

Adapters (SIP, HTTP, channels) and the simulator translate the outside world into these
and hand them to :meth:`hotline.core.routing.engine.RoutingEngine.handle` with ``now``.
Times are seconds on the driver's clock (Unix time in production, virtual in the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.model import Channel


@dataclass(frozen=True, slots=True)
class OperatorWentReady:
    """The operator is available (from offline, not ready, or ending wrap-up early)."""

    operator_id: int


@dataclass(frozen=True, slots=True)
class OperatorWentNotReady:
    operator_id: int
    reason: str = "break"


@dataclass(frozen=True, slots=True)
class OperatorLoggedOut:
    operator_id: int


@dataclass(frozen=True, slots=True)
class InteractionArrived:
    """An interaction enters a queue (after the IVR).  ``priority`` adds to the queue's
    priority: VIP contacts, callbacks, transfers may be boosted."""

    interaction_id: int
    queue_id: int
    channel: Channel = Channel.CALL
    priority: int = 0


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    interaction_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class OfferDeclined:
    """The operator refused or missed the offer: same as the no-answer timeout."""

    interaction_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class CallerAbandoned:
    """The caller hung up (chat closed) before an operator answered."""

    interaction_id: int


@dataclass(frozen=True, slots=True)
class CallbackAccepted:
    """The waiting caller chose to be called back: the caller leaves, the place in line
    stays (virtual hold)."""

    interaction_id: int
    number: str = ""


@dataclass(frozen=True, slots=True)
class InteractionHeld:
    interaction_id: int


@dataclass(frozen=True, slots=True)
class InteractionResumed:
    interaction_id: int


@dataclass(frozen=True, slots=True)
class InteractionTransferred:
    """The operator sends the interaction to another queue; the operator goes to wrap-up."""

    interaction_id: int
    queue_id: int


@dataclass(frozen=True, slots=True)
class MoveWaiting:
    """A supervisor moves an interaction that is still waiting (or ringing, not yet
    answered) to another queue.  It keeps its place in line by seniority: the new queue
    orders it by its original entry time (engine Rule 7).  ``by`` is the user who moved it
    (for the log); a callback already promised, or one being answered, is not moved."""

    interaction_id: int
    queue_id: int
    by: int | None = None


@dataclass(frozen=True, slots=True)
class InteractionEnded:
    """Talk ended (either side hung up, chat closed after answer): wrap-up starts."""

    interaction_id: int


@dataclass(frozen=True, slots=True)
class WrapUpExtended:
    operator_id: int
    seconds: float


@dataclass(frozen=True, slots=True)
class WrapUpCompleted:
    """The operator saved the wrap-up (topic and outcome) of ``interaction_id``.  Only a
    queue with ``wrap_up_required`` waits for it (engine Rule 8); elsewhere, or for an
    interaction the operator is not wrapping up, it changes nothing."""

    operator_id: int
    interaction_id: int


Event = (
    OperatorWentReady
    | OperatorWentNotReady
    | OperatorLoggedOut
    | InteractionArrived
    | OfferAccepted
    | OfferDeclined
    | CallerAbandoned
    | CallbackAccepted
    | InteractionHeld
    | InteractionResumed
    | InteractionTransferred
    | MoveWaiting
    | InteractionEnded
    | WrapUpExtended
    | WrapUpCompleted
)
