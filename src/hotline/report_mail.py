"""Scheduled KPI reports e-mailed to clients (issue 6), daily or weekly, over SMTP.

Schedules live in a TOML file for now (``hotline report mail --schedules FILE``) rather
than in a ``report_schedules`` table: that table needs a migration, and until there is
a page to edit schedules a file under version control is as easy to change.  Each
``[[schedule]]``::

    name = "Alpha daily"          # shown in the subject
    tenant_id = 1
    to = ["boss@alpha.example"]
    every = "daily"               # or "weekly"
    by = "queue"                  # groupings of GET /reports/kpis, comma-separated; "" total
    interval = "60"               # bucket when `by` includes interval
    formats = ["csv", "pdf"]      # attachments: csv, xlsx, pdf
    hotline_ids = [3]             # optional: only these hotlines

A run sends every schedule of one period: ``daily`` reports yesterday, ``weekly`` the
previous Monday–Sunday, each in the tenant's first hotline's time zone — cron runs the
daily one every morning and the weekly one on Mondays, so no state is kept here.  The
numbers are those of ``GET /reports/kpis`` (the rollups, :mod:`hotline.store.reports`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.core.kpi.rollup import INTERVALS
from hotline.store.db import Database
from hotline.store.reports import ReportQuery, dimension_of, query_kpis
from hotline.web.api.report_export import to_csv, to_xlsx
from hotline.web.api.report_pdf import to_pdf
from hotline.web.pages import data, report_data

__all__ = [
    "EVERY",
    "Schedule",
    "ScheduleFileError",
    "build_messages",
    "load_schedules",
    "period",
    "send_messages",
]

EVERY = ("daily", "weekly")
FORMATS = ("csv", "xlsx", "pdf")
_TYPES = {
    "csv": ("text", "csv"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": ("application", "pdf"),
}


class ScheduleFileError(ValueError):
    """The schedules file is unreadable or wrong; ``problems`` name the entry and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    tenant_id: int
    to: tuple[str, ...]
    every: str
    by: tuple[str, ...] = ("queue",)
    interval: str = "60"
    formats: tuple[str, ...] = ("csv", "pdf")
    hotline_ids: frozenset[int] | None = None


def _entry(where: str, raw: dict[str, Any], problems: list[str]) -> Schedule | None:
    before = len(problems)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: name: a non-empty text is needed")
        name = "?"
    tenant = raw.get("tenant_id")
    if not isinstance(tenant, int) or isinstance(tenant, bool) or tenant < 1:
        problems.append(f"{where}: tenant_id: a whole number ≥ 1 is needed (got {tenant!r})")
    to = raw.get("to")
    if not (isinstance(to, list) and to and all(isinstance(a, str) and "@" in a for a in to)):
        problems.append(f"{where}: to: a list of e-mail addresses is needed (got {to!r})")
    every = raw.get("every")
    if every not in EVERY:
        problems.append(f"{where}: every: one of daily, weekly (got {every!r})")
    by_text = raw.get("by", "queue")
    by = tuple(b.strip() for b in str(by_text).split(",") if b.strip())
    try:
        dimension_of(by)
    except ValueError as exc:
        problems.append(f"{where}: by: {exc}")
    interval = str(raw.get("interval", "60"))
    if interval not in INTERVALS:
        problems.append(f"{where}: interval: one of {', '.join(INTERVALS)} (got {interval!r})")
    formats = raw.get("formats", ["csv", "pdf"])
    if not (isinstance(formats, list) and formats and all(f in FORMATS for f in formats)):
        problems.append(f"{where}: formats: a list of csv, xlsx, pdf (got {formats!r})")
    hotlines = raw.get("hotline_ids")
    if hotlines is not None and not (
        isinstance(hotlines, list) and all(isinstance(h, int) and h >= 1 for h in hotlines)
    ):
        problems.append(f"{where}: hotline_ids: a list of ids (got {hotlines!r})")
    unknown = sorted(
        set(raw) - {"name", "tenant_id", "to", "every", "by", "interval", "formats", "hotline_ids"}
    )
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    if len(problems) > before:
        return None
    return Schedule(
        name=str(name),
        tenant_id=int(tenant),  # type: ignore[arg-type]
        to=tuple(to),  # type: ignore[arg-type]
        every=str(every),
        by=by,
        interval=interval,
        formats=tuple(formats),
        hotline_ids=None if hotlines is None else frozenset(hotlines),
    )


