"""The hotline's rule "no ready before the wrap-up is recorded".

A hotline with ``topic_required`` (the admin form's «Тема и результат обязательны перед
«Готов»») wants a topic and an outcome recorded for every interaction an operator answers
on it.  The rule is kept in three places, all on the server:

Rule 1. Saving a wrap-up (``POST /desktop/wrapup``) of such a hotline's interaction
        without a topic or without an outcome is refused (422, the fields named).
Rule 2. ``POST /api/v1/agent/state {"state": "ready"}`` is refused (409
        ``wrap_up_required``) while the operator's *last answered* interaction is such a
        hotline's and lacks a topic or an outcome; the message and ``details`` name it.
        Only the last one counts: an earlier call left without a wrap-up is history once
        the operator has answered another.  A supervisor setting the operator's state
        (``/operators/{id}/state``) is not held by it.
Rule 3. The routing engine does not return the operator to ready when the queue's
        wrap-up time runs out with nothing saved: it holds them in wrap-up until the
        save sends ``WrapUpCompleted``, at most ``REQUIRED_WRAP_UP_LIMIT_SECONDS``, then
        not ready (``core/routing/engine.py`` Rule 8).

"Answered by the operator" is what the event log says: an ``answered`` line for an
interaction whose row names the operator (the row's ``operator_id`` is the last operator
who took it, so a call transferred away is the next operator's to wrap up).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from hotline.core.model import EventType
from hotline.store import models as m
from hotline.store.db import Database

__all__ = ["WRAP_UP_REQUIRED", "MissingWrapUp", "last_missing_wrap_up", "missing_fields"]

#: the ``error_id`` of a refused "ready"
WRAP_UP_REQUIRED = "wrap_up_required"


@dataclass(frozen=True, slots=True)
class MissingWrapUp:
    """An answered interaction whose hotline requires a wrap-up that is not recorded."""

    interaction_id: int
    hotline_id: int
    hotline: str
    caller: str | None
    missing: tuple[str, ...]

    @property
    def message(self) -> str:
        caller = f" from {self.caller}" if self.caller else ""
        return (
            f"interaction {self.interaction_id}{caller} on hotline {self.hotline!r} has no "
            f"{' and no '.join(self.missing)} recorded: save its wrap-up (topic and outcome) "
            "before going ready"
        )

    def details(self) -> list[dict[str, object]]:
        return [
            {
                "interaction_id": self.interaction_id,
                "hotline_id": self.hotline_id,
                "caller": self.caller,
                "missing": list(self.missing),
            }
        ]


def missing_fields(required: bool, topic_id: int | None, outcome_id: int | None) -> tuple[str, ...]:
    """``("topic", "outcome")`` or part of it: what a wrap-up still lacks (Rule 1)."""
    if not required:
        return ()
    return tuple(
        name for name, value in (("topic", topic_id), ("outcome", outcome_id)) if value is None
    )


async def hotline_requires_wrap_up(db: Database, hotline_id: int) -> tuple[bool, str]:
    """``(topic_required, name)`` of a hotline."""
    async with db.system_session() as s:
        row = (
            await s.execute(
                sa.select(m.Hotline.topic_required, m.Hotline.name).where(
                    m.Hotline.id == hotline_id
                )
            )
        ).first()
        return (False, "") if row is None else (bool(row[0]), row[1])


async def last_missing_wrap_up(db: Database, operator_id: int) -> MissingWrapUp | None:
    """Rule 2: the operator's last answered interaction, if it still needs a wrap-up."""
    async with db.system_session() as s:
        row = (
            await s.execute(
                sa.select(
                    m.Interaction.id,
                    m.Interaction.hotline_id,
                    m.Interaction.caller,
                    m.Interaction.topic_id,
                    m.Interaction.outcome_id,
                    m.Hotline.name,
                    m.Hotline.topic_required,
                )
                .join(
                    m.InteractionEventRow,
                    m.InteractionEventRow.interaction_id == m.Interaction.id,
                )
                .join(m.Hotline, m.Hotline.id == m.Interaction.hotline_id)
                .where(
                    m.Interaction.operator_id == operator_id,
                    m.InteractionEventRow.type == EventType.ANSWERED,
                )
                .order_by(m.InteractionEventRow.at.desc(), m.InteractionEventRow.id.desc())
                .limit(1)
            )
        ).first()
    if row is None:
        return None
    iid, hotline_id, caller, topic_id, outcome_id, hotline, required = row
    missing = missing_fields(bool(required), topic_id, outcome_id)
    if not missing:
        return None
    return MissingWrapUp(iid, hotline_id, hotline, caller, missing)
