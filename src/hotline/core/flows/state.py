"""The live state of a `FlowRun`: plain frozen data (interpreter Rule 1), and its limits.

A run's `RunState` can be stored and a run rebuilt from it with `FlowRun.restore`; the
`Phase` says where the run is within its current node (the diagram in ``interpreter.py``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "CALLBACK_DIGIT",
    "CONFIRM_TIMEOUT_SECONDS",
    "DIGITS",
    "MAX_SILENT_ENTRIES",
    "FlowRunError",
    "Phase",
    "RunState",
]

DIGITS = frozenset("0123456789*#")
"""DTMF digits a caller can press (RFC 4733 events 0-11)."""
MAX_SILENT_ENTRIES = 100
"""Rule 4: nodes entered without caller input before the run hangs up (product brief)."""
CALLBACK_DIGIT = "1"
"""Accepts the callback offered in a queue announcement or after a voicemail."""
CONFIRM_TIMEOUT_SECONDS = 5
"""Wait for the voicemail callback answer: the same as a menu's default timeout."""


class Phase(enum.StrEnum):
    """Where a run is within its current node (the diagram of Rule 2)."""

    NEW = "new"  # start() not yet called
    PROMPT = "prompt"  # the node's prompt plays
    COLLECT = "collect"  # waiting for a digit until the deadline
    RECORD = "record"  # voicemail: recording until '#' or the deadline
    CONFIRM = "confirm"  # voicemail: callback_confirm plays
    CONFIRM_COLLECT = "confirm_collect"  # voicemail: waiting for 1 until the deadline
    QUEUED = "queued"  # queue: music; the deadline asks for the next wait estimate
    ANNOUNCE = "announce"  # queue: a wait announcement plays
    CONNECTED = "connected"  # queue: an operator answered; the flow waits
    DONE = "done"  # finished: nothing more will come out


@dataclass(frozen=True, slots=True)
class RunState:
    """Everything a `FlowRun` remembers (Rule 1)."""

    node: str
    phase: Phase
    language: str
    caller: str
    tags: tuple[tuple[str, str], ...] = ()
    deadline: float | None = None
    tries: int = 0  # menu: wrong digits and timeouts so far in this node
    callback_open: bool = False  # queue: the last announcement offered a callback
    silent_entries: int = 0  # Rule 4: nodes entered since the caller's last input


class FlowRunError(RuntimeError):
    """The code driving a `FlowRun` broke its contract (our bug, not the caller's)."""
