"""Interactions and their event logs: read-only over the API (they are written by the core)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import func, select

from hotline.core.access import Action, Principal, Resource
from hotline.store import models as m
from hotline.web.api.crud import ERRORS
from hotline.web.api.deps import Session, require
from hotline.web.api.errors import invalid, not_found
from hotline.web.api.fields import INT32_MAX, INT64_MAX
from hotline.web.api.schemas import EventRead, InteractionDetail, InteractionRead, Page

router = APIRouter(prefix="/interactions", tags=["interactions"], responses=ERRORS)
CanRead = Annotated[Principal, Depends(require(Action.READ, Resource.INTERACTION))]
OptionalId = Annotated[int | None, Query(ge=1, le=INT32_MAX)]


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
