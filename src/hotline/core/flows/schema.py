"""The flow document: Pydantic models of a hotline's IVR, and its JSON Schema.

A flow is data (STYLE §8): administrators write it as YAML or JSON, the API stores it in
versions, and `hotline.core.flows.validate.validate_flow` turns it into the frozen `Flow`
that the interpreter runs. Pydantic is used here only to check the shape of the document
(types, bounds, unknown keys); the graph checks (dangling references, reachability, loops,
prompts and queues that exist) are in ``validate.py``, and nothing outside these two
modules sees a Pydantic object. Example::

    start: main
    nodes:
      main: {type: hours, open: menu, closed: after_hours}
      menu: {type: menu, prompt: menu, options: {"1": q_acc, "0": q_acc}}
      q_acc: {type: queue, queue: 3, announce_every: 60}
      after_hours: {type: voicemail, prompt: after_hours, next: end}
      end: {type: hangup}

Rules: node ids match ``[a-z0-9_]{1,64}``; digits are one of ``0-9 * #`` (a bare YAML
number such as ``1:`` is accepted as the digit ``"1"``); every other key is refused;
numbers are bounded (timeouts 1-60 s, retries 0-9, voicemail 5-600 s, announcements every
20-3600 s or never). The models are strict: ``timeout: "5"`` or ``barge_in: 1`` is refused,
so a document means exactly what it says.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

__all__ = [
    "DIGIT_PATTERN",
    "MAX_NODES",
    "NODE_ID_PATTERN",
    "NODE_MODELS",
    "PROMPT_PATTERN",
    "CallbackOfferModel",
    "FlowDocument",
    "HangupModel",
    "HoursModel",
    "MenuModel",
    "NodeModel",
    "PlayModel",
    "QueueModel",
    "SetModel",
    "SurveyModel",
    "TransferModel",
    "TransferTargetModel",
    "VoicemailModel",
    "flow_json_schema",
]

NODE_ID_PATTERN = r"^[a-z0-9_]{1,64}$"
DIGIT_PATTERN = r"^[0-9*#]$"
PROMPT_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
"""Prompt names: a file-safe name that cannot be ``.`` or ``..`` (the adapter maps names
to files; the interpreter never does)."""
MAX_NODES = 1000
"""Far above any real IVR (a large bank's has ~200 nodes); bounds validation work."""
MAX_QUEUE_ID = 2**31 - 1  # the store's integer primary keys


def _number_as_digit(value: object) -> object:
    """YAML reads ``options: {1: sales}`` with an integer key; take 0-9 as the digit."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
        return str(value)
    return value


def _number_as_text(value: object) -> object:
    """``value: 3`` of a transfer target is the queue id ``"3"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


NodeId = Annotated[str, StringConstraints(pattern=NODE_ID_PATTERN)]
Digit = Annotated[str, BeforeValidator(_number_as_digit), StringConstraints(pattern=DIGIT_PATTERN)]
PromptName = Annotated[str, StringConstraints(pattern=PROMPT_PATTERN)]
QueueId = Annotated[int, Field(ge=1, le=MAX_QUEUE_ID)]
Timeout = Annotated[int, Field(ge=1, le=60, description="seconds")]
TagValue = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PlayModel(_Model):
    """Play a prompt, then go on."""

    type: Literal["play"]
    prompt: PromptName
    next: NodeId
    barge_in: bool = Field(True, description="a digit skips the rest and goes on")


class MenuModel(_Model):
    """Play a prompt and branch on one digit."""

    type: Literal["menu"]
    prompt: PromptName
    options: Annotated[
        dict[Digit, NodeId],
        Field(
            min_length=1,
            max_length=12,
            json_schema_extra={"propertyNames": {"pattern": DIGIT_PATTERN}},
            description="digit -> node id",
        ),
    ]
    timeout: Timeout = Field(5, description="seconds to wait for a digit after the prompt")
    retries: int = Field(2, ge=0, le=9, description="replays after a wrong digit or silence")
    invalid_prompt: PromptName | None = Field(None, description="played before each replay")
    on_failure: NodeId | None = Field(None, description="after the last retry; else hang up")
    barge_in: bool = True


class HoursModel(_Model):
    """Branch on the hotline's business hours (in its time zone)."""

    type: Literal["hours"]
    open: NodeId
    closed: NodeId
    holiday: NodeId | None = Field(None, description="closed for a holiday; else `closed`")


class SetModel(_Model):
    """Tag the interaction; at least one of topic, source, language."""

    type: Literal["set"]
    next: NodeId
    topic: TagValue | None = None
    source: TagValue | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] | None = Field(
        None, description="switches the language of the following prompts"
    )

    @model_validator(mode="after")
    def _sets_something(self) -> Self:
        if self.topic is None and self.source is None and self.language is None:
            raise ValueError("a set node needs at least one of topic, source, language")
        return self