def load_schedules(path: Path) -> list[Schedule]:
    """Every ``[[schedule]]`` of the file, or ScheduleFileError listing all problems."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleFileError([f"{path}: cannot read ({exc.strerror})"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScheduleFileError([f"{path}: not TOML: {exc}"]) from exc
    entries = document.get("schedule", [])
    if not isinstance(entries, list):
        raise ScheduleFileError([f"{path}: 'schedule' must be an array of tables [[schedule]]"])
    problems: list[str] = []
    schedules = []
    for number, raw in enumerate(entries, start=1):
        schedule = _entry(f"{path}: schedule {number}", raw, problems)
        if schedule is not None:
            schedules.append(schedule)
    if problems:
        raise ScheduleFileError(problems)
    return schedules


def period(every: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The whole days a run on ``today`` reports (first, last inclusive)."""
    if every == "daily":
        yesterday = today - dt.timedelta(days=1)
        return yesterday, yesterday
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)


async def _zone(db: Database, schedule: Schedule) -> tuple[ZoneInfo, dict[str, dict[Any, str]]]:
    queues = [
        q
        for q in await data.load_queues(db, schedule.tenant_id)
        if schedule.hotline_ids is None or q.hotline_id in schedule.hotline_ids
    ]
    names: dict[str, dict[Any, str]] = {
        "queue": {q.id: q.name for q in queues},
        "hotline": {q.hotline_id: q.hotline for q in queues},
        "operator": await report_data.operator_names(db, schedule.tenant_id),
    }
    try:
        return (ZoneInfo(queues[0].timezone) if queues else ZoneInfo("UTC")), names
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC"), names


def _named(groups: list[dict[str, Any]], names: dict[str, dict[Any, str]]) -> None:
    """A name column after each id column, as the API adds them."""
    for group in groups:
        key: dict[str, Any] = {}
        for k, v in group["key"].items():
            key[k] = v
            kind = k.removesuffix("_id")
            if k.endswith("_id") and kind in names:
                key[kind] = names[kind].get(v)
        group["key"] = key


async def build_messages(
    db: Database, schedules: Sequence[Schedule], every: str, today: dt.date, sender: str
) -> list[EmailMessage]:
    """One message per schedule of period ``every``, attachments in its formats."""
    messages = []
    for schedule in schedules:
        if schedule.every != every:
            continue
        zone, names = await _zone(db, schedule)
        first, last = period(every, today)
        start = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
        query = ReportQuery(
            by=list(schedule.by),
            interval=schedule.interval,
            start=start,
            end=end,
            tz=zone,
            tenant_id=schedule.tenant_id,
            hotline_ids=schedule.hotline_ids,
        )
        async with db.system_session() as session:
            groups = [g.as_dict() for g in await query_kpis(session, query)]
        _named(groups, names)
        span = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
        message = EmailMessage()
        message["Subject"] = f"{schedule.name}: KPIs {span}"
        message["From"] = sender
        message["To"] = ", ".join(schedule.to)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        offered = sum(int(g["offered"] or 0) for g in groups)
        answered = sum(int(g["answered"] or 0) for g in groups)
        message.set_content(
            f"{schedule.name}\n{span} ({zone.key})\n\n"
            f"Offered: {offered}\nAnswered: {answered}\n\n"
            f"Attached: {', '.join(schedule.formats)} by {', '.join(schedule.by) or 'total'}.\n"
        )
        stem = f"kpis-{first.isoformat()}"
        for fmt in schedule.formats:
            if fmt == "csv":
                body = to_csv(groups).encode("utf-8")
            elif fmt == "xlsx":
                body = to_xlsx(groups)
            else:
                body = to_pdf(
                    groups, title=f"{schedule.name}: KPIs", subtitle=f"{span}, {zone.key}"
                )
            main, sub = _TYPES[fmt]
            message.add_attachment(body, maintype=main, subtype=sub, filename=f"{stem}.{fmt}")
        messages.append(message)
    return messages


def _send(messages: Sequence[EmailMessage], host: str, port: int, limit_s: float) -> None:
    with smtplib.SMTP(host, port, timeout=limit_s) as smtp:
        for message in messages:
            smtp.send_message(message)


async def send_messages(
    messages: Sequence[EmailMessage], host: str, port: int, limit_s: float = 30.0
) -> None:
    """Deliver over one SMTP connection (in a thread: smtplib blocks)."""
    if messages:
        await asyncio.to_thread(_send, messages, host, port, limit_s)
