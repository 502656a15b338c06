"""The report page of a tenant: a GET form (dates, grouping, interval, queue) and the
reports of issue 6 under it, with charts drawn by the vendored Chart.js.

Who may look: supervisors and admins of the tenant and its clients (``report`` read,
access rule 1: a client only ever sees their own tenant — any other is a 403 page).
A bad form value is a message beside the form (status 422), never a 500.  Numbers come
from :mod:`hotline.web.pages.report_data`; the download links point at
``GET /api/v1/reports/kpis`` with the same range, which the page cookie authenticates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Path, Request, Response

from hotline.core.access import Action, Resource
from hotline.core.kpi import KPI_KEYS
from hotline.core.model import Role
from hotline.web.api.deps import ApiContext
from hotline.web.pages import data, report_data
from hotline.web.pages.data import QueueMeta
from hotline.web.pages.i18n import translator
from hotline.web.pages.session import forbidden_page, page_user, render, to_login

__all__ = ["RATIO_KEYS", "ReportForm", "parse_report_form", "router"]

router = APIRouter(include_in_schema=False)
TenantId = Annotated[int, Path(ge=1, le=2**31 - 1)]

BY_CHOICES = ("queue", "hotline", "operator", "topic", "channel", "source", "total")
INTERVAL_CHOICES = ("15", "30", "60", "day", "week", "month")
#: KPIs shown as percentages (shares of 1 in KPI.md)
RATIO_KEYS = frozenset(
    k for k in KPI_KEYS if k.startswith(("sl_", "abandon_rate")) or k == "csat_share_satisfied"
)
COUNT_KEYS = frozenset(KPI_KEYS[:7])
DEFAULT_DAYS = 7


@dataclass(slots=True)
class ReportForm:
    """The form as typed (``values``, shown back) and as understood; ``errors`` are
    ``(field, text)`` pairs."""

    values: dict[str, str]
    first: dt.date | None = None
    last: dt.date | None = None
    by: str = "queue"
    interval: str = "60"
    queue_id: int | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)


def parse_report_form(
    params: Mapping[str, str], today: dt.date, queue_ids: Sequence[int], locale: str
) -> ReportForm:
    """Read the query string; every problem names its field and value."""
    t = translator(locale)
    values = {
        "from": params.get("from", "") or (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "to": params.get("to", "") or today.isoformat(),
        "by": params.get("by", "") or "queue",
        "interval": params.get("interval", "") or "60",
        "queue": params.get("queue", ""),
    }
    form = ReportForm(values)
    for name, attr in (("from", "first"), ("to", "last")):
        try:
            setattr(form, attr, dt.date.fromisoformat(values[name]))
        except ValueError:
            form.errors.append((name, f"{t('rep.err.date')}: {values[name]!r} (YYYY-MM-DD)"))
    if form.first and form.last:
        if form.first > form.last:
            form.errors.append(("from", f"{t('rep.err.order')}: {form.first} > {form.last}"))
        elif (form.last - form.first).days + 1 > report_data.MAX_DAYS:
            days = (form.last - form.first).days + 1
            form.errors.append(("to", f"{t('rep.err.long')}: {days} > {report_data.MAX_DAYS}"))
    for name, choices in (("by", BY_CHOICES), ("interval", INTERVAL_CHOICES)):
        if values[name] not in choices:
            form.errors.append((name, f"{t('rep.err.choice')}: {values[name]!r}"))
        else:
            setattr(form, name, values[name])
    if values["queue"]:
        try:
            form.queue_id = int(values["queue"])
        except ValueError:
            form.queue_id = None
        if form.queue_id not in queue_ids:
            form.errors.append(("queue", f"{t('rep.err.queue')}: {values['queue']!r}"))
            form.queue_id = None
    return form


def _ctx(request: Request) -> ApiContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)  # noqa: S101 - set by create_app
    return ctx


def _zone(queues: Sequence[QueueMeta], queue_id: int | None) -> ZoneInfo:
    """The report's zone: the chosen queue's hotline's, else the first hotline's."""
    chosen = [q for q in queues if q.id == queue_id] or list(queues)
    try:
        return ZoneInfo(chosen[0].timezone) if chosen else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _kpi_rows(groups: list[dict[str, Any]], by: str, names: Mapping[str, Mapping[Any, str]]) -> Any:
    """The KPI table turned round: one row per KPI, one column per group (22 KPIs read
    better down a page than across it)."""
    headers = []
    for group in groups:
        key = group["key"]
        if by == "total":
            headers.append("Σ")
            continue
        value = key.get(f"{by}_id", key.get(by))
        label = names.get(by, {}).get(value, value) if value is not None else "—"
        headers.append(str(label))
    rows = [
        {
            "key": k,
            "ratio": k in RATIO_KEYS,
            "count": k in COUNT_KEYS,
            "values": [g[k] for g in groups],
        }
        for k in KPI_KEYS
    ]
    return headers, rows


def _series(groups: list[dict[str, Any]]) -> dict[str, list[Any]]:
    labels, calls, sl = [], [], []
    for group in sorted(groups, key=lambda g: g["key"]["interval_start"]):
        start = group["key"]["interval_start"]
        labels.append(
            start.strftime("%Y-%m-%d %H:%M") if isinstance(start, dt.datetime) else str(start)
        )
        calls.append(group["offered"])
        sl.append(None if group["sl_offered"] is None else round(group["sl_offered"] * 100, 2))
    return {"labels": labels, "calls": calls, "sl": sl}


BLUE, ORANGE, GREY = "#1f5fd6", "#d9822b", "#7a8599"


def _buckets(buckets: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        f"{b['lower']:g}–{b['upper']:g}" if b["upper"] is not None else f"≥ {b['lower']:g}"
        for b in buckets
    ]


def _charts(series: Mapping[str, list[Any]], document: Mapping[str, Any], locale: str) -> Any:
    """Chart specs for ``static/charts.js`` (the template also prints them as tables)."""
    t = translator(locale)
    waits = document["abandonment"]["waits"]
    talks = document["talk_distribution"]
    return {
        "intervals": {
            "kind": "bar",
            "labels": series["labels"],
            "x_title": t("rep.interval_start"),
            "y_title": t("rep.calls"),
            "y2_title": t("rep.sl"),
            "datasets": [
                {"label": t("rep.calls"), "data": series["calls"], "color": BLUE},
                {
                    "label": t("rep.sl"),
                    "data": series["sl"],
                    "kind": "line",
                    "axis": "y2",
                    "color": ORANGE,
                },
            ],
        },
        "abandon": {
            "kind": "bar",
            "labels": _buckets(waits),
            "x_title": t("rep.wait"),
            "y_title": t("rep.count"),
            "datasets": [
                {"label": t("kpi.abandoned"), "data": [b["count"] for b in waits], "color": ORANGE}
            ],
        },
        "talk": {
            "kind": "bar",
            "labels": _buckets(talks),
            "x_title": t("rep.talk_s"),
            "y_title": t("rep.count"),
            "datasets": [
                {"label": t("kpi.answered"), "data": [b["count"] for b in talks], "color": GREY}
            ],
        },
    }


def _heat(document: Mapping[str, Any]) -> dict[str, Any]:
    cells = [[0] * 24 for _ in range(7)]
    for item in document["arrivals"]["by_weekday_hour"]:
        cells[item["weekday"]][item["hour"]] = item["count"]
    top = max((max(row) for row in cells), default=0)
    return {"cells": cells, "top": top}


@router.get("/t/{tenant_id}/reports")
async def reports_page(request: Request, tenant_id: TenantId) -> Response:
    page = await page_user(request)
    if page is None:
        return to_login(request)
    principal = page.principal
    if (
        principal.role is Role.OPERATOR
        or not principal.may(Action.READ, Resource.REPORT)
        or not principal.sees_tenant(tenant_id)
    ):
        return forbidden_page(request, page.viewer)
    ctx = _ctx(request)
    locale = page.viewer.locale
    now = ctx.clock().timestamp()
    limit = principal.hotline_ids
    queues = [
        q
        for q in await data.load_queues(ctx.db, tenant_id)
        if limit is None or q.hotline_id in limit
    ]
    params = dict(request.query_params)
    zone = _zone(queues, None)
    today = dt.datetime.fromtimestamp(now, zone).date()
    form = parse_report_form(params, today, [q.id for q in queues], locale)
    since = min((data.day_start(q.timezone, now) for q in queues), default=now)
    today_rows = data.queue_rows(queues, await data.load_visits(ctx.db, tenant_id, since), now)
    common: dict[str, Any] = {
        "tenant_id": tenant_id,
        "role": principal.role.value,
        "form": form,
        "queues": queues,
        "rows": today_rows,
        "by_choices": BY_CHOICES,
        "interval_choices": INTERVAL_CHOICES,
    }
    if form.errors or form.first is None or form.last is None:
        return render(request, "report_page.html", page.viewer, status_code=422, **common)
    zone = _zone(queues, form.queue_id)
    start = dt.datetime.combine(form.first, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(form.last + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    where = report_data.ReportRange(tenant_id, start, end, zone, limit, form.queue_id)
    by = [] if form.by == "total" else [form.by]
    groups = await report_data.kpi_groups(ctx.db, principal, where, by, form.interval)
    per_interval = await report_data.kpi_groups(
        ctx.db, principal, where, ["interval"], form.interval
    )
    operators = await report_data.operator_names(ctx.db, tenant_id)
    chosen = [q for q in queues if q.id == form.queue_id] or queues
    answer_within = float(chosen[0].sl_seconds) if chosen else 20.0
    short_abandon = float(chosen[0].short_abandon) if chosen else 5.0
    folded = await report_data.count_interactions(ctx.db, where)
    too_many = folded > report_data.MAX_FOLD
    visits = [] if too_many else await report_data.load_range_visits(ctx.db, where)
    document = report_data.overview(
        visits, where, queues, operators, answer_within=answer_within, short_abandon=short_abandon
    )
    names: dict[str, dict[Any, str]] = {
        "queue": {q.id: f"{q.hotline} — {q.name}" for q in queues},
        "hotline": {q.hotline_id: q.hotline for q in queues},
        "operator": {k: v for k, v in operators.items()},
    }
    headers, kpi_rows = _kpi_rows(groups, form.by, names)
    api = {
        "by": ",".join(by),
        "interval": form.interval,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "tz": zone.key,
    }
    if principal.is_admin:
        api["tenant_id"] = str(tenant_id)
    if form.queue_id is not None:
        api["queue_id"] = str(form.queue_id)
    downloads = {
        fmt: "/api/v1/reports/kpis?" + urlencode({**api, "format": fmt})
        for fmt in ("csv", "xlsx", "pdf")
    }
    return render(
        request,
        "report_page.html",
        page.viewer,
        **common,
        zone=zone.key,
        answer_within=answer_within,
        short_abandon=short_abandon,
        headers=headers,
        kpi_rows=kpi_rows,
        charts=_charts(_series(per_interval), document, locale),
        heat=_heat(document),
        doc=document,
        downloads=downloads,
        empty=not groups and not visits,
        too_many=folded if too_many else None,
        max_fold=report_data.MAX_FOLD,
    )
