"""Interactions and their event logs: read-only over the API (they are written by the core),
and the one thing an operator does with one from the desktop besides the wrap-up: e-mail
the caller a hotline's offer template (:mod:`hotline.offer_mail`)."""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, EmailStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.access import Action, Principal, Resource
from hotline.core.model import EventType, Role
from hotline.offer_mail import MailError, OfferTemplateError, build_offer, send_offer
from hotline.store import models as m
from hotline.web.api.crud import ERRORS
from hotline.web.api.deps import Ctx, Session, require
from hotline.web.api.errors import ApiError, ErrorBody, forbidden, invalid, not_found
from hotline.web.api.fields import INT32_MAX, INT64_MAX, Id
from hotline.web.api.schemas import EventRead, InteractionDetail, InteractionRead, Page
from hotline.web.live_hub import LiveHub
from hotline.web.pages.data import contact_by_phone

router = APIRouter(prefix="/interactions", tags=["interactions"], responses=ERRORS)
CanRead = Annotated[Principal, Depends(require(Action.READ, Resource.INTERACTION))]
OptionalId = Annotated[int | None, Query(ge=1, le=INT32_MAX)]
#: e-mailing a contact is working with the contact (operators and supervisors, not clients)
CanMail = Annotated[Principal, Depends(require(Action.WRITE, Resource.CONTACT))]
#: the audit log's action for an offer sent (``entity="interaction"``)
OFFER_SENT_ACTION = "offer_sent"


class InteractionPage(Page):
    items: list[InteractionRead]


