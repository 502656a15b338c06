"""Tables.  Each tenant-owned row carries ``tenant_id``; hotline-owned rows also carry
``hotline_id``.  Those two columns are what :mod:`hotline.store.scope` filters on, in one
place, for every ORM query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hotline.core.model import (
    AfterHoursAction,
    CallbackOrigin,
    CallbackStatus,
    Channel,
    Direction,
    EventType,
    OverflowAction,
    Role,
    RoutingStrategy,
)
from hotline.store.types import BigId, JSONType, UTCDateTime, str_enum

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
    }


def _tenant_fk() -> Mapped[int]:
    return mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


def _hotline_fk() -> Mapped[int]:
    return mapped_column(sa.ForeignKey("hotlines.id", ondelete="CASCADE"), index=True)


class TenantOwned:
    """Marker: rows visible only inside their tenant (see ``hotline.store.scope``)."""

    tenant_id: Mapped[int]


class HotlineOwned(TenantOwned):
    """Marker: rows visible only to principals allowed on their hotline."""

    hotline_id: Mapped[int]


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime]


class User(Base):
    """Anyone who logs in.  Operators are users with role ``operator``."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    login: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    locale: Mapped[str] = mapped_column(sa.String(8), default="ru")
    active: Mapped[bool] = mapped_column(default=True)
    #: capacity per channel, e.g. {"call": 1, "chat": 3}
    capacity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: digest HA1 = MD5(login:realm:sip password) of the operator's SIP phone (RFC 2617
    #: §3.2.2.2): what a registrar needs, never the password itself; None = no SIP phone
    sip_ha1: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    created_at: Mapped[dt.datetime]

    hotline_links: Mapped[list[UserHotline]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    skill_links: Mapped[list[OperatorSkill]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class UserHotline(Base):
    """Hotlines an operator serves, or the hotlines (site) a supervisor is limited to."""

    __tablename__ = "user_hotlines"
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    hotline_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hotlines.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class OperatorSkill(Base):
    __tablename__ = "operator_skills"
    __table_args__ = (sa.CheckConstraint("level BETWEEN 1 AND 10", name="level_range"),)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        sa.ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[int]

    skill: Mapped[Skill] = relationship(lazy="selectin")


class ApiToken(Base):
    """Bearer tokens and page sessions; only a SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # "session" | "api"
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class Hotline(TenantOwned, Base):
    __tablename__ = "hotlines"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(sa.String(200))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    language: Mapped[str] = mapped_column(sa.String(8), default="ru")
    greeting_template: Mapped[str] = mapped_column(sa.String(500))
    greeting_prompt: Mapped[str | None] = mapped_column(sa.String(500))
    business_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after_hours_action: Mapped[AfterHoursAction] = mapped_column(
        str_enum(AfterHoursAction, "after_hours_action")
    )
    after_hours_target: Mapped[str | None] = mapped_column(sa.String(64))
    topic_required: Mapped[bool] = mapped_column(default=False)
    recording_enabled: Mapped[bool] = mapped_column(default=True)
    recording_retention_days: Mapped[int] = mapped_column(default=90)
    created_at: Mapped[dt.datetime]

    numbers: Mapped[list[HotlineNumber]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HotlineNumber.id"
    )


class HotlineNumber(Base):
    """A DID in E.164 form; unique across the installation so a call finds one hotline."""

    __tablename__ = "hotline_numbers"
    id: Mapped[int] = mapped_column(primary_key=True)
    hotline_id: Mapped[int] = _hotline_fk()
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)


class Skill(TenantOwned, Base):
    __tablename__ = "skills"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name", name="uq_skills_tenant_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(500), default="")


class Queue(HotlineOwned, Base):
    __tablename__ = "queues"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    hotline_id: Mapped[int] = _hotline_fk()
    name: Mapped[str] = mapped_column(sa.String(200))
    priority: Mapped[int] = mapped_column(default=0)
    strategy: Mapped[RoutingStrategy] = mapped_column(str_enum(RoutingStrategy, "strategy"))
    skill_requirement: Mapped[str] = mapped_column(sa.String(500), default="")
    service_level_target: Mapped[float]
    service_level_seconds: Mapped[int]
    short_abandon_seconds: Mapped[int]
    wrap_up_seconds: Mapped[int]
    callback_threshold_seconds: Mapped[int]
    max_wait_seconds: Mapped[int | None]
    overflow_action: Mapped[OverflowAction | None] = mapped_column(
        str_enum(OverflowAction, "overflow_action")
    )
    overflow_target: Mapped[str | None] = mapped_column(sa.String(200))


class Topic(HotlineOwned, Base):
    """A disposition: ``kind`` is ``topic`` (what it was about) or ``outcome`` (how it ended)."""

    __tablename__ = "topics"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    hotline_id: Mapped[int] = _hotline_fk()
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(200))
    #: marks outcomes that count as a lead or a sale in conversion reports
    counts_as: Mapped[str | None] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)


class Script(HotlineOwned, Base):
    """A branching operator script; ``steps`` is validated data (see the API schema)."""

    __tablename__ = "scripts"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    hotline_id: Mapped[int] = _hotline_fk()
    name: Mapped[str] = mapped_column(sa.String(200))
    start_step: Mapped[str] = mapped_column(sa.String(64))
    steps: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OfferTemplate(HotlineOwned, Base):
    """An e-mail an operator sends a caller from the desktop ("send offer"): ``subject`` and
    ``body`` may use the placeholders of :mod:`hotline.offer_mail` (``{name}`` is the
    contact's name); ``language`` is what the desktop shows next to the name."""

    __tablename__ = "offer_templates"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    hotline_id: Mapped[int] = _hotline_fk()
    name: Mapped[str] = mapped_column(sa.String(200))
    language: Mapped[str] = mapped_column(sa.String(8), default="ru")
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(default=True)


class KbArticle(HotlineOwned, Base):
    __tablename__ = "kb_articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    hotline_id: Mapped[int] = _hotline_fk()
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(8))
    tags: Mapped[list[str]] = mapped_column(default=list)
    updated_at: Mapped[dt.datetime]


class Contact(TenantOwned, Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    phones: Mapped[list[str]] = mapped_column(default=list)
    emails: Mapped[list[str]] = mapped_column(default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    external_id: Mapped[str | None] = mapped_column(sa.String(200))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    vip: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime]


class Interaction(HotlineOwned, Base):
    __tablename__ = "interactions"
    __table_args__ = (
        sa.Index("ix_interactions_hotline_started", "hotline_id", "started_at"),
        sa.UniqueConstraint("tenant_id", "external_id", name="uq_interactions_external_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    hotline_id: Mapped[int] = _hotline_fk()
    queue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("queues.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    operator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str | None] = mapped_column(sa.String(200))
    caller: Mapped[str | None] = mapped_column(sa.String(64))
    callee: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id", ondelete="SET NULL"))
    outcome_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: the id in the system it was imported from (``hotline import history``); None if live
    external_id: Mapped[str | None] = mapped_column(sa.String(200), default=None)

    events: Mapped[list[InteractionEventRow]] = relationship(
        lazy="raise", order_by="InteractionEventRow.seq"
    )


class InteractionEventRow(TenantOwned, Base):
    """The append-only log.  An UPDATE trigger (see the migration) refuses edits."""

    __tablename__ = "interaction_events"
    __table_args__ = (sa.UniqueConstraint("interaction_id", "seq", name="uq_events_seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    interaction_id: Mapped[int] = mapped_column(
        sa.ForeignKey("interactions.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    type: Mapped[EventType] = mapped_column(str_enum(EventType, "event_type"))
    at: Mapped[dt.datetime] = mapped_column(index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Callback(HotlineOwned, Base):
    """A promise to call back; ``queued_at`` is the caller's original place in line."""

    __tablename__ = "callbacks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    hotline_id: Mapped[int] = _hotline_fk()
    queue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("queues.id", ondelete="SET NULL"))
    interaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("interactions.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    number: Mapped[str] = mapped_column(sa.String(64))
    origin: Mapped[CallbackOrigin] = mapped_column(str_enum(CallbackOrigin, "callback_origin"))
    status: Mapped[CallbackStatus] = mapped_column(
        str_enum(CallbackStatus, "callback_status"), index=True
    )
    requested_at: Mapped[dt.datetime]
    queued_at: Mapped[dt.datetime]
    not_before: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[dt.datetime | None]


class Recording(HotlineOwned, Base):
    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    hotline_id: Mapped[int] = _hotline_fk()
    interaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("interactions.id", ondelete="SET NULL"), index=True
    )
    path: Mapped[str] = mapped_column(sa.String(500))
    started_at: Mapped[dt.datetime]
    duration_seconds: Mapped[float]
    channels: Mapped[int] = mapped_column(default=2)
    size_bytes: Mapped[int]
    retain_until: Mapped[dt.datetime | None]


class Flow(HotlineOwned, Base):
    """One version of a hotline's IVR flow.  Rows are never edited: saving makes a new
    version, publishing marks one, restoring publishes a copy of an older document."""

    __tablename__ = "flows"
    __table_args__ = (sa.UniqueConstraint("hotline_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    hotline_id: Mapped[int] = _hotline_fk()
    version: Mapped[int]
    document: Mapped[dict[str, Any]]
    comment: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]
    published_at: Mapped[dt.datetime | None]


class SipTrunk(Base):
    """A carrier connection that delivers calls to the hotlines' numbers: trusted by
    source address (``address``: an IP or CIDR) or by digest credentials (``username`` +
    ``sip_ha1``), or both; and/or takes our calls out (``outbound_uri``).
    Installation-wide, like a PBX's trunks; admins manage them."""

    __tablename__ = "sip_trunks"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    address: Mapped[str | None] = mapped_column(sa.String(64))
    username: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    sip_ha1: Mapped[str | None] = mapped_column(sa.String(64))
    #: where calls go out through this trunk (``sip:HOST[:PORT][;transport=tcp]``, an IP
    #: host: the carrier trusts our address); None: inbound only
    outbound_uri: Mapped[str | None] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]


class AuditEntry(Base):
    """Who changed what; admins see all, supervisors their tenant's (filtered by scope)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime]
    action: Mapped[str] = mapped_column(sa.String(32))
    entity: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class KpiRollup(HotlineOwned, Base):
    """KPI counters of the settled queue visits of one 15-minute interval (UTC), one queue
    with its thresholds at the time, and one dimension value (see
    :mod:`hotline.core.kpi.rollup`).  Updated as visits settle and by the importer;
    reports sum these rows instead of reading the event log.

    The key is the primary key, in the order reports filter on (tenant, dimension, time),
    and on SQLite the table is ``WITHOUT ROWID``, so the rows a report reads lie together.
    ``quarter`` is the interval's start in POSIX seconds / 900, for integer arithmetic on
    local time buckets in SQL; ``interval_start`` is the same instant, for people."""

    __tablename__ = "kpi_rollups"
    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "dimension",
            "quarter",
            "hotline_id",
            "queue_id",
            "value",
            "answer_within",
            "short_abandon",
            name="pk_kpi_rollups",
        ),
        {"sqlite_with_rowid": False},
    )
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    hotline_id: Mapped[int] = mapped_column(sa.ForeignKey("hotlines.id", ondelete="CASCADE"))
    queue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("queues.id", ondelete="CASCADE"), index=True
    )
    quarter: Mapped[int]
    interval_start: Mapped[dt.datetime]
    answer_within: Mapped[float]
    short_abandon: Mapped[float]
    dimension: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[str] = mapped_column(sa.String(200))
    offered: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    answered_within: Mapped[int] = mapped_column(default=0)
    abandoned: Mapped[int] = mapped_column(default=0)
    short_abandoned: Mapped[int] = mapped_column(default=0)
    abandoned_within: Mapped[int] = mapped_column(default=0)
    callback_requested: Mapped[int] = mapped_column(default=0)
    overflowed: Mapped[int] = mapped_column(default=0)
    answered_wait_sum: Mapped[float] = mapped_column(default=0.0)
    abandoned_wait_sum: Mapped[float] = mapped_column(default=0.0)
    max_wait: Mapped[float | None]
    handled: Mapped[int] = mapped_column(default=0)
    talk_sum: Mapped[float] = mapped_column(default=0.0)
    hold_sum: Mapped[float] = mapped_column(default=0.0)
    wrap_up_sum: Mapped[float] = mapped_column(default=0.0)
    csat_count: Mapped[int] = mapped_column(default=0)
    csat_sum: Mapped[float] = mapped_column(default=0.0)
    csat_satisfied: Mapped[int] = mapped_column(default=0)
