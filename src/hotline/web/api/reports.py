"""KPI reports from the interval rollups, and imports of interaction history.

``GET /reports/kpis`` answers from the rollup rows (:mod:`hotline.store.rollups`), never
from the event log, so a month of a large center stays fast.  Who sees what: the role must
may read ``report`` (admins, supervisors, clients); rows are those of the caller's tenant
and, for a site supervisor, of their hotlines — applied here *and* by the session's scope.
``POST /imports/history`` takes the CSV of :mod:`hotline.core.kpi.history` (the request
body as ``text/csv``, or a multipart form with a ``file`` field) and imports it all or
nothing (:mod:`hotline.store.history_import`).
"""

from __future__ import annotations

import csv
import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.datastructures import UploadFile

from hotline.core.access import Action, Principal, Resource
from hotline.core.kpi.history import HistoryCsvError, HistoryRow, parse_history_csv
from hotline.core.kpi.rollup import INTERVALS
from hotline.store import models as m
from hotline.store.history_import import import_history
from hotline.store.reports import ReportQuery, dimension_of, query_kpis
from hotline.web.api.crud import ERRORS
from hotline.web.api.deps import Ctx, Session, require
from hotline.web.api.errors import ApiError, forbidden, invalid
from hotline.web.api.fields import INT32_MAX
from hotline.web.api.report_export import to_csv, to_xlsx
from hotline.web.api.report_pdf import to_pdf

router = APIRouter(tags=["reports"], responses=ERRORS)
CanRead = Annotated[Principal, Depends(require(Action.READ, Resource.REPORT))]
CanImport = Annotated[Principal, Depends(require(Action.WRITE, Resource.REPORT))]
OptionalId = Annotated[int | None, Query(ge=1, le=INT32_MAX)]

#: the largest history file accepted in one request
MAX_IMPORT_BYTES = 64 * 1024 * 1024
_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tenant_of(principal: Principal, tenant_id: int | None) -> int | None:
    """The tenant a request works on: the caller's own, or any one an admin names."""
    if principal.is_admin:
        return tenant_id
    if tenant_id is not None and tenant_id != principal.tenant_id:
        raise forbidden("you may only see your own tenant's reports")
    return principal.tenant_id


