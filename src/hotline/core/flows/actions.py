"""What a flow run asks call control to do: the closed catalogue of `FlowAction`.

Every `FlowRun` method returns a list of these, in the order they must be performed. Call
control (the SIP B2BUA) performs them and reports back through the run's ``on_*`` methods;
the simulator performs them in virtual time. Each is a frozen dataclass, so an adapter can
``match`` on `FlowAction` and close it with ``assert_never``.

Conventions the adapter relies on:

* A `Play` replaces whatever the call hears, music on hold included; when it ends by itself
  the adapter calls `FlowRun.on_prompt_finished`. After a `StopPlayback` (barge-in) the
  adapter does *not* report the stopped `Play` as finished.
* Prompts are names (``"greeting"``, ``"menu"``), resolved by the adapter against the
  hotline's prompts in `Play.language`; numbers and durations are rendered by the adapter
  into digit prompts of that language (Russian needs the grammatical gender of the counted
  noun, hence `Number.gender`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CallbackRequested",
    "Duration",
    "Enqueue",
    "FlowAction",
    "Hangup",
    "HangupReason",
    "LogIvr",
    "Number",
    "Play",
    "Prompt",
    "PromptItem",
    "RequestCallback",
    "RequestWaitEstimate",
    "SetTag",
    "StartMusic",
    "StartVoicemail",
    "StopPlayback",
    "StopVoicemail",
    "SurveyAnswered",
    "Transfer",
    "TransferKind",
]


class TransferKind(enum.StrEnum):
    """Where a `transfer` node sends the call."""

    QUEUE = "queue"  # value: a queue id, as decimal digits
    HOTLINE = "hotline"  # value: another hotline (its id or slug); its own flow takes over
    NUMBER = "number"  # value: a phone number or extension dialled out by call control


class HangupReason(enum.StrEnum):
    """Why the flow ended the call (the ``reason`` of `Hangup`, kept in the event log)."""

    FLOW = "flow"  # a ``hangup`` node was reached
    FLOW_LOOP = "flow_loop"  # the loop guard: too many nodes entered without caller input
    MENU_FAILED = "menu_failed"  # a menu ran out of retries and has no ``on_failure``
    OPERATOR_HUNG_UP = "operator_hung_up"  # the queue has no ``next_after_call``


# --- prompt items ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prompt:
    """A recorded or generated prompt of the hotline, by name."""

    name: str


@dataclass(frozen=True, slots=True)
class Number:
    """A cardinal number to be spoken (a queue position, for instance)."""

    value: int
    gender: Literal["masculine", "feminine", "neuter"] | None = None


@dataclass(frozen=True, slots=True)
class Duration:
    """A span of time to be spoken ("about four minutes"), in whole seconds."""

    seconds: int


PromptItem = Prompt | Number | Duration
"""One piece of a `Play`; the pieces are played back to back."""


# --- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Play:
    """Play ``items`` in ``language``; a digit may interrupt them when ``barge_in``."""

    items: tuple[PromptItem, ...]
    barge_in: bool
    language: str


@dataclass(frozen=True, slots=True)
class StopPlayback:
    """Stop the `Play` (or music) in progress: the caller barged in or was answered."""


@dataclass(frozen=True, slots=True)
class StartMusic:
    """Loop the music-on-hold prompt ``name`` until the next `Play` or `StopPlayback`."""

    name: str


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Put the call in queue ``queue_id`` (the routing engine's ``Arrived``)."""

    queue_id: int


@dataclass(frozen=True, slots=True)
class RequestWaitEstimate:
    """Ask routing for the caller's EWT and position; answer with `on_wait_estimate`."""


@dataclass(frozen=True, slots=True)
class RequestCallback:
    """The caller accepted a callback: tell routing ``CallbackAccepted`` for ``queue_id``.

    When the caller waits in that queue the callback keeps the caller's place. The flow
    continues (a thank-you prompt, then a hangup), so the adapter does not end the call.
    """

    queue_id: int


@dataclass(frozen=True, slots=True)
class StartVoicemail:
    """Start recording the caller's message; the flow stops it after ``max_seconds``."""

    max_seconds: int


@dataclass(frozen=True, slots=True)
class StopVoicemail:
    """Stop recording and keep the message (also sent when the caller hangs up)."""


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """After a voicemail, the caller asked to be called back at ``number``."""

    number: str


@dataclass(frozen=True, slots=True)
class Transfer:
    """Hand the call over (see `TransferKind`); the flow run is finished after it."""

    kind: TransferKind
    value: str


@dataclass(frozen=True, slots=True)
class SetTag:
    """Tag the interaction (``topic``, ``source`` or ``language``)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class SurveyAnswered:
    """The caller gave the CSAT ``score``, 1 (worst) to 5 (best)."""

    score: int


@dataclass(frozen=True, slots=True)
class LogIvr:
    """A line for the interaction's event log (type ``ivr``).

    One per node entered: ``{"node": id, "type": node type}`` plus ``"digit"`` when a digit
    led there and ``"branch"`` (``open``, ``closed``, ``holiday``) for an ``hours`` node.
    When the caller hangs up during the flow one more line says where:
    ``{"node": id, "type": node type, "event": "caller_hung_up"}``.
    """

    node: str
    data: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call."""

    reason: HangupReason


FlowAction = (
    Play
    | StopPlayback
    | StartMusic
    | Enqueue
    | RequestWaitEstimate
    | RequestCallback
    | StartVoicemail
    | StopVoicemail
    | CallbackRequested
    | Transfer
    | SetTag
    | SurveyAnswered
    | LogIvr
    | Hangup
)
"""The closed catalogue of flow outputs."""