class QueueModel(_Model):
    """Wait for an operator in a routing queue."""

    type: Literal["queue"]
    queue: QueueId
    announce_every: int | None = Field(
        None, ge=20, le=3600, description="seconds between wait announcements; null: on entry"
    )
    callback_offer: bool = Field(False, description="offer a callback when routing says so")
    music: PromptName = "moh"
    next_after_call: NodeId | None = Field(None, description="after the operator hangs up")
    next_after_callback: NodeId | None = Field(
        None, description="after the caller accepts a callback (required with callback_offer)"
    )

    @model_validator(mode="after")
    def _callback_has_a_sequel(self) -> Self:
        if self.callback_offer and self.next_after_callback is None:
            raise ValueError(
                "callback_offer: true needs next_after_callback (the node that thanks the "
                "caller and hangs up)"
            )
        return self


class VoicemailModel(_Model):
    """Play a prompt, record a message, optionally take a callback request."""

    type: Literal["voicemail"]
    prompt: PromptName
    next: NodeId
    max_seconds: int = Field(120, ge=5, le=600)
    ask_callback: bool = Field(False, description="play callback_confirm: press 1")


class SurveyModel(_Model):
    """CSAT survey: a digit 1 to 5."""

    type: Literal["survey"]
    prompt: PromptName
    next: NodeId
    timeout: Timeout = 8
    barge_in: bool = True


class TransferTargetModel(_Model):
    """Where a transfer goes: a queue id, a hotline (id or slug) or a phone number."""

    kind: Literal["queue", "hotline", "number"]
    value: Annotated[str, BeforeValidator(_number_as_text)]

    @model_validator(mode="after")
    def _value_fits_kind(self) -> Self:
        rules = {
            "queue": (r"[1-9][0-9]{0,9}", "a queue id (decimal digits)"),
            "hotline": (r"[A-Za-z0-9_-]{1,64}", "a hotline id or slug"),
            "number": (r"\+?[0-9]{2,20}", "a phone number: digits with an optional leading +"),
        }
        pattern, meaning = rules[self.kind]
        if re.fullmatch(pattern, self.value) is None:
            raise ValueError(f"value {self.value!r} is not {meaning}")
        return self


class TransferModel(_Model):
    """Hand the call over; the flow ends."""

    type: Literal["transfer"]
    target: TransferTargetModel


class CallbackOfferModel(_Model):
    """Offer a callback outside a queue's announcements."""

    type: Literal["callback_offer"]
    prompt: PromptName
    next_accepted: NodeId
    next_declined: NodeId
    accept_digit: Digit = "1"
    timeout: Timeout = 5
    queue: QueueId | None = Field(
        None, description="queue of the callback; default: next_declined's queue"
    )
    barge_in: bool = True


class HangupModel(_Model):
    """End the call."""

    type: Literal["hangup"]


NodeModel = Annotated[
    PlayModel
    | MenuModel
    | HoursModel
    | SetModel
    | QueueModel
    | VoicemailModel
    | SurveyModel
    | TransferModel
    | CallbackOfferModel
    | HangupModel,
    Field(discriminator="type"),
]

NODE_MODELS: dict[str, type[_Model]] = {
    "play": PlayModel,
    "menu": MenuModel,
    "hours": HoursModel,
    "set": SetModel,
    "queue": QueueModel,
    "voicemail": VoicemailModel,
    "survey": SurveyModel,
    "transfer": TransferModel,
    "callback_offer": CallbackOfferModel,
    "hangup": HangupModel,
}
"""Node model by ``type`` tag."""


class FlowDocument(_Model):
    """A hotline's IVR flow: nodes by id, entered at ``start``."""

    model_config = ConfigDict(title="Hotline IVR flow")

    start: NodeId
    nodes: Annotated[
        dict[NodeId, NodeModel],
        Field(
            min_length=1,
            max_length=MAX_NODES,
            json_schema_extra={"propertyNames": {"pattern": NODE_ID_PATTERN}},
        ),
    ]


def flow_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a flow document, for editors and the API docs.

    It states the shape and bounds; the graph rules of `validate_flow` (references,
    reachability, loops, existing prompts and queues) cannot be said in JSON Schema.
    """
    schema = FlowDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
