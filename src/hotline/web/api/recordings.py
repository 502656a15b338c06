"""Call recordings: a filtered list and the audio itself.

The audio is served only after the same checks as every other row: the role may read
recordings (``core.access`` rule 3), and the row is looked up through the principal's
scoped session, so another tenant's recording, or a hotline a site supervisor does not
see, is a 404 whose body never contains the file.  The stored path is trusted only if
it lies inside ``DATA_DIR/recordings`` (a row pointing elsewhere is refused, not served).
Range requests (seeking in ``<audio>``) are Starlette's ``FileResponse``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hotline.core.access import Action, Principal, Resource
from hotline.store import models as m
from hotline.web.api.crud import ERRORS
from hotline.web.api.deps import Ctx, Session, require
from hotline.web.api.errors import invalid, not_found
from hotline.web.api.fields import INT32_MAX, INT64_MAX

__all__ = ["RecordingFilter", "RecordingRow", "find_recordings", "router"]

router = APIRouter(prefix="/recordings", tags=["recordings"], responses=ERRORS)
CanRead = Annotated[Principal, Depends(require(Action.READ, Resource.RECORDING))]
OptionalId = Annotated[int | None, Query(ge=1, le=INT32_MAX)]


class RecordingRow(BaseModel):
    id: int
    tenant_id: int
    hotline_id: int
    hotline: str
    interaction_id: int | None
    operator_id: int | None
    operator: str | None
    caller: str | None
    started_at: dt.datetime
    duration_seconds: float
    channels: int
    size_bytes: int
    audio_url: str


class RecordingPage(BaseModel):
    items: list[RecordingRow]
    total: int
    limit: int
    offset: int


class RecordingFilter(BaseModel):
    """What the list may be narrowed to; bounds are instants with an offset."""

    tenant_id: int | None = None
    hotline_id: int | None = None
    operator_id: int | None = None
    started_from: dt.datetime | None = None
    started_to: dt.datetime | None = None


async def find_recordings(
    session: AsyncSession, where: RecordingFilter, limit: int, offset: int
) -> tuple[list[RecordingRow], int]:
    """Recordings the session's principal may see, newest first, with their total.

    The session's scope (tenant, hotlines) applies to every table joined here; the
    filters only narrow it further.
    """
    operator = aliased(m.User)
    query = (
        sa.select(m.Recording, m.Hotline.name, m.Interaction, operator.display_name)
        .join(m.Hotline, m.Hotline.id == m.Recording.hotline_id)
        .outerjoin(m.Interaction, m.Interaction.id == m.Recording.interaction_id)
        .outerjoin(operator, operator.id == m.Interaction.operator_id)
    )
    conditions: list[Any] = []
    if where.tenant_id is not None:
        conditions.append(m.Recording.tenant_id == where.tenant_id)
    if where.hotline_id is not None:
        conditions.append(m.Recording.hotline_id == where.hotline_id)
    if where.operator_id is not None:
        conditions.append(m.Interaction.operator_id == where.operator_id)
    if where.started_from is not None:
        conditions.append(m.Recording.started_at >= where.started_from)
    if where.started_to is not None:
        conditions.append(m.Recording.started_at < where.started_to)
    query = query.where(*conditions)
    total = (
        await session.execute(sa.select(sa.func.count()).select_from(query.subquery()))
    ).scalar_one()
    rows = await session.execute(
        query.order_by(m.Recording.started_at.desc(), m.Recording.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [
        RecordingRow(
            id=rec.id,
            tenant_id=rec.tenant_id,
            hotline_id=rec.hotline_id,
            hotline=hotline,
            interaction_id=rec.interaction_id,
            operator_id=None if inter is None else inter.operator_id,
            operator=name,
            caller=None if inter is None else inter.caller,
            started_at=rec.started_at,
            duration_seconds=rec.duration_seconds,
            channels=rec.channels,
            size_bytes=rec.size_bytes,
            audio_url=f"/api/v1/recordings/{rec.id}/audio",
        )
        for rec, hotline, inter, name in rows
    ]
    return items, total


def _aware(name: str, value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise invalid(name, "needs a UTC offset, e.g. 2026-11-23T09:00:00+03:00")
    return value


@router.get("", response_model=RecordingPage, summary="List recordings you may hear")
async def list_recordings(
    session: Session,
    _p: CanRead,
    hotline_id: OptionalId = None,
    operator_id: OptionalId = None,
    tenant_id: OptionalId = None,
    started_from: Annotated[dt.datetime | None, Query(description="inclusive, with offset")] = None,
    started_to: Annotated[dt.datetime | None, Query(description="exclusive, with offset")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> Any:
    where = RecordingFilter(
        tenant_id=tenant_id,
        hotline_id=hotline_id,
        operator_id=operator_id,
        started_from=_aware("started_from", started_from),
        started_to=_aware("started_to", started_to),
    )
    items, total = await find_recordings(session, where, limit, offset)
    return RecordingPage(items=items, total=total, limit=limit, offset=offset)


def recording_file(data_dir: Path, stored: str) -> Path | None:
    """The recording's file if it exists inside ``data_dir/recordings``, else None."""
    root = (data_dir / "recordings").resolve()
    candidate = Path(stored)
    if not candidate.is_absolute():
        # the telephony side stores paths under the data dir as it was given (maybe relative)
        candidate = Path.cwd() / candidate
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root) or not resolved.is_file():
        return None
    return resolved


@router.get(
    "/{recording_id}/audio",
    response_class=FileResponse,
    summary="The recording's audio (WAV); supports Range requests",
    responses={200: {"content": {"audio/wav": {}}}},
)
async def recording_audio(
    recording_id: Annotated[int, PathParam(ge=1, le=INT64_MAX)],
    ctx: Ctx,
    session: Session,
    _p: CanRead,
) -> FileResponse:
    row = (
        await session.execute(sa.select(m.Recording).where(m.Recording.id == recording_id))
    ).scalar_one_or_none()
    if row is None:
        raise not_found("recording", recording_id)
    path = recording_file(ctx.settings.data_dir, row.path)
    if path is None:
        raise not_found("recording file of", recording_id)
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=f"recording-{row.id}.wav",
        content_disposition_type="inline",
        headers={"Cache-Control": "private, no-store"},
    )
