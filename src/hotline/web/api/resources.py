"""The CRUD resources of the API: one :class:`ResourceSpec` each, with the hooks that make
them differ (child rows, passwords, derived fields)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.access import Principal, Resource
from hotline.core.model import AfterHoursAction, Role
from hotline.security import hash_password
from hotline.store import models as m
from hotline.web.api import schemas as s
from hotline.web.api.crud import (
    ResourceSpec,
    apply_plain,
    build_plain,
    resolve_tenant,
    visible_hotline,
)
from hotline.web.api.errors import forbidden, invalid

# -- tenants ---------------------------------------------------------------------------------


async def _build_tenant(
    _session: AsyncSession, _p: Principal, body: s.TenantCreate, now: dt.datetime
) -> m.Tenant:
    return m.Tenant(name=body.name, slug=body.slug, created_at=now)


# -- hotlines --------------------------------------------------------------------------------


async def _build_hotline(
    session: AsyncSession, p: Principal, body: s.HotlineCreate, now: dt.datetime
) -> m.Hotline:
    data = body.model_dump(exclude={"tenant_id", "numbers"}, exclude_none=True)
    data.setdefault("business_hours", {})
    data.setdefault("after_hours_action", AfterHoursAction.VOICEMAIL)
    row = m.Hotline(
        tenant_id=await resolve_tenant(session, p, body.tenant_id), created_at=now, **data
    )
    row.numbers = [m.HotlineNumber(number=n) for n in body.numbers]
    return row


async def _apply_hotline(
    session: AsyncSession, p: Principal, row: m.Hotline, changes: dict[str, Any], now: dt.datetime
) -> None:
    numbers = changes.pop("numbers", None)
    if numbers is not None:
        # keep the rows of numbers that stay: a new row for the same number would be
        # inserted before the old one is deleted and trip the unique index
        kept = {n.number: n for n in row.numbers}
        row.numbers = [kept.get(n) or m.HotlineNumber(number=n) for n in numbers]
    hours = changes.pop("business_hours", None)
    zone = changes.get("timezone") or row.timezone
    if hours is not None or (zone != row.timezone and row.business_hours):
        try:
            changes["business_hours"] = s.check_hours(
                hours if hours is not None else row.business_hours, zone
            )
        except ValueError as exc:
            raise invalid("business_hours", str(exc)) from None
    await _apply_non_null(session, p, row, changes, now)


# -- users -----------------------------------------------------------------------------------


def _present_user(row: m.User) -> s.UserRead:
    return s.UserRead(
        id=row.id,
        tenant_id=row.tenant_id,
        login=row.login,
        display_name=row.display_name,
        role=row.role,
        locale=row.locale,
        active=row.active,
        capacity=row.capacity,
        hotline_ids=sorted(link.hotline_id for link in row.hotline_links),
        skills={link.skill.name: link.level for link in row.skill_links},
        created_at=row.created_at,
    )


async def _user_links(
    session: AsyncSession,
    row: m.User,
    hotline_ids: list[int] | None,
    skills: dict[str, int] | None,
) -> None:
    """Replace the user's hotlines and skills, each checked to be in the user's tenant."""
    if hotline_ids is not None:
        links = []
        for i, hid in enumerate(dict.fromkeys(hotline_ids)):
            hotline = await visible_hotline(session, hid, f"hotline_ids.{i}")
            if hotline.tenant_id != row.tenant_id:
                raise invalid(f"hotline_ids.{i}", f"hotline {hid} is not in the user's tenant")
            links.append(m.UserHotline(hotline_id=hid))
        row.hotline_links = links
    if skills is not None:
        if row.tenant_id is None:
            raise invalid("skills", "admins have no tenant, hence no skills")
        known = {
            sk.name: sk.id
            for sk in (
                await session.execute(select(m.Skill).where(m.Skill.tenant_id == row.tenant_id))
            ).scalars()
        }
        row.skill_links = []
        for name, level in skills.items():
            if name not in known:
                raise invalid(f"skills.{name}", f"no skill {name!r} in this tenant")
            row.skill_links.append(m.OperatorSkill(skill_id=known[name], level=level))


async def _build_user(
    session: AsyncSession, p: Principal, body: s.UserCreate, now: dt.datetime
) -> m.User:
    if body.role is Role.ADMIN:
        if not p.is_admin:
            raise forbidden("only admins create admins")
        if body.tenant_id is not None:
            raise invalid("tenant_id", "admins belong to no tenant")
        tenant_id = None
    else:
        tenant_id = await resolve_tenant(session, p, body.tenant_id)
    row = m.User(
        tenant_id=tenant_id,
        login=body.login,
        display_name=body.display_name,
        role=body.role,
        password_hash=await asyncio.to_thread(hash_password, body.password),
        locale=body.locale or "ru",
        active=True if body.active is None else body.active,
        capacity=(body.capacity or s.Capacity()).model_dump(),
        created_at=now,
    )
    await _user_links(session, row, body.hotline_ids, body.skills)
    return row


async def _apply_user(
    session: AsyncSession, p: Principal, row: m.User, changes: dict[str, Any], now: dt.datetime
) -> None:
    if row.id == p.user_id and changes.get("active") is False:
        # a user who switches themselves off is locked out with nobody told; another
        # administrator or supervisor of the tenant must do it
        raise invalid("active", "you cannot deactivate your own account")
    password = changes.pop("password", None)
    if password is not None:
        row.password_hash = await asyncio.to_thread(hash_password, password)
    await _user_links(session, row, changes.pop("hotline_ids", None), changes.pop("skills", None))
    if "capacity" in changes and changes["capacity"] is not None:
        changes["capacity"] = s.Capacity(**changes["capacity"]).model_dump()
    await apply_plain(session, p, row, {k: v for k, v in changes.items() if v is not None}, now)


# -- knowledge base --------------------------------------------------------------------------


async def _build_article(
    session: AsyncSession, p: Principal, body: s.KbArticleCreate, now: dt.datetime
) -> m.KbArticle:
    row: m.KbArticle = await build_plain(session, p, body, m.KbArticle)
    row.updated_at = now
    return row


async def _apply_article(
    session: AsyncSession,
    p: Principal,
    row: m.KbArticle,
    changes: dict[str, Any],
    now: dt.datetime,
) -> None:
    await _apply_non_null(session, p, row, changes, now)
    row.updated_at = now


async def _build_contact(
    session: AsyncSession, p: Principal, body: s.ContactCreate, now: dt.datetime
) -> m.Contact:
    data = body.model_dump(exclude={"tenant_id"}, exclude_none=True)
    return m.Contact(
        tenant_id=await resolve_tenant(session, p, body.tenant_id), created_at=now, **data
    )


def _plain(model: type[Any]) -> Any:
    async def build(session: AsyncSession, p: Principal, body: BaseModel, _now: dt.datetime) -> Any:
        return await build_plain(session, p, body, model)

    return build


async def _apply_non_null(
    session: AsyncSession, p: Principal, row: Any, changes: dict[str, Any], now: dt.datetime
) -> None:
    """PATCH semantics for columns that cannot be null: ``null`` means "leave as is"."""
    nullable = {c.name for c in row.__table__.columns if c.nullable}
    await apply_plain(
        session, p, row, {k: v for k, v in changes.items() if v is not None or k in nullable}, now
    )


HOTLINE_FILTERS = ("tenant_id", "hotline_id")

SPECS: list[ResourceSpec[Any]] = [
    ResourceSpec(
        "tenant",
        "/tenants",
        Resource.TENANT,
        m.Tenant,
        s.TenantCreate,
        s.TenantUpdate,
        s.TenantRead,
        _build_tenant,
        _apply_non_null,
    ),
    ResourceSpec(
        "hotline",
        "/hotlines",
        Resource.HOTLINE,
        m.Hotline,
        s.HotlineCreate,
        s.HotlineUpdate,
        s.HotlineRead,
        _build_hotline,
        _apply_hotline,
        filters=("tenant_id",),
    ),
    ResourceSpec(
        "queue",
        "/queues",
        Resource.QUEUE,
        m.Queue,
        s.QueueCreate,
        s.QueueUpdate,
        s.QueueRead,
        _plain(m.Queue),
        _apply_non_null,
        filters=HOTLINE_FILTERS,
    ),
    ResourceSpec(
        "skill",
        "/skills",
        Resource.SKILL,
        m.Skill,
        s.SkillCreate,
        s.SkillUpdate,
        s.SkillRead,
        _plain(m.Skill),
        _apply_non_null,
        filters=("tenant_id",),
    ),
    ResourceSpec(
        "user",
        "/users",
        Resource.USER,
        m.User,
        s.UserCreate,
        s.UserUpdate,
        s.UserRead,
        _build_user,
        _apply_user,
        present=_present_user,
        filters=("tenant_id",),
    ),
    ResourceSpec(
        "topic",
        "/topics",
        Resource.TOPIC,
        m.Topic,
        s.TopicCreate,
        s.TopicUpdate,
        s.TopicRead,
        _plain(m.Topic),
        _apply_non_null,
        filters=HOTLINE_FILTERS,
    ),
    ResourceSpec(
        "script",
        "/scripts",
        Resource.SCRIPT,
        m.Script,
        s.ScriptCreate,
        s.ScriptUpdate,
        s.ScriptRead,
        _plain(m.Script),
        _apply_non_null,
        filters=HOTLINE_FILTERS,
    ),
    ResourceSpec(
        "knowledge-base article",
        "/kb-articles",
        Resource.KB_ARTICLE,
        m.KbArticle,
        s.KbArticleCreate,
        s.KbArticleUpdate,
        s.KbArticleRead,
        _build_article,
        _apply_article,
        filters=HOTLINE_FILTERS,
    ),
    ResourceSpec(
        "offer template",
        "/offer-templates",
        # the same rights as scripts: material operators read on their hotlines' calls and
        # supervisors write; clients see neither
        Resource.SCRIPT,
        m.OfferTemplate,
        s.OfferTemplateCreate,
        s.OfferTemplateUpdate,
        s.OfferTemplateRead,
        _plain(m.OfferTemplate),
        _apply_non_null,
        filters=HOTLINE_FILTERS,
    ),
    ResourceSpec(
        "contact",
        "/contacts",
        Resource.CONTACT,
        m.Contact,
        s.ContactCreate,
        s.ContactUpdate,
        s.ContactRead,
        _build_contact,
        _apply_non_null,
        filters=("tenant_id",),
        big_ids=True,
    ),
]
