"""The WFM page of a tenant (supervisors and admins): staffing calculator, what-if, cost
comparison, and a week's forecast, requirements and shifts for one queue from its history.

Four GET forms on one page, each with its own field prefix, so a link reproduces a
calculation.  The first three are closed-form (instant) and always answer; the plan runs
only when its form is sent (``plan=1``) because it fits a forecast and runs the shift
solver (bounded by a small time limit).  Bad values come back as messages naming the
field (status 422), never a 500.  The maths is :mod:`hotline.core.wfm`; this module only
reads forms and arranges results.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from fastapi import APIRouter, Path, Request, Response

from hotline.core.model import Role
from hotline.core.wfm.cost import CostError, InHouse, Outsourced, compare_costs
from hotline.core.wfm.erlang import StaffingError, staffing
from hotline.core.wfm.forecast import ForecastError, forecast, history_from_rows
from hotline.core.wfm.requirements import requirements
from hotline.core.wfm.shift_types import Operator, ScheduleError
from hotline.core.wfm.shifts import schedule
from hotline.core.wfm.whatif import Change, QueueCase, queue_whatif
from hotline.web.api.deps import ApiContext
from hotline.web.pages import data, report_data
from hotline.web.pages.i18n import translator
from hotline.web.pages.session import forbidden_page, page_user, render, to_login
from hotline.wfm_plan_io import parse_template

__all__ = ["FIELDS", "read_fields", "router"]

router = APIRouter(include_in_schema=False)
TenantId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@dataclass(frozen=True, slots=True)
class Field:
    """A number field: default text, bounds, whole or not, optional (empty = not given);
    ``percent``: typed in %, used as a share of 1."""

    name: str
    label: str
    default: str
    low: float = 0.0
    high: float = 1e9
    whole: bool = False
    optional: bool = False
    percent: bool = False


FIELDS: dict[str, tuple[Field, ...]] = {
    "s": (
        Field("calls", "wfm.calls", "360"),
        Field("interval", "wfm.interval_s", "1800", low=1, high=86400),
        Field("aht", "wfm.aht", "240", low=1, high=86400),
        Field("target_sl", "wfm.target_sl", "80", high=100, percent=True),
        Field("answer_within", "wfm.answer_within", "20", high=86400),
        Field("patience", "wfm.patience", "", low=0.001, optional=True),
        Field(
            "max_occupancy", "wfm.max_occupancy", "", low=1, high=100, optional=True, percent=True
        ),
        Field("shrinkage", "wfm.shrinkage", "", high=99, optional=True, percent=True),
    ),
    "w": (
        Field("calls", "wfm.calls", "360"),
        Field("interval", "wfm.interval_s", "1800", low=1, high=86400),
        Field("aht", "wfm.aht", "240", low=1, high=86400),
        Field("agents", "wfm.base_agents", "55", high=100000, whole=True),
        Field("answer_within", "wfm.answer_within", "20", high=86400),
        Field("target_sl", "wfm.target_sl", "80", high=100, percent=True),
        Field("patience", "wfm.patience", "", low=0.001, optional=True),
        Field("volume_pct", "wfm.volume_pct", "20", low=-99, high=1000),
        Field("aht_pct", "wfm.aht_pct", "0", low=-99, high=1000),
        Field("agents_delta", "wfm.agents_delta", "0", low=-100000, high=100000, whole=True),
    ),
    "c": (
        Field("operators", "wfm.operators", "50", high=1e6, whole=True),
        Field("salary", "wfm.salary", "60000"),
        Field("sup_salary", "wfm.sup_salary", "90000"),
        Field("seat", "wfm.seat", "8000"),
        Field("overhead", "wfm.overhead", "15", high=1000, percent=True),
        Field("price_minute", "wfm.price_minute", "25"),
        Field("interactions", "wfm.interactions", "60000"),
        Field("aht", "wfm.aht", "240", low=1, high=86400),
    ),
    "p": (
        Field("weeks", "wfm.weeks", "4", low=1, high=26, whole=True),
        Field("target_sl", "wfm.target_sl", "80", high=100, percent=True),
        Field("answer_within", "wfm.answer_within", "20", high=86400),
        Field("shrinkage", "wfm.shrinkage", "30", high=99, percent=True),
        Field("operators", "wfm.operators_pool", "25", low=1, high=200, whole=True),
        Field("time_limit", "wfm.time_limit", "5", low=1, high=20),
    ),
}
PLAN_INTERVALS = ("30", "60")
#: the shift templates of ``hotline wfm shifts`` (4 h, and 8 h with breaks and lunch)
TEMPLATES = (
    "4h=4h;break:{i}@60-120",
    "8h=8h;break:{i}@60-120;lunch:60@180-300:unpaid;break2:{i}@360-{late}",
)


def read_fields(
    prefix: str, params: Mapping[str, str], locale: str
) -> tuple[dict[str, str], dict[str, float | None], list[tuple[str, str]]]:
    """Values as typed, as numbers, and ``(field, problem)`` for each bad one."""
    t = translator(locale)
    typed: dict[str, str] = {}
    values: dict[str, float | None] = {}
    errors: list[tuple[str, str]] = []
    for f in FIELDS[prefix]:
        text = params.get(f"{prefix}_{f.name}", f.default).strip().replace(",", ".")
        typed[f.name] = text
        if not text and f.optional:
            values[f.name] = None
            continue
        try:
            number = float(text)
        except ValueError:
            errors.append((t(f.label), f"{text!r} {t('wfm.err.number')}"))
            continue
        if not (math.isfinite(number) and f.low <= number <= f.high) or (
            f.whole and number != int(number)
        ):
            kind = "a whole number" if f.whole else "a number"
            errors.append((t(f.label), f"{text!r}: {kind} from {f.low:g} to {f.high:g}"))
            continue
        values[f.name] = number / 100 if f.percent else number
    return typed, values, errors


def _ctx(request: Request) -> ApiContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)  # noqa: S101 - set by create_app
    return ctx


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _staffing(v: Mapping[str, float | None]) -> dict[str, Any]:
    r = staffing(
        v["calls"] or 0.0,
        v["interval"] or 1.0,
        v["aht"] or 1.0,
        v["target_sl"] or 0.0,
        v["answer_within"] or 0.0,
        patience=v["patience"],
        max_occupancy=v["max_occupancy"],
        shrinkage=v["shrinkage"],
    )
    return {k: _finite(x) if isinstance(x, float) else x for k, x in asdict(r).items()}


def _whatif(v: Mapping[str, float | None]) -> dict[str, dict[str, Any]]:
    base = QueueCase(
        calls=v["calls"] or 0.0,
        interval=v["interval"] or 1.0,
        aht=v["aht"] or 1.0,
        agents=int(v["agents"] or 0),
        answer_within=v["answer_within"] or 0.0,
        target_sl=v["target_sl"] or 0.0,
        patience=v["patience"],
    )
    change = Change(
        volume_pct=v["volume_pct"] or 0.0,
        aht_pct=v["aht_pct"] or 0.0,
        agents_delta=int(v["agents_delta"] or 0),
    )
    return queue_whatif(base, change)


def _cost(v: Mapping[str, float | None]) -> dict[str, Any]:
    return compare_costs(
        InHouse(
            operators=int(v["operators"] or 0),
            operator_salary=v["salary"] or 0.0,
            supervisor_salary=v["sup_salary"] or 0.0,
            seat_cost=v["seat"] or 0.0,
            overhead=v["overhead"] or 0.0,
        ),
        Outsourced(price_per_minute=v["price_minute"]),
        v["interactions"] or 0.0,
        v["aht"] or 1.0,
    )


async def _plan(
    ctx: ApiContext, tenant_id: int, queue: data.QueueMeta, minutes: int, v: Mapping[str, Any]
) -> dict[str, Any]:
    """History → forecast (with backtest) → requirements → shifts for the next week.

    ForecastError (too little history) and ScheduleError propagate to the handler."""
    try:
        zone = ZoneInfo(queue.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    now = ctx.clock()
    today = now.astimezone(zone).date()
    first = today - dt.timedelta(days=7 * int(v["weeks"]))
    span = (
        dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC),
        dt.datetime.combine(today, dt.time(), zone).astimezone(dt.UTC),
    )
    rows = await report_data.queue_history(ctx.db, tenant_id, queue.id, zone, span, minutes)
    if not rows:
        raise ForecastError(f"history: no interactions of queue {queue.name!r} since {first}")
    handled = [(c, a) for _, c, a in rows if a is not None]
    mean_aht = sum(c * a for c, a in handled) / sum(c for c, _ in handled) if handled else 0.0
    if mean_aht <= 0:
        raise ForecastError("history: no handled interaction to learn a handle time from")
    # pad to whole days up to yesterday: quiet trailing days are days with 0 calls
    filled: list[tuple[dt.datetime, float, float | None]] = [
        (ts, c, a if a is not None else mean_aht) for ts, c, a in rows
    ]
    last_slot = dt.datetime.combine(today, dt.time()) - dt.timedelta(minutes=minutes)
    if filled[-1][0] < last_slot:
        filled.append((last_slot, 0.0, None))
    history = history_from_rows(filled, minutes)
    holdout = 7 if history.days >= 14 else 0
    fc = forecast(history, horizon_days=7, holdout_days=holdout)
    aht = np.where(np.isfinite(fc.aht) & (fc.aht > 0), fc.aht, mean_aht)
    need = requirements(
        fc.calls,
        aht,
        minutes * 60,
        v["target_sl"],
        v["answer_within"],
        shrinkage=v["shrinkage"],
    )
    required = [int(x) for x in need.scheduled]
    pool = [
        Operator(f"#{i + 1}", frozenset({"queue"}), 1.0, ((0, len(required) * minutes),))
        for i in range(int(v["operators"]))
    ]
    step = max(15, minutes)
    templates = [parse_template(t.format(i=step, late=420 - step)) for t in TEMPLATES]
    plan = schedule(
        minutes,
        {"queue": required},
        pool,
        templates,
        time_limit=float(v["time_limit"]),
        workers=1,
    )
    coverage = plan.coverage["queue"]
    labels = [(ts.weekday(), ts.strftime("%H:%M")) for ts in fc.timestamps()]
    return {
        "start": fc.start.isoformat(),
        "history_days": history.days,
        "backtest": None if fc.backtest is None else asdict(fc.backtest),
        "status": plan.status,
        "paid_cost": plan.paid_cost,
        "shifts": len(plan.shifts),
        "under": sum(coverage.under),
        "calls_total": float(np.sum(fc.calls)),
        "peak_required": max(required, default=0),
        "labels": labels,
        "required": coverage.required,
        "scheduled": coverage.scheduled,
        "calls": [round(float(c), 2) for c in fc.calls],
    }


def _coverage_chart(plan: Mapping[str, Any], locale: str) -> dict[str, Any]:
    t = translator(locale)
    weekdays = t("rep.wd").split(" ")
    return {
        "kind": "line",
        "labels": [f"{weekdays[day]} {clock}" for day, clock in plan["labels"]],
        "x_title": t("rep.interval_start"),
        "y_title": t("wfm.operators"),
        "datasets": [
            {
                "label": t("wfm.required"),
                "data": plan["required"],
                "color": "#b3261e",
                "stepped": "after",
            },
            {
                "label": t("wfm.in_schedule"),
                "data": plan["scheduled"],
                "color": "#1f5fd6",
                "stepped": "after",
            },
        ],
    }


@router.get("/t/{tenant_id}/wfm")
async def wfm_page(request: Request, tenant_id: TenantId) -> Response:
    page = await page_user(request)
    if page is None:
        return to_login(request)
    principal = page.principal
    if principal.role not in (Role.SUPERVISOR, Role.ADMIN) or not principal.sees_tenant(tenant_id):
        return forbidden_page(request, page.viewer)
    ctx = _ctx(request)
    locale = page.viewer.locale
    t = translator(locale)
    params = dict(request.query_params)
    limit = principal.hotline_ids
    queues = [
        q
        for q in await data.load_queues(ctx.db, tenant_id)
        if limit is None or q.hotline_id in limit
    ]
    sections: dict[str, dict[str, Any]] = {}
    calculators = (
        ("s", _staffing, StaffingError),
        ("w", _whatif, StaffingError),
        ("c", _cost, CostError),
    )
    for prefix, compute, failure in calculators:
        typed, values, errors = read_fields(prefix, params, locale)
        result = None
        if not errors:
            try:
                result = compute(values)
            except failure as exc:
                errors.append((t("wfm.err"), str(exc)))
        sections[prefix] = {"typed": typed, "errors": errors, "result": result}
    typed, values, errors = read_fields("p", params, locale)
    plan_section: dict[str, Any] = {"typed": typed, "errors": errors, "result": None}
    plan_section["queue"] = params.get("p_queue", str(queues[0].id) if queues else "")
    plan_section["interval"] = params.get("p_interval", "60")
    plan_section["short"] = None
    if params.get("plan") == "1":
        chosen = [q for q in queues if str(q.id) == plan_section["queue"]]
        if not chosen:
            errors.append((t("rep.queue"), f"{t('rep.err.queue')}: {plan_section['queue']!r}"))
        if plan_section["interval"] not in PLAN_INTERVALS:
            errors.append(
                (t("rep.interval"), f"{t('rep.err.choice')}: {plan_section['interval']!r}")
            )
        if not errors:
            try:
                result = await _plan(
                    ctx, tenant_id, chosen[0], int(plan_section["interval"]), values
                )
                plan_section["result"] = result
                plan_section["chart"] = _coverage_chart(result, locale)
            except ForecastError as exc:
                plan_section["short"] = str(exc)
            except (StaffingError, ScheduleError) as exc:
                errors.append((t("wfm.err"), str(exc)))
    bad = any(s["errors"] for s in (*sections.values(), plan_section))
    return render(
        request,
        "wfm_page.html",
        page.viewer,
        status_code=422 if bad else 200,
        tenant_id=tenant_id,
        role=principal.role.value,
        fields=FIELDS,
        sections=sections,
        plan=plan_section,
        queues=queues,
        plan_intervals=PLAN_INTERVALS,
    )
