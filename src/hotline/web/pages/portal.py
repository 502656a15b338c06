"""The recordings list (filters, in-browser playback) and the client portal's dashboard.

Both are tenant pages (``/t/{tenant_id}/…``): rule 1 is ``Principal.sees_tenant``, rule 2
(a site supervisor's hotlines) is the scoped session every query runs in.  The audio
itself comes from ``/api/v1/recordings/{id}/audio``, which checks the same again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response

from hotline.core.access import Action, Resource
from hotline.core.model import Role
from hotline.store import models as m
from hotline.web.api.deps import ApiContext
from hotline.web.api.recordings import RecordingFilter, find_recordings
from hotline.web.live_events import QueueRow
from hotline.web.pages import data
from hotline.web.pages.admin import admin_gate, page_render
from hotline.web.pages.session import Page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
TenantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PAGE_SIZE = 100


@dataclass(slots=True)
class HotlineCard:
    """One hotline on the portal: its queues' rows and the day's totals over them."""

    id: int
    name: str
    rows: list[QueueRow] = field(default_factory=list)

    @property
    def offered(self) -> int:
        return sum(r.offered for r in self.rows)

    @property
    def answered(self) -> int:
        return sum(r.answered for r in self.rows)

    @property
    def abandoned(self) -> int:
        return sum(r.abandoned for r in self.rows)

    @property
    def waiting(self) -> int:
        return sum(r.waiting for r in self.rows)


def _ctx(request: Request) -> ApiContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)  # noqa: S101 - set by create_app
    return ctx


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and 0 < int(text) < 2**31 else None


def _day(
    text: str | None, zone: ZoneInfo, field: str, errors: dict[str, str]
) -> dt.datetime | None:
    """Local midnight of a ``YYYY-MM-DD`` in ``zone``; a bad date is an error for ``field``."""
    if not text:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), zone)
    except ValueError:
        errors[field] = "rec.bad_date"
        return None


@router.get("/t/{tenant_id}/recordings")
async def recordings(request: Request, tenant_id: TenantId) -> Response:
    page = await admin_gate(request, tenant_id, Resource.RECORDING, Action.READ)
    if not isinstance(page, Page):
        return page
    q = request.query_params
    chosen = {
        "hotline_id": _int(q.get("hotline_id")),
        "operator_id": _int(q.get("operator_id")),
    }
    async with _ctx(request).db.session(page.principal) as session:
        hotlines = (
            await session.execute(
                sa.select(m.Hotline.id, m.Hotline.name, m.Hotline.timezone)
                .where(m.Hotline.tenant_id == tenant_id)
                .order_by(m.Hotline.id)
            )
        ).all()
        operators: list[tuple[int, str]] = []
        if page.principal.role is not Role.CLIENT:  # clients see no staff list
            operators = [
                (i, n)
                for i, n in await session.execute(
                    sa.select(m.User.id, m.User.display_name)
                    .where(m.User.tenant_id == tenant_id, m.User.role == Role.OPERATOR)
                    .order_by(m.User.display_name)
                )
            ]
        zones = {h.id: h.timezone for h in hotlines}
        zone_name = zones.get(chosen["hotline_id"] or 0) or (
            hotlines[0].timezone if hotlines else "UTC"
        )
        zone = ZoneInfo(zone_name)
        errors: dict[str, str] = {}
        start = _day(q.get("date_from"), zone, "date_from", errors)
        end = _day(q.get("date_to"), zone, "date_to", errors)
        where = RecordingFilter(
            tenant_id=tenant_id,
            hotline_id=chosen["hotline_id"],
            operator_id=chosen["operator_id"] if operators else None,
            started_from=start,
            started_to=None if end is None else end + dt.timedelta(days=1),  # the whole day
        )
        items, total = ([], 0) if errors else await find_recordings(session, where, PAGE_SIZE, 0)
    return page_render(
        request,
        "recordings.html",
        page,
        status_code=422 if errors else 200,
        tenant_id=tenant_id,
        hotlines=[(h.id, h.name) for h in hotlines],
        operators=operators,
        chosen=chosen,
        date_from=q.get("date_from", ""),
        date_to=q.get("date_to", ""),
        errors=errors,
        items=[
            {
                **r.model_dump(),
                "local": r.started_at.astimezone(ZoneInfo(zones.get(r.hotline_id, zone_name))),
            }
            for r in items
        ],
        total=total,
        zone=zone_name,
        section="recordings",
    )


@router.get("/t/{tenant_id}/portal")
async def portal(request: Request, tenant_id: TenantId) -> Response:
    """Today's figures of each hotline the user may see, queue by queue (``core/kpi``)."""
    page = await admin_gate(request, tenant_id, Resource.REPORT, Action.READ)
    if not isinstance(page, Page):
        return page
    ctx = _ctx(request)
    now = ctx.clock().timestamp()
    limit = page.principal.hotline_ids
    queues = [
        q
        for q in await data.load_queues(ctx.db, tenant_id)
        if limit is None or q.hotline_id in limit
    ]
    since = min((data.day_start(q.timezone, now) for q in queues), default=now)
    visits = await data.load_visits(ctx.db, tenant_id, since)
    rows = data.queue_rows(queues, visits, now)
    hotlines: dict[int, HotlineCard] = {}
    for row in rows:
        hotlines.setdefault(row.hotline_id, HotlineCard(row.hotline_id, row.hotline)).rows.append(
            row
        )
    return page_render(
        request,
        "portal.html",
        page,
        tenant_id=tenant_id,
        hotlines=list(hotlines.values()),
        may_record=page.principal.may(Action.READ, Resource.RECORDING),
        section="portal",
    )
