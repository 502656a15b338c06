"""What call control needs to know, loaded from the database in one go.

The directory is a frozen snapshot: hotlines by dialled number (with business hours and
the published IVR flow), the routing configuration of every queue and operator, and the
operators' SIP credentials.  The call path reads it without touching the database; a
change made through the API takes effect when the snapshot is reloaded (the API asks for a
reload after publishing a flow or changing a queue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import selectinload

from hotline.core.hours import BusinessHours, HoursError, parse_hours_spec
from hotline.core.model import Channel, Role
from hotline.core.routing.config import ExpansionStep, OperatorConfig, QueueConfig
from hotline.core.routing.expr import ANY, RequirementError, parse_requirement
from hotline.store import models as m
from hotline.store.db import Database

__all__ = ["Directory", "HotlineInfo", "OperatorInfo", "TrunkInfo", "load_directory"]

log = structlog.get_logger("hotline.directory")


@dataclass(frozen=True, slots=True)
class HotlineInfo:
    id: int
    tenant_id: int
    tenant_name: str
    name: str
    language: str
    hours: BusinessHours
    greeting_template: str
    recording_enabled: bool
    #: the published flow document (validated when published), or None: a hotline
    #: without a flow sends callers straight to its first queue
    flow_document: Mapping[str, Any] | None
    queue_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    id: int
    tenant_id: int | None
    login: str
    display_name: str
    sip_ha1: str | None


@dataclass(frozen=True, slots=True)
class TrunkInfo:
    name: str
    address: str | None
    username: str | None
    sip_ha1: str | None
    outbound_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Directory:
    hotlines_by_number: Mapping[str, HotlineInfo] = field(default_factory=dict)
    hotlines: Mapping[int, HotlineInfo] = field(default_factory=dict)
    queues: Mapping[int, QueueConfig] = field(default_factory=dict)
    operators: Mapping[int, OperatorConfig] = field(default_factory=dict)
    operator_info: Mapping[int, OperatorInfo] = field(default_factory=dict)
    operators_by_login: Mapping[str, OperatorInfo] = field(default_factory=dict)
    trunks: tuple[TrunkInfo, ...] = ()

    def hotline_for(self, number: str) -> HotlineInfo | None:
        """The hotline a dialled number reaches: exact, then without ``+``/country forms."""
        found = self.hotlines_by_number.get(number)
        if found is None and number.startswith("+"):
            found = self.hotlines_by_number.get(number[1:])
        if found is None and not number.startswith("+"):
            found = self.hotlines_by_number.get("+" + number)
        return found


def _queue_config(row: m.Queue, wrap_up_required: bool) -> QueueConfig:
    """The queue as the engine routes by it; ``wrap_up_required`` is its hotline's
    ``topic_required`` (engine Rule 8: held in wrap-up until the wrap-up is saved)."""
    try:
        requirement = parse_requirement(row.skill_requirement) if row.skill_requirement else ANY
    except RequirementError as exc:  # saved before validation existed: route to anyone
        log.warning("directory.bad_requirement", queue_id=row.id, error=str(exc))
        requirement = ANY
    return QueueConfig(
        id=row.id,
        hotline_id=row.hotline_id,
        name=row.name,
        priority=row.priority,
        strategy=row.strategy,
        steps=(ExpansionStep(0.0, requirement),),
        wrap_up_seconds=float(row.wrap_up_seconds),
        callback_threshold_seconds=float(row.callback_threshold_seconds),
        max_wait_seconds=None if row.max_wait_seconds is None else float(row.max_wait_seconds),
        overflow_action=row.overflow_action if row.max_wait_seconds is not None else None,
        overflow_target=row.overflow_target,
        wrap_up_required=wrap_up_required,
    )


def _capacity(raw: Mapping[str, Any]) -> dict[Channel, int]:
    out: dict[Channel, int] = {Channel.CALL: 1}
    for key, value in raw.items():
        try:
            out[Channel(key)] = int(value)
        except (ValueError, TypeError):
            continue
    return out


async def load_directory(db: Database) -> Directory:
    async with db.system_session() as session:
        tenants = {t.id: t.name for t in await session.scalars(sa.select(m.Tenant))}
        hotline_rows = list(
            await session.scalars(sa.select(m.Hotline).options(selectinload(m.Hotline.numbers)))
        )
        queue_rows = list(await session.scalars(sa.select(m.Queue).order_by(m.Queue.id)))
        flows = await session.execute(
            sa.select(m.Flow.hotline_id, m.Flow.document)
            .where(m.Flow.published_at.is_not(None))
            .order_by(m.Flow.hotline_id, m.Flow.published_at, m.Flow.version)
        )
        published: dict[int, Mapping[str, Any]] = {}
        for hotline_id, document in flows:
            published[hotline_id] = document  # ordered: the latest published wins
        users = list(
            await session.scalars(
                sa.select(m.User)
                .where(m.User.role == Role.OPERATOR, m.User.active.is_(True))
                .options(selectinload(m.User.hotline_links), selectinload(m.User.skill_links))
            )
        )
        trunks = list(await session.scalars(sa.select(m.SipTrunk).where(m.SipTrunk.active)))
    required = {h.id: bool(h.topic_required) for h in hotline_rows}
    queues = {row.id: _queue_config(row, required.get(row.hotline_id, False)) for row in queue_rows}
    by_hotline: dict[int, list[int]] = {}
    for row in queue_rows:
        by_hotline.setdefault(row.hotline_id, []).append(row.id)
    hotlines: dict[int, HotlineInfo] = {}
    by_number: dict[str, HotlineInfo] = {}
    for h in hotline_rows:
        try:
            hours = parse_hours_spec(h.business_hours) if h.business_hours else None
        except HoursError as exc:
            log.warning("directory.bad_hours", hotline_id=h.id, error=str(exc))
            hours = None
        info = HotlineInfo(
            id=h.id,
            tenant_id=h.tenant_id,
            tenant_name=tenants.get(h.tenant_id, ""),
            name=h.name,
            language=h.language,
            hours=hours or BusinessHours.always_open(h.timezone),
            greeting_template=h.greeting_template,
            recording_enabled=h.recording_enabled,
            flow_document=published.get(h.id),
            queue_ids=tuple(by_hotline.get(h.id, ())),
        )
        hotlines[h.id] = info
        for number in h.numbers:
            by_number[number.number] = info
    operators: dict[int, OperatorConfig] = {}
    infos: dict[int, OperatorInfo] = {}
    for u in users:
        operators[u.id] = OperatorConfig(
            id=u.id,
            hotline_ids=frozenset(link.hotline_id for link in u.hotline_links),
            skills={link.skill.name: link.level for link in u.skill_links},
            capacity=_capacity(u.capacity or {}),
        )
        infos[u.id] = OperatorInfo(u.id, u.tenant_id, u.login, u.display_name, u.sip_ha1)
    return Directory(
        hotlines_by_number=by_number,
        hotlines=hotlines,
        queues=queues,
        operators=operators,
        operator_info=infos,
        operators_by_login={i.login: i for i in infos.values()},
        trunks=tuple(
            TrunkInfo(t.name, t.address, t.username, t.sip_ha1, t.outbound_uri) for t in trunks
        ),
    )
