"""Check a flow document and turn it into the frozen `Flow` the interpreter runs.

`validate_flow` reports every problem at once, each with the path of the offending value
(``nodes.menu.options.2``), the node it belongs to and what to do. Two passes:

1. Shape: the Pydantic models of ``schema.py`` (types, bounds, unknown keys). Their errors
   are rewritten to the same `FlowProblem` form (Pydantic's own ``loc`` names the node
   type inside the path; that is dropped).
2. Graph (``graph.py``), on the raw document so that it runs even when pass 1 found
   faults elsewhere: targets, reachability, prompts, queues, silent loops.

Then the Pydantic model is converted to the frozen dataclasses of ``flow.py``: nothing
outside ``schema.py`` and this module sees a Pydantic object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, assert_never

from pydantic import ValidationError

from hotline.core.flows.actions import TransferKind
from hotline.core.flows.errors import FlowError, FlowProblem
from hotline.core.flows.flow import (
    CallbackOfferNode,
    Flow,
    FlowNode,
    HangupNode,
    HoursNode,
    MenuNode,
    PlayNode,
    QueueNode,
    SetNode,
    SurveyNode,
    TransferNode,
    VoicemailNode,
)
from hotline.core.flows.graph import GraphChecker
from hotline.core.flows.schema import (
    DIGIT_PATTERN,
    NODE_ID_PATTERN,
    NODE_MODELS,
    PROMPT_PATTERN,
    CallbackOfferModel,
    FlowDocument,
    HangupModel,
    HoursModel,
    MenuModel,
    PlayModel,
    QueueModel,
    SetModel,
    SurveyModel,
    TransferModel,
    TransferTargetModel,
    VoicemailModel,
)

__all__ = ["FlowError", "FlowProblem", "validate_flow"]  # the errors live in errors.py

_TYPES = ", ".join(NODE_MODELS)
_MAX_SHOWN = 60  # characters of an offending input quoted in a message
_PATTERNS = {  # what each pattern of schema.py means, for messages
    NODE_ID_PATTERN: "a node id (1-64 characters of a-z, 0-9, _)",
    DIGIT_PATTERN: "a digit (one of 0-9, *, #)",
    PROMPT_PATTERN: "a prompt name (letters, digits, _ . -; not starting with . or -)",
}
_AnyNodeModel = (
    PlayModel
    | MenuModel
    | HoursModel
    | SetModel
    | QueueModel
    | VoicemailModel
    | SurveyModel
    | TransferModel
    | CallbackOfferModel
    | HangupModel
)


def validate_flow(
    document: object,
    *,
    prompt_exists: Callable[[str], bool],
    queue_exists: Callable[[int], bool],
) -> Flow:
    """Check ``document`` (parsed JSON/YAML) and return the frozen `Flow`.

    ``prompt_exists`` and ``queue_exists`` answer for the hotline's prompts and the
    tenant's queues (each name or id is asked once). Raises `FlowError` with every problem.
    """
    if not isinstance(document, Mapping):
        message = f"expected an object with start and nodes, got {_kind(document)}"
        raise FlowError([FlowProblem("", None, message)])
    problems: list[FlowProblem] = []
    model: FlowDocument | None = None
    try:
        model = FlowDocument.model_validate(document)
    except ValidationError as error:
        problems += [_from_pydantic(detail, document) for detail in error.errors()]
    checker = GraphChecker(
        document, {problem.path for problem in problems}, prompt_exists, queue_exists
    )
    problems += checker.run()
    if problems or model is None:
        raise FlowError(problems)
    return _to_flow(model)


# --- pass 1: Pydantic errors as problems ------------------------------------------------------


def _kind(value: object) -> str:
    """JSON's name for the type of ``value``, for messages."""
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    names = {str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _node_type(document: Mapping[Any, Any], node_id: object) -> str | None:
    nodes = document.get("nodes")
    raw = nodes.get(node_id) if isinstance(nodes, Mapping) else None
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    return kind if isinstance(kind, str) and kind in NODE_MODELS else None


def _from_pydantic(detail: Any, document: Mapping[Any, Any]) -> FlowProblem:
    loc = list(detail["loc"])
    node = str(loc[1]) if len(loc) >= 2 and loc[0] == "nodes" else None
    node_type = _node_type(document, loc[1]) if node is not None else None
    if node_type is not None and len(loc) >= 3 and loc[2] == node_type:
        del loc[2]  # Pydantic names the union member chosen by the tag
    kind = detail["type"]
    value = detail.get("input")
    if loc and loc[-1] == "[key]":
        loc.pop()
        meaning = _PATTERNS[NODE_ID_PATTERN if len(loc) == 2 else DIGIT_PATTERN]
        message = f"{loc[-1]!r} is not {meaning}"
    elif kind == "extra_forbidden":
        message = f"unknown key (expected one of: {', '.join(_known_keys(loc, node_type))})"
    elif kind == "missing":
        message = "is required"
    elif kind == "union_tag_invalid":
        loc.append("type")
        message = f"unknown node type {detail['ctx']['tag']!r} (expected one of: {_TYPES})"
    elif kind == "union_tag_not_found":
        loc.append("type")
        message = f"is required (one of: {_TYPES})"
    elif len(loc) == 2 and loc[0] == "nodes" and not isinstance(value, Mapping):
        message = f"a node must be an object with a type, got {_kind(value)}"
    elif kind == "value_error":
        message = str(detail["msg"]).removeprefix("Value error, ")
    elif kind == "too_short" and loc[-1] == "options":
        message = 'a menu needs at least one option, e.g. {"1": node_id}'
    elif kind == "string_pattern_mismatch" and _pattern(detail) in _PATTERNS:
        message = f"{_shown(value)} is not {_PATTERNS[_pattern(detail)]}"
    elif isinstance(value, Mapping | list):
        message = f"{detail['msg']}, got {_kind(value)}"
    else:
        message = f"{detail['msg']}, got {_shown(value)}"
    return FlowProblem(".".join(str(part) for part in loc), node, message)


def _pattern(detail: Any) -> str:
    ctx = detail.get("ctx")
    return str(ctx.get("pattern", "")) if isinstance(ctx, Mapping) else ""


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= _MAX_SHOWN else shown[: _MAX_SHOWN - 3] + "..."


def _known_keys(loc: list[Any], node_type: str | None) -> list[str]:
    if len(loc) <= 1:
        return list(FlowDocument.model_fields)
    if len(loc) == 4 and loc[2] == "target":
        return list(TransferTargetModel.model_fields)
    if node_type is not None:
        return list(NODE_MODELS[node_type].model_fields)
    return []


# --- conversion to the frozen form ------------------------------------------------------------


def _to_flow(document: FlowDocument) -> Flow:
    nodes = {node_id: _to_node(node_id, node, document) for node_id, node in document.nodes.items()}
    return Flow(document.start, MappingProxyType(nodes))


def _to_node(node_id: str, node: _AnyNodeModel, document: FlowDocument) -> FlowNode:
    match node:
        case PlayModel():
            return PlayNode(node_id, node.prompt, node.next, node.barge_in)
        case MenuModel():
            return MenuNode(
                node_id,
                node.prompt,
                MappingProxyType(dict(node.options)),
                node.timeout,
                node.retries,
                node.invalid_prompt,
                node.on_failure,
                node.barge_in,
            )
        case HoursModel():
            return HoursNode(node_id, node.open, node.closed, node.holiday)
        case SetModel():
            return SetNode(node_id, node.next, node.topic, node.source, node.language)
        case QueueModel():
            return QueueNode(
                node_id,
                node.queue,
                node.announce_every,
                node.callback_offer,
                node.music,
                node.next_after_call,
                node.next_after_callback,
            )
        case VoicemailModel():
            return VoicemailNode(
                node_id, node.prompt, node.next, node.max_seconds, node.ask_callback
            )
        case SurveyModel():
            return SurveyNode(node_id, node.prompt, node.next, node.timeout, node.barge_in)
        case TransferModel():
            return TransferNode(node_id, TransferKind(node.target.kind), node.target.value)
        case CallbackOfferModel():
            queue = node.queue
            if queue is None:  # checked by _GraphChecker: next_declined is a queue node
                declined = document.nodes[node.next_declined]
                if not isinstance(declined, QueueModel):
                    raise AssertionError(f"nodes.{node_id}: next_declined is not a queue")
                queue = declined.queue
            return CallbackOfferNode(
                node_id,
                node.prompt,
                queue,
                node.next_accepted,
                node.next_declined,
                node.accept_digit,
                node.timeout,
                node.barge_in,
            )
        case HangupModel():
            return HangupNode(node_id)
        case _:
            assert_never(node)
