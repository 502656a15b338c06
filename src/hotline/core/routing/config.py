"""Routing configuration as the engine sees it: queues and operators, validated data.

Built from the stored model (``hotline.core.model``) by the adapters, or from a scenario
by the simulator.  Skill requirements arrive here already parsed (``expr.Requirement``), so
an expression can never fail at routing time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hotline.core.model import (
    DEFAULT_CALLBACK_THRESHOLD_SECONDS,
    Channel,
    OverflowAction,
    RoutingStrategy,
)
from hotline.core.routing.expr import ANY, Requirement

#: How long an offer rings before it counts as missed.  15–20 s is the usual ACD default
#: (Genesys "alerting timeout" 8–30 s, Five9 15 s); 20 s keeps a caller's ring short.
DEFAULT_OFFER_TIMEOUT_SECONDS = 20.0

#: The longest a required wrap-up (``QueueConfig.wrap_up_required``) holds an operator in
#: ``wrap_up``, counted from the end of talk; then ``not_ready("wrap_up")`` (engine Rule 8).
#: ACDs leave it to the administrator with no common default (Genesys Cloud "Mandatory,
#: Time-boxed" ACW timeout, Five9 disposition timeout, Exotel 1–3600 s): 10 min is far
#: above a typical 30–120 s wrap-up, yet a desk left unattended stops counting as staffed
#: (it is ``not_ready``, out of EWT and offers) within one reporting quarter hour.
REQUIRED_WRAP_UP_LIMIT_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class ExpansionStep:
    """After waiting ``after_seconds``, also accept operators matching ``requirement``."""

    after_seconds: float
    requirement: Requirement


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """One queue.  ``steps[0]`` applies from the start (``after_seconds == 0``); later steps
    relax it (bullseye).  ``split`` makes this a routing point that forwards each arrival
    to one of its target queues in proportion to the weights (e.g. 80/20 between sites)."""

    id: int
    hotline_id: int
    name: str = ""
    channel: Channel = Channel.CALL
    priority: int = 0
    strategy: RoutingStrategy = RoutingStrategy.LONGEST_IDLE
    steps: tuple[ExpansionStep, ...] = (ExpansionStep(0.0, ANY),)
    wrap_up_seconds: float = 0.0
    offer_timeout_seconds: float = DEFAULT_OFFER_TIMEOUT_SECONDS
    callback_threshold_seconds: float = DEFAULT_CALLBACK_THRESHOLD_SECONDS
    #: added to the priority of callbacks when their turn comes (virtual hold keeps the
    #: place in line; a boost moves them ahead of later arrivals of lower priority)
    callback_priority_boost: int = 0
    max_wait_seconds: float | None = None
    overflow_action: OverflowAction | None = None
    #: queue id (as a string) for ``OverflowAction.QUEUE``, a number for ``EXTERNAL``
    overflow_target: str | None = None
    split: tuple[tuple[int, int], ...] = ()
    #: the hotline wants every answered interaction wrapped up (its ``topic_required``):
    #: when the wrap-up time runs out before ``WrapUpCompleted``, the operator is held in
    #: ``wrap_up`` instead of going ready (engine Rule 8)
    wrap_up_required: bool = False


@dataclass(frozen=True, slots=True)
class OperatorConfig:
    id: int
    hotline_ids: frozenset[int]
    skills: Mapping[str, int] = field(default_factory=dict)
    capacity: Mapping[Channel, int] = field(default_factory=lambda: {Channel.CALL: 1})
    #: a call may be offered while chats are open (some centers allow it; default no)
    call_while_chatting: bool = False
