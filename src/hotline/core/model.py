"""Domain vocabulary of DESIGN.md §1 as plain frozen data.

These types are what the routing engine, the flow interpreter, the KPI engine and the
simulator work on.  Persistence (``hotline.store``) maps its rows to and from them; nothing
here knows about a database, HTTP or SIP.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


class Role(enum.StrEnum):
    """What a user may do.  Scope rules live in :mod:`hotline.core.access`."""

    ADMIN = "admin"  # the whole installation
    SUPERVISOR = "supervisor"  # one tenant (optionally only some of its hotlines: a site)
    OPERATOR = "operator"  # handles interactions of the hotlines assigned to them
    CLIENT = "client"  # read-only reports of its own tenant


class Channel(enum.StrEnum):
    CALL = "call"
    CHAT = "chat"
    EMAIL = "email"
    SMS = "sms"
    MESSENGER = "messenger"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class OperatorState(enum.StrEnum):
    """Operator presence (DESIGN.md §1); transitions belong to the routing core."""

    OFFLINE = "offline"
    READY = "ready"
    NOT_READY = "not_ready"
    RESERVED = "reserved"
    BUSY = "busy"
    WRAP_UP = "wrap_up"


class RoutingStrategy(enum.StrEnum):
    LONGEST_IDLE = "longest_idle"  # the default of most ACDs (Genesys, Five9)
    LEAST_OCCUPIED = "least_occupied"
    BEST_SKILL = "best_skill"
    ROUND_ROBIN = "round_robin"
    RANDOM = "random"


class AfterHoursAction(enum.StrEnum):
    """What a hotline does with a call outside business hours."""

    VOICEMAIL = "voicemail"  # record a message; a callback request is created from it
    CALLBACK = "callback"  # take the caller's number for a callback, no message
    MESSAGE_AND_HANGUP = "message_and_hangup"
    FORWARD = "forward"  # to ``after_hours_target`` (an external number)


class OverflowAction(enum.StrEnum):
    QUEUE = "queue"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    EXTERNAL = "external"


class EventType(enum.StrEnum):
    """The closed catalogue of interaction events; reports are recomputed from these."""

    ARRIVED = "arrived"
    IVR = "ivr"
    QUEUED = "queued"
    OFFERED = "offered"
    OFFER_TIMEOUT = "offer_timeout"
    ANSWERED = "answered"
    HELD = "held"
    RESUMED = "resumed"
    TRANSFERRED = "transferred"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"
    CALLBACK_REQUESTED = "callback_requested"
    WRAP_UP_STARTED = "wrap_up_started"
    COMPLETED = "completed"


class CallbackStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its turn (keeps the caller's place in line)
    DIALING = "dialing"
    COMPLETED = "completed"
    FAILED = "failed"  # all attempts used up; stays visible to supervisors
    CANCELLED = "cancelled"


class CallbackOrigin(enum.StrEnum):
    QUEUE = "queue"
    VOICEMAIL = "voicemail"
    OPERATOR = "operator"


#: Default callback threshold: offer a callback when the estimated wait exceeds 3 minutes
#: (the product brief; Genesys and Five9 ship comparable defaults).
DEFAULT_CALLBACK_THRESHOLD_SECONDS = 180
#: Industry-standard 80/20 service-level target (80 % answered within 20 s).
DEFAULT_SERVICE_LEVEL_TARGET = 0.8
DEFAULT_SERVICE_LEVEL_SECONDS = 20
MAX_SKILL_LEVEL = 10
MIN_SKILL_LEVEL = 1


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class Hotline:
    """One service line of a tenant.  ``business_hours`` is a spec for :mod:`hotline.core.hours`."""

    id: int
    tenant_id: int
    name: str
    dids: tuple[str, ...]
    timezone: str
    language: str
    greeting_template: str
    greeting_prompt: str | None = None
    business_hours: Mapping[str, object] = field(default_factory=dict)
    after_hours_action: AfterHoursAction = AfterHoursAction.VOICEMAIL
    after_hours_target: str | None = None
    topic_required: bool = False


@dataclass(frozen=True, slots=True)
class Queue:
    id: int
    tenant_id: int
    hotline_id: int
    name: str
    priority: int = 0
    strategy: RoutingStrategy = RoutingStrategy.LONGEST_IDLE
    skill_requirement: str = ""
    service_level_target: float = DEFAULT_SERVICE_LEVEL_TARGET
    service_level_seconds: int = DEFAULT_SERVICE_LEVEL_SECONDS
    short_abandon_seconds: int = 5
    wrap_up_seconds: int = 30
    callback_threshold_seconds: int = DEFAULT_CALLBACK_THRESHOLD_SECONDS
    max_wait_seconds: int | None = None
    overflow_action: OverflowAction | None = None
    overflow_target: str | None = None


@dataclass(frozen=True, slots=True)
class Skill:
    id: int
    tenant_id: int
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Operator:
    """An operator as routing sees it: who they are, where they may work, what they can do."""

    id: int
    tenant_id: int
    login: str
    display_name: str
    hotline_ids: frozenset[int]
    skills: Mapping[str, int]
    capacity: Mapping[Channel, int]


@dataclass(frozen=True, slots=True)
class InteractionEvent:
    """One line of an interaction's append-only log."""

    interaction_id: int
    seq: int
    type: EventType
    at: datetime
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Interaction:
    id: int
    tenant_id: int
    hotline_id: int
    channel: Channel
    direction: Direction
    queue_id: int | None
    contact_id: int | None
    operator_id: int | None
    source: str | None
    started_at: datetime
    ended_at: datetime | None
    topic_id: int | None = None
    outcome_id: int | None = None
    events: tuple[InteractionEvent, ...] = ()