def _aware(name: str, value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise invalid(name, "needs a UTC offset, e.g. 2026-11-23T00:00:00+03:00")
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError as exc:
        raise invalid(name, "out of the range of dates") from exc
    if not _EARLIEST <= utc < _LATEST:
        raise invalid(name, "must be between 1970 and 9000")
    return utc


@router.get("/reports/kpis", summary="KPIs of KPI.md grouped, from the interval rollups")
async def kpi_report(
    session: Session,
    principal: CanRead,
    by: Annotated[
        str,
        Query(
            description="comma-separated: hotline, queue, interval and at most one of "
            "channel, source, topic, operator; empty for one total"
        ),
    ] = "queue",
    interval: Annotated[
        str, Query(description="bucket of `interval`: 15, 30, 60, day, week or month")
    ] = "60",
    start: Annotated[
        dt.datetime | None,
        Query(alias="from", description="queue entries from (inclusive), with offset"),
    ] = None,
    end: Annotated[
        dt.datetime | None, Query(alias="to", description="until (exclusive), with offset")
    ] = None,
    tz: Annotated[
        str | None, Query(description="IANA zone for intervals; default: each hotline's own")
    ] = None,
    tenant_id: OptionalId = None,
    hotline_id: OptionalId = None,
    queue_id: OptionalId = None,
    fmt: Annotated[Literal["json", "csv", "xlsx", "pdf"], Query(alias="format")] = "json",
) -> Any:
    groupings = [b.strip() for b in by.split(",") if b.strip()]
    try:
        dimension_of(groupings)
    except ValueError as exc:
        raise invalid("by", str(exc)) from exc
    if interval not in INTERVALS:
        raise invalid("interval", f"one of {', '.join(INTERVALS)}, got {interval!r}")
    zone = None
    if tz is not None:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise invalid(
                "tz", f"unknown time zone {tz!r} (an IANA name such as Europe/Moscow)"
            ) from exc
    hotlines = principal.hotline_ids
    if hotline_id is not None:
        if hotlines is not None and hotline_id not in hotlines:
            raise forbidden(f"hotline {hotline_id} is not one of yours")
        hotlines = frozenset({hotline_id})
    query = ReportQuery(
        by=groupings,
        interval=interval,
        start=_aware("from", start),
        end=_aware("to", end),
        tz=zone,
        tenant_id=_tenant_of(principal, tenant_id),
        hotline_ids=hotlines,
        queue_id=queue_id,
    )
    groups = [g.as_dict() for g in await query_kpis(session, query)]
    await _add_names(session, groups)
    if fmt == "csv":
        return Response(
            to_csv(groups),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="kpis.csv"'},
        )
    if fmt == "pdf":
        span = f"from {start.isoformat() if start else 'the start'} "
        span += f"to {end.isoformat() if end else 'now'}"
        zone_text = f"; intervals ({interval}) in {tz or 'each hotline’s time zone'}"
        return Response(
            to_pdf(
                groups,
                title=f"KPIs by {', '.join(groupings) or 'total'}",
                subtitle=span + (zone_text if "interval" in groupings else ""),
            ),
            media_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="kpis.pdf"'},
        )
    if fmt == "xlsx":
        return Response(
            to_xlsx(groups),
            media_type=XLSX_TYPE,
            headers={"Content-Disposition": 'attachment; filename="kpis.xlsx"'},
        )
    for group in groups:
        start_at = group["key"].get("interval_start")
        if isinstance(start_at, dt.datetime):
            group["key"]["interval_start"] = start_at.isoformat()
    return {"by": groupings, "interval": interval, "tz": tz, "groups": groups}


async def _add_names(session: Any, groups: list[dict[str, Any]]) -> None:
    """Names beside the ids in each key (the session's scope hides other tenants' rows)."""
    if not groups:
        return
    key = groups[0]["key"]
    lookups = (
        ("hotline_id", "hotline", m.Hotline.id, m.Hotline.name),
        ("queue_id", "queue", m.Queue.id, m.Queue.name),
        ("operator_id", "operator", m.User.id, m.User.display_name),
    )
    for id_key, name_key, id_col, name_col in lookups:
        if id_key not in key:
            continue
        ids = {g["key"][id_key] for g in groups} - {None}
        rows = await session.execute(sa.select(id_col, name_col).where(id_col.in_(sorted(ids))))
        names = dict(rows.all())
        for group in groups:
            old = group["key"]
            new: dict[str, Any] = {}
            for k, v in old.items():
                new[k] = v
                if k == id_key:
                    new[name_key] = names.get(v)
            group["key"] = new


@router.post(
    "/imports/history",
    status_code=201,
    summary="Import interaction history (CSV), all or nothing",
)
async def import_history_csv(
    request: Request,
    ctx: Ctx,
    principal: CanImport,
    tenant_id: OptionalId = None,
) -> Any:
    tenant = _tenant_of(principal, tenant_id)
    if tenant is None:
        raise invalid("tenant_id", "an admin must name the tenant to import into")
    text = await _csv_text(request)
    try:
        rows = _parse(text)
        async with ctx.db.session(principal) as session, session.begin():
            result = await import_history(session, tenant, rows, hotline_ids=principal.hotline_ids)
    except HistoryCsvError as exc:
        raise ApiError(
            422,
            "import_rejected",
            f"nothing imported: {len(exc.problems)} problem(s), first: {exc.problems[0]}",
            [{"line": p.line, "column": p.column, "message": p.message} for p in exc.problems],
        ) from exc
    return {
        "imported": result.interactions,
        "events": result.events,
        "rollup_rows": result.rollup_rows,
        "topics_created": result.topics_created,
    }


def _parse(text: str) -> list[HistoryRow]:
    try:
        return parse_history_csv(text.splitlines())
    except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
        raise invalid("body", f"not a readable CSV file: {exc}") from exc


async def _csv_text(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise invalid("file", "send the CSV as the form field 'file'")
            data = await upload.read(MAX_IMPORT_BYTES + 1)
    else:
        data = await request.body()
    if len(data) > MAX_IMPORT_BYTES:
        raise invalid("body", f"larger than {MAX_IMPORT_BYTES} bytes; split the file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid("body", f"not UTF-8 text (byte {exc.start})") from exc
