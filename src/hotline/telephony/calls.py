"""Per-call state of the B2BUA: plain data, one :class:`Call` per caller, one
:class:`OperatorLeg` per operator phone rung for it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hotline.core.flows.interpreter import FlowRun
from hotline.live.directory import HotlineInfo
from hotline.telephony.prompts import PromptLibrary
from hotline.telephony.sip.dialog import Dialog
from hotline.telephony.sip.message import SipRequest
from hotline.telephony.sip.transaction import Address, ClientKey, ServerKey

__all__ = ["Call", "CallPhase", "OperatorLeg"]


class CallPhase(enum.Enum):
    IVR = "ivr"  # the flow runs (prompts, menu, voicemail)
    QUEUED = "queued"  # waiting for an operator (music, announcements)
    TALKING = "talking"  # bridged to an operator
    HELD = "held"  # the operator put the caller on hold
    AFTER_CALL = "after_call"  # the operator left; the flow continues (survey)
    EXTERNAL = "external"  # transferred to an outside number: bridged to it, no operator
    ENDED = "ended"


@dataclass(slots=True, eq=False)
class OperatorLeg:
    """The operator's side of a call: a SIP phone rung with our INVITE, or (``browser``)
    the browser softphone, which has no SIP dialog: it rings on the desktop page and
    answers through the API (``B2bua.answer_in_browser``)."""

    operator_id: int
    leg_id: str
    invite: SipRequest | None
    invite_key: ClientKey | None
    destination: Address
    transport: str
    browser: bool = False
    dialog: Dialog | None = None
    answered: bool = False
    cancelled: bool = False


@dataclass(slots=True, eq=False)
class Call:
    interaction_id: int
    hotline: HotlineInfo
    dialog: Dialog
    leg_id: str
    invite_key: ServerKey
    source: Address
    transport: str
    caller: str
    flow: FlowRun | None
    phase: CallPhase = CallPhase.IVR
    queue_id: int | None = None
    operator: OperatorLeg | None = None
    #: counts plays started: a Play whose media task finishes after a newer one began is
    #: stale and must not report ``on_prompt_finished``
    play_generation: int = 0
    playback_id: int | None = None
    recording_key: str | None = None
    recording_started_at: float = 0.0
    voicemail_key: str | None = None
    voicemail_started_at: float = 0.0
    answered_at: float | None = None
    legs: list[str] = field(default_factory=list)
    #: the prompts this call plays: the standard set with its hotline's uploads first
    prompts: PromptLibrary | None = None
    #: a transfer to an outside number: the number while dialling and after, and the
    #: leg towards it (an INVITE through the outbound trunk, like an operator phone's)
    transferring_to: str | None = None
    external: OperatorLeg | None = None
