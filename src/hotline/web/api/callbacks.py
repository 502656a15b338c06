"""Callbacks an operator schedules during or after a call ("call me back tomorrow at 10").

The time is given as the hotline's wall-clock time (what the caller and the operator
say), without an offset, and converted here with the hotline's time zone; a time that
does not exist there (a daylight-saving gap) or has already passed is refused with a
message naming the field.  The row is ``pending`` with origin ``operator`` and
``not_before`` set: the dialer picks it up from then on.  Every row is checked against
the principal's scope: the hotline, the interaction, the contact and the queue must be
ones the caller may see, and belong together.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from hotline.core.access import Action, Principal, Resource
from hotline.core.model import CallbackOrigin, CallbackStatus
from hotline.store import models as m
from hotline.web.api.crud import ERRORS, visible_hotline
from hotline.web.api.deps import Ctx, Session, require
from hotline.web.api.errors import invalid
from hotline.web.api.fields import INT32_MAX, BigId, Id, Phone
from hotline.web.live_hub import LiveHub

__all__ = ["CallbackCreate", "CallbackRead", "local_instant", "router"]

router = APIRouter(prefix="/callbacks", tags=["callbacks"], responses=ERRORS)
CanWrite = Annotated[Principal, Depends(require(Action.WRITE, Resource.CALLBACK))]
CanRead = Annotated[Principal, Depends(require(Action.READ, Resource.CALLBACK))]


class CallbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hotline_id: Id
    number: Phone
    at_local: dt.datetime = Field(
        description="wall-clock time in the hotline's time zone, without an offset"
    )
    interaction_id: BigId | None = None
    contact_id: BigId | None = None
    queue_id: Id | None = None


class CallbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: int
    hotline_id: int
    queue_id: int | None
    interaction_id: int | None
    contact_id: int | None
    number: str
    origin: CallbackOrigin
    status: CallbackStatus
    requested_at: dt.datetime
    not_before: dt.datetime | None


class CallbackPage(BaseModel):
    items: list[CallbackRead]


def local_instant(wall: dt.datetime, timezone: str, field: str = "at_local") -> dt.datetime:
    """The UTC instant of a wall-clock time in ``timezone``; a gap or an offset is refused."""
    if wall.tzinfo is not None:
        raise invalid(field, "give the hotline's local time without an offset")
    try:
        zone = ZoneInfo(timezone)
        instant = wall.replace(tzinfo=zone).astimezone(dt.UTC)
        back = instant.astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError, KeyError):
        raise invalid(field, f"{wall.isoformat()} is out of range in {timezone}") from None
    if back != wall:
        raise invalid(field, f"{wall:%Y-%m-%d %H:%M} does not exist in {timezone}")
    return instant


@router.post("", response_model=CallbackRead, status_code=201, summary="Schedule a callback")
async def schedule_callback(
    body: CallbackCreate, request: Request, _p: CanWrite, session: Session, ctx: Ctx
) -> m.Callback:
    hotline = await visible_hotline(session, body.hotline_id, "hotline_id")
    when = local_instant(body.at_local, hotline.timezone)
    now = ctx.clock()
    if when <= now:
        raise invalid("at_local", f"{body.at_local:%Y-%m-%d %H:%M} {hotline.timezone} has passed")
    queue_id = body.queue_id
    contact_id = body.contact_id
    if body.interaction_id is not None:
        hub = getattr(request.app.state, "hub", None)
        if isinstance(hub, LiveHub):
            await hub.center.writer.flush()  # a live call's row may still be queued
        interaction = await session.get(m.Interaction, body.interaction_id)
        if interaction is None or interaction.hotline_id != hotline.id:
            raise invalid(
                "interaction_id", f"no interaction {body.interaction_id} of hotline {hotline.id}"
            )
        queue_id = queue_id or interaction.queue_id
        contact_id = contact_id or interaction.contact_id
    if body.contact_id is not None:
        contact = await session.scalar(sa.select(m.Contact).where(m.Contact.id == body.contact_id))
        if contact is None or contact.tenant_id != hotline.tenant_id:
            raise invalid("contact_id", f"no contact {body.contact_id} visible to you")
    if body.queue_id is not None:
        queue = await session.scalar(sa.select(m.Queue).where(m.Queue.id == body.queue_id))
        if queue is None or queue.hotline_id != hotline.id:
            raise invalid("queue_id", f"no queue {body.queue_id} of hotline {hotline.id}")
    row = m.Callback(
        tenant_id=hotline.tenant_id,
        hotline_id=hotline.id,
        queue_id=queue_id,
        interaction_id=body.interaction_id,
        contact_id=contact_id,
        number=body.number,
        origin=CallbackOrigin.OPERATOR,
        status=CallbackStatus.PENDING,
        requested_at=now,
        queued_at=when,
        not_before=when,
        attempts=0,
    )
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return row


@router.get("", response_model=CallbackPage, summary="Callbacks of a hotline, soonest first")
async def list_callbacks(
    _p: CanRead,
    session: Session,
    hotline_id: Annotated[int, Query(ge=1, le=INT32_MAX)],
    status: CallbackStatus | None = None,
) -> CallbackPage:
    await visible_hotline(session, hotline_id, "hotline_id")
    query = sa.select(m.Callback).where(m.Callback.hotline_id == hotline_id)
    if status is not None:
        query = query.where(m.Callback.status == status)
    rows = await session.scalars(query.order_by(m.Callback.not_before, m.Callback.id).limit(500))
    return CallbackPage(items=[CallbackRead.model_validate(r) for r in rows])
