"""The flow editor page: a hotline's flow versions and a JSON textarea.

Saving and publishing are done by the page's script through the flows API
(``POST /api/v1/hotlines/{id}/flows``, ``…/flows/{version}/publish``), which validates;
its problems (path, node, message) are shown next to the node they concern.  This page
only decides who may open the editor and what it starts with.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response

from hotline.core.access import Action, Resource
from hotline.store import models as m
from hotline.web.api.deps import ApiContext
from hotline.web.pages.admin import admin_gate, page_render
from hotline.web.pages.session import Page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Id32 = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _starter(queue_id: int | None) -> dict[str, Any]:
    """A first flow for a hotline without one: greet, then queue (or hang up)."""
    if queue_id is None:
        return {"start": "greet", "nodes": {"greet": {"type": "hangup"}}}
    return {
        "start": "greet",
        "nodes": {
            "greet": {"type": "play", "prompt": "greeting", "next": "queue"},
            "queue": {"type": "queue", "queue": queue_id},
        },
    }


@router.get("/t/{tenant_id}/admin/hotlines/{hotline_id}/flow")
async def flow_editor(request: Request, tenant_id: Id32, hotline_id: Id32) -> Response:
    page = await admin_gate(request, tenant_id, Resource.FLOW, Action.WRITE)
    if not isinstance(page, Page):
        return page
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)  # noqa: S101 - set by create_app
    async with ctx.db.session(page.principal) as session:
        hotline = (
            await session.execute(
                sa.select(m.Hotline).where(
                    m.Hotline.id == hotline_id, m.Hotline.tenant_id == tenant_id
                )
            )
        ).scalar_one_or_none()
        if hotline is None:
            return page_render(request, "admin_missing.html", page, status_code=404)
        versions = (
            await session.scalars(
                sa.select(m.Flow).where(m.Flow.hotline_id == hotline_id).order_by(m.Flow.version)
            )
        ).all()
        queues = (
            await session.execute(
                sa.select(m.Queue.id, m.Queue.name)
                .where(m.Queue.hotline_id == hotline_id)
                .order_by(m.Queue.id)
            )
        ).all()
    current = None  # the version live calls run: the one published last
    for v in versions:
        if v.published_at is not None and (
            current is None
            or current.published_at is None
            or v.published_at >= current.published_at
        ):
            current = v
    shown = versions[-1] if versions else None
    document = shown.document if shown is not None else _starter(queues[0][0] if queues else None)
    return page_render(
        request,
        "admin_flow.html",
        page,
        tenant_id=tenant_id,
        hotline=hotline,
        versions=list(reversed(versions)),
        current=None if current is None else current.version,
        document=json.dumps(document, ensure_ascii=False, indent=2),
        queues=queues,
        section="hotlines",
    )