@router.get("", response_model=InteractionPage, summary="List interactions you may see")
async def list_interactions(
    session: Session,
    _p: CanRead,
    hotline_id: OptionalId = None,
    queue_id: OptionalId = None,
    operator_id: OptionalId = None,
    started_from: Annotated[dt.datetime | None, Query(description="inclusive, with offset")] = None,
    started_to: Annotated[dt.datetime | None, Query(description="exclusive, with offset")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> Any:
    query = select(m.Interaction)
    for column, value in (
        (m.Interaction.hotline_id, hotline_id),
        (m.Interaction.queue_id, queue_id),
        (m.Interaction.operator_id, operator_id),
    ):
        if value is not None:
            query = query.where(column == value)
    for name, bound in (("started_from", started_from), ("started_to", started_to)):
        if bound is not None and bound.tzinfo is None:
            raise invalid(name, "needs a UTC offset, e.g. 2026-11-23T09:00:00+03:00")
    if started_from is not None:
        query = query.where(m.Interaction.started_at >= started_from)
    if started_to is not None:
        query = query.where(m.Interaction.started_at < started_to)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(
            query.order_by(m.Interaction.started_at.desc(), m.Interaction.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    return {
        "items": [InteractionRead.model_validate(r) for r in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/{item_id}", response_model=InteractionDetail, summary="One interaction and its log")
async def get_interaction(
    item_id: Annotated[int, Path(ge=1, le=INT64_MAX)], session: Session, _p: CanRead
) -> Any:
    row = (
        await session.execute(select(m.Interaction).where(m.Interaction.id == item_id))
    ).scalar_one_or_none()
    if row is None:
        raise not_found("interaction", item_id)
    events = (
        await session.execute(
            select(m.InteractionEventRow)
            .where(m.InteractionEventRow.interaction_id == row.id)
            .order_by(m.InteractionEventRow.seq)
        )
    ).scalars()
    return InteractionDetail(
        **InteractionRead.model_validate(row).model_dump(),
        events=[EventRead.model_validate(e) for e in events],
    )


# -- send offer -------------------------------------------------------------------------------


class SendOffer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: Id
    email: EmailStr | None = None  # one of the contact's; default: the first


class OfferSent(BaseModel):
    interaction_id: int
    template_id: int
    contact_id: int
    to: str
    subject: str
    message_id: str
    sent_at: dt.datetime


async def _offered_to(session: AsyncSession, row: m.Interaction, operator_id: int) -> bool:
    """The interaction was offered to (or taken by) this operator: its row or its log says so."""
    if row.operator_id == operator_id:
        return True
    offers = await session.scalars(
        select(m.InteractionEventRow.data).where(
            m.InteractionEventRow.interaction_id == row.id,
            m.InteractionEventRow.type == EventType.OFFERED,
        )
    )
    return any(d.get("operator_id") == operator_id for d in offers)


async def _contact(session: AsyncSession, row: m.Interaction) -> m.Contact | None:
    if row.contact_id is not None:
        found = await session.scalar(select(m.Contact).where(m.Contact.id == row.contact_id))
        if found is not None:
            return found
    if row.caller:
        return await contact_by_phone(session, row.tenant_id, row.caller)
    return None


_MAIL_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    502: {"model": ErrorBody, "description": "the mail server refused the message"},
    503: {"model": ErrorBody, "description": "no mail server answered in time"},
}


@router.post(
    "/{item_id}/send-offer",
    response_model=OfferSent,
    summary="E-mail a hotline's offer template to the interaction's contact",
    description="Operators only for interactions offered to them. The template must be of "
    "the interaction's hotline; `{name}` is filled in with the contact's name. 409 "
    "`no_contact` / `contact_has_no_email` when there is no one to write to, 503 "
    "`mail_unavailable` / 502 `mail_refused` when the mail server fails. Recorded in the "
    "audit log (`offer_sent`, entity `interaction`).",
    responses=_MAIL_ERRORS,
)
async def send_offer_mail(
    item_id: Annotated[int, Path(ge=1, le=INT64_MAX)],
    body: SendOffer,
    request: Request,
    ctx: Ctx,
    session: Session,
    principal: CanMail,
) -> Any:
    hub = getattr(request.app.state, "hub", None)
    if isinstance(hub, LiveHub):
        await hub.center.writer.flush()  # a live call's row may still be queued
    row = await session.scalar(select(m.Interaction).where(m.Interaction.id == item_id))
    if row is None:
        raise not_found("interaction", item_id)
    if principal.role is Role.OPERATOR and not await _offered_to(session, row, principal.user_id):
        raise forbidden(f"interaction {item_id} was not offered to you")
    template = await session.scalar(
        select(m.OfferTemplate).where(m.OfferTemplate.id == body.template_id)
    )
    if template is None or template.hotline_id != row.hotline_id or not template.active:
        raise invalid("template_id", f"{body.template_id} is not an offer template of this hotline")
    contact = await _contact(session, row)
    if contact is None:
        raise ApiError(
            409,
            "no_contact",
            f"interaction {item_id}: the caller {row.caller or '(no number)'} is not a known "
            "contact; save the contact with an e-mail first",
        )
    emails = list(contact.emails or [])
    if not emails:
        raise ApiError(
            409,
            "contact_has_no_email",
            f"contact {contact.id} ({contact.name or 'no name'}) has no e-mail address; "
            "add one to the contact first",
            {"contact_id": contact.id},
        )
    to = emails[0] if body.email is None else str(body.email)
    if to not in emails:
        raise invalid("email", f"{to} is not an e-mail of contact {contact.id}")
    hotline = await session.scalar(select(m.Hotline).where(m.Hotline.id == row.hotline_id))
    tenant = await session.scalar(select(m.Tenant).where(m.Tenant.id == row.tenant_id))
    me = await session.scalar(select(m.User).where(m.User.id == principal.user_id))
    values = {
        "name": contact.name,
        "operator": me.display_name if me else "",
        "company": tenant.name if tenant else "",
        "hotline": hotline.name if hotline else "",
    }
    smtp = ctx.settings
    try:
        message = build_offer(
            template.subject,
            template.body,
            to=to,
            to_name=contact.name,
            values=values,
            sender=smtp.smtp_sender,
        )
    except (OfferTemplateError, ValueError) as exc:
        raise ApiError(
            409, "template_invalid", f"offer template {template.id} cannot be used: {exc}"
        ) from None
    try:
        await send_offer(
            message,
            host=smtp.smtp_host,
            port=smtp.smtp_port,
            timeout_s=smtp.smtp_timeout_seconds,
        )
    except MailError as exc:
        if exc.unreachable:
            raise ApiError(503, "mail_unavailable", f"{exc}; the offer was not sent") from None
        raise ApiError(502, "mail_refused", f"{exc}; the offer was not sent") from None
    now = ctx.clock()
    message_id = str(message["Message-ID"])
    session.add(
        m.AuditEntry(
            tenant_id=row.tenant_id,
            user_id=principal.user_id,
            at=now,
            action=OFFER_SENT_ACTION,
            entity="interaction",
            entity_id=str(row.id),
            details={
                "template_id": template.id,
                "template": template.name,
                "contact_id": contact.id,
                "to": parseaddr(to)[1],
                "message_id": message_id,
            },
        )
    )
    await session.commit()
    return OfferSent(
        interaction_id=row.id,
        template_id=template.id,
        contact_id=contact.id,
        to=to,
        subject=str(message["Subject"]),
        message_id=message_id,
        sent_at=now,
    )
