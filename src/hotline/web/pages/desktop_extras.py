"""The operator desktop's script panel: the hotline's scripts for the page, and the path
an operator took through one, checked and stored with the wrap-up.

Where the path is stored: the ``interactions`` table has no column for it and the event
log's types are a closed catalogue that KPIs are folded from, so (without a migration)
the path goes to the audit log, one ``script_path`` entry per wrap-up with
``entity="interaction"``, ``entity_id`` the interaction's id and ``details`` the script
and the steps taken -- written in the same transaction as the topic, outcome and notes,
so both are saved or neither.  :func:`script_paths` reads them back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field

from hotline.store import models as m
from hotline.store.db import Database
from hotline.web.api.fields import Identifier

__all__ = [
    "SCRIPT_PATH_ACTION",
    "ScriptPath",
    "ScriptPathError",
    "check_path",
    "load_desktop_extras",
    "save_wrap_up",
    "script_paths",
]

SCRIPT_PATH_ACTION = "script_path"


class ScriptChoice(BaseModel):
    step: Identifier
    answer: int = Field(ge=0, le=19, description="index of the answer button chosen")


class ScriptPath(BaseModel):
    script_id: int = Field(ge=1, le=2**31 - 1)
    choices: list[ScriptChoice] = Field(default_factory=list, max_length=500)


class ScriptPathError(ValueError):
    """The path does not follow the script; the message names the place (``script.choices[i]``)."""


async def load_desktop_extras(db: Database, hotline_ids: list[int]) -> dict[str, Any]:
    """The operator's hotlines for the extras' page data: id, name, time zone, scripts
    (``{id, name, start_step, steps}`` each) and active offer templates (``{id, name,
    language}``)."""
    hotlines: list[dict[str, Any]] = []
    if not hotline_ids:
        return {"hotlines": hotlines}
    async with db.system_session() as s:
        by_id: dict[int, dict[str, Any]] = {}
        for h in await s.scalars(
            sa.select(m.Hotline).where(m.Hotline.id.in_(hotline_ids)).order_by(m.Hotline.id)
        ):
            by_id[h.id] = {
                "id": h.id,
                "name": h.name,
                "timezone": h.timezone,
                "scripts": [],
                "offers": [],
            }
            hotlines.append(by_id[h.id])
        for r in await s.scalars(
            sa.select(m.Script).where(m.Script.hotline_id.in_(hotline_ids)).order_by(m.Script.id)
        ):
            by_id[r.hotline_id]["scripts"].append(
                {"id": r.id, "name": r.name, "start_step": r.start_step, "steps": r.steps}
            )
        for t in await s.scalars(
            sa.select(m.OfferTemplate)
            .where(m.OfferTemplate.hotline_id.in_(hotline_ids), m.OfferTemplate.active.is_(True))
            .order_by(m.OfferTemplate.id)
        ):
            by_id[t.hotline_id]["offers"].append(
                {"id": t.id, "name": t.name, "language": t.language}
            )
    return {"hotlines": hotlines}


def check_path(start: str, steps: dict[str, Any], path: ScriptPath) -> list[dict[str, Any]]:
    """The path as stored (step, answer index, label, next step), if it follows the graph:
    it begins at the start step, each answer exists, and each step is where the previous
    answer led."""
    expected: str | None = start
    stored: list[dict[str, Any]] = []
    for i, choice in enumerate(path.choices):
        where = f"script.choices[{i}]"
        if expected is None:
            raise ScriptPathError(f"{where}: the script had ended at the previous answer")
        if choice.step != expected:
            raise ScriptPathError(f"{where}.step: expected {expected!r}, got {choice.step!r}")
        answers = (steps.get(choice.step) or {}).get("answers") or []
        if choice.answer >= len(answers):
            raise ScriptPathError(
                f"{where}.answer: step {choice.step!r} has {len(answers)} answer(s)"
            )
        answer = answers[choice.answer]
        expected = answer.get("next")
        stored.append(
            {"step": choice.step, "answer": choice.answer, "label": answer.get("label", "")}
        )
    return stored


async def validated_path(
    db: Database, hotline_id: int, path: ScriptPath
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The script row's summary and the checked path; the script must be the hotline's."""
    async with db.system_session() as s:
        script = await s.get(m.Script, path.script_id)
        if script is None or script.hotline_id != hotline_id:
            raise ScriptPathError(
                f"script.script_id: {path.script_id} is not a script of this hotline"
            )
        return {"id": script.id, "name": script.name}, check_path(
            script.start_step, script.steps, path
        )


async def save_wrap_up(
    db: Database,
    interaction_id: int,
    values: dict[str, object],
    *,
    tenant_id: int,
    user_id: int,
    script: tuple[dict[str, Any], list[dict[str, Any]]] | None,
    now: dt.datetime,
) -> None:
    """Topic, outcome, notes and (when given) the script path, in one transaction."""
    async with db.system_session() as s:
        await s.execute(
            sa.update(m.Interaction).where(m.Interaction.id == interaction_id).values(**values)
        )
        if script is not None:
            summary, choices = script
            s.add(
                m.AuditEntry(
                    tenant_id=tenant_id,
                    user_id=user_id,
                    at=now,
                    action=SCRIPT_PATH_ACTION,
                    entity="interaction",
                    entity_id=str(interaction_id),
                    details={
                        "script_id": summary["id"],
                        "script": summary["name"],
                        "path": choices,
                    },
                )
            )
        await s.commit()


async def script_paths(db: Database, interaction_id: int) -> list[dict[str, Any]]:
    """The stored script paths of an interaction, oldest first (one per wrap-up save)."""
    async with db.system_session() as s:
        rows = await s.scalars(
            sa.select(m.AuditEntry.details)
            .where(
                m.AuditEntry.action == SCRIPT_PATH_ACTION,
                m.AuditEntry.entity == "interaction",
                m.AuditEntry.entity_id == str(interaction_id),
            )
            .order_by(m.AuditEntry.id)
        )
        return list(rows)
