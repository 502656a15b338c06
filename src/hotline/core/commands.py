"""What to do: the closed catalogue of outputs of the routing core.

The adapter performs them (ring a phone, play a prompt, append to the database); the
simulator performs them in virtual time.  ``Log`` lines are the interaction event log from
which every KPI is recomputed (``shared/KPI.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hotline.core.model import EventType, OperatorState, OverflowAction


@dataclass(frozen=True, slots=True, init=False)
class Offer:
    """Ring ``operator_id`` with the interaction until ``expires_at``; a callback offer
    means the operator accepts, then the adapter dials the customer.

    ``__init__`` is written out for speed, as for :class:`Log` (one offer per decision).
    """

    interaction_id: int
    operator_id: int
    queue_id: int
    expires_at: float
    callback: bool = False

    def __init__(
        self,
        interaction_id: int,
        operator_id: int,
        queue_id: int,
        expires_at: float,
        callback: bool = False,
    ) -> None:
        _set_offer_interaction_id(self, interaction_id)
        _set_offer_operator_id(self, operator_id)
        _set_offer_queue_id(self, queue_id)
        _set_offer_expires_at(self, expires_at)
        _set_offer_callback(self, callback)


_set_offer_interaction_id = Offer.__dict__["interaction_id"].__set__
_set_offer_operator_id = Offer.__dict__["operator_id"].__set__
_set_offer_queue_id = Offer.__dict__["queue_id"].__set__
_set_offer_expires_at = Offer.__dict__["expires_at"].__set__
_set_offer_callback = Offer.__dict__["callback"].__set__


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


@dataclass(frozen=True, slots=True, init=False)
class Log:
    """One line of the interaction's append-only event log.

    ``Log(interaction_id, type, at, data={})``, positional or by keyword, like any frozen
    dataclass; ``__init__`` is written out only because the generated one of a frozen
    dataclass (``object.__setattr__`` looked up per field) costs twice as much, and the
    engine writes several lines per interaction.
    """

    interaction_id: int
    type: EventType
    at: float
    data: Mapping[str, object] = field(default_factory=dict)

    def __init__(
        self,
        interaction_id: int,
        type: EventType,
        at: float,
        data: Mapping[str, object] | None = None,
    ) -> None:
        _set_interaction_id(self, interaction_id)
        _set_type(self, type)
        _set_at(self, at)
        _set_data(self, {} if data is None else data)


# The slots' own setters: what ``object.__setattr__`` ends up calling, without the lookup.
_set_interaction_id = Log.__dict__["interaction_id"].__set__
_set_type = Log.__dict__["type"].__set__
_set_at = Log.__dict__["at"].__set__
_set_data = Log.__dict__["data"].__set__


Command = Offer | CancelOffer | AnnounceWait | Divert | OperatorStateChanged | Log
