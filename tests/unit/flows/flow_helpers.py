"""Shared helpers for the flow tests: validate a document, build runs, spell actions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hotline.core.flows import STANDARD_PROMPTS, Flow, FlowRun, validate_flow
from hotline.core.flows.actions import LogIvr, Play, Prompt, PromptItem
from hotline.core.hours import BusinessHours

QUEUES = frozenset({1, 2, 3, 7})
PROMPTS = frozenset(STANDARD_PROMPTS) | {"greeting_en", "sales_menu"}
CALLER = "+79161234567"
ALWAYS_OPEN = BusinessHours.always_open("Europe/Moscow")

# The example of the product brief, every node type once.
EXAMPLE: dict[str, Any] = {
    "start": "greet",
    "nodes": {
        "greet": {"type": "play", "prompt": "greeting", "next": "main", "barge_in": False},
        "main": {
            "type": "hours",
            "open": "menu",
            "closed": "after_hours",
            "holiday": "after_hours",
        },
        "menu": {
            "type": "menu",
            "prompt": "menu",
            "options": {"1": "accounting", "2": "cb", "0": "xfer"},
            "timeout": 5,
            "retries": 2,
            "invalid_prompt": "invalid",
            "on_failure": "xfer",
        },
        "accounting": {"type": "set", "topic": "accounting", "next": "q_acc"},
        "q_acc": {
            "type": "queue",
            "queue": 3,
            "announce_every": 60,
            "callback_offer": True,
            "music": "moh",
            "next_after_call": "survey",
            "next_after_callback": "bye",
        },
        "after_hours": {
            "type": "voicemail",
            "prompt": "after_hours",
            "max_seconds": 120,
            "ask_callback": True,
            "next": "bye",
        },
        "survey": {"type": "survey", "prompt": "survey", "timeout": 8, "next": "bye"},
        "bye": {"type": "play", "prompt": "thanks", "next": "end"},
        "end": {"type": "hangup"},
        "xfer": {"type": "transfer", "target": {"kind": "number", "value": "+74951234567"}},
        "cb": {
            "type": "callback_offer",
            "prompt": "callback_offer",
            "accept_digit": "1",
            "next_declined": "q_acc",
            "next_accepted": "bye",
        },
    },
}


def load(document: Any) -> Flow:
    """Validate against the standard prompts (and two more) and queues 1, 2, 3, 7."""
    return validate_flow(
        document, prompt_exists=PROMPTS.__contains__, queue_exists=QUEUES.__contains__
    )


def make_run(
    nodes: dict[str, Any],
    *,
    start: str | None = None,
    hours: BusinessHours = ALWAYS_OPEN,
    language: str = "ru",
) -> FlowRun:
    """A run of the flow ``{start: first node, nodes: nodes}`` (validated)."""
    flow = load({"start": start or next(iter(nodes)), "nodes": nodes})
    return FlowRun(flow, hours=hours, language=language, caller=CALLER)


def play(*items: str | PromptItem, barge_in: bool = True, language: str = "ru") -> Play:
    """``Play`` of prompt names (and number/duration items)."""
    pieces = tuple(Prompt(item) if isinstance(item, str) else item for item in items)
    return Play(pieces, barge_in, language)


def log(node: str, kind: str, **extra: object) -> LogIvr:
    return LogIvr(node, {"node": node, "type": kind, **extra})


def ids(problems: Iterable[Any]) -> list[tuple[str, str | None]]:
    return [(problem.path, problem.node) for problem in problems]
