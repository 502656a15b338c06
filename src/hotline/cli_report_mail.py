"""``hotline report mail``: e-mail the scheduled KPI reports of one period over SMTP.

Glue only (:mod:`hotline.report_mail` builds and sends); registered on ``report`` by
importing this module from :mod:`hotline.cli`.  Run it from cron: ``--period daily``
every morning, ``--period weekly`` on Mondays.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from hotline.cli import (
    DatabaseUrlOpt,
    DataOpt,
    JsonOpt,
    _fail,
    _require_schema,
    _settings,
    _with_db,
)
from hotline.cli_report import report_app
from hotline.store.db import Database


@report_app.command("mail")
def report_mail(
    schedules: Annotated[
        Path,
        typer.Option(
            "--schedules",
            metavar="FILE.toml",
            help="TOML, a schedule table per report: name, tenant_id, to, every "
            "(daily|weekly), by, interval, formats (csv, xlsx, pdf), hotline_ids.",
        ),
    ],
    period: Annotated[
        str, typer.Option("--period", help="Send the daily or the weekly schedules.")
    ] = "daily",
    smtp_host: Annotated[
        str | None,
        typer.Option(
            "--smtp-host", help="SMTP relay host [default: HOTLINE_SMTP_HOST, localhost]."
        ),
    ] = None,
    smtp_port: Annotated[
        int | None,
        typer.Option("--smtp-port", help="SMTP relay port [default: HOTLINE_SMTP_PORT, 25]."),
    ] = None,
    sender: Annotated[
        str, typer.Option("--from", help="Sender address.")
    ] = "reports@hotline.invalid",
    today: Annotated[
        str | None,
        typer.Option("--today", help="Run as if on this date (YYYY-MM-DD); default: today, UTC."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build the messages, print, send nothing.")
    ] = False,
    data: DataOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """E-mail each schedule of the period its KPI report (yesterday, or last week)."""
    import json

    from hotline.report_mail import (
        EVERY,
        ScheduleFileError,
        build_messages,
        load_schedules,
        send_messages,
    )

    if period not in EVERY:
        _fail(f"--period: one of daily, weekly (got {period!r})")
    if smtp_port is not None and not 1 <= smtp_port <= 65535:
        _fail(f"--smtp-port: 1–65535 (got {smtp_port})")
    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
    except ValueError:
        _fail(f"--today: a date YYYY-MM-DD (got {today!r})")
    try:
        entries = load_schedules(schedules)
    except ScheduleFileError as exc:
        _fail("; ".join(exc.problems))
    settings = _settings(data=data, database_url=database_url, create_data_dir=False)
    # the relay the offers use (HOTLINE_SMTP_*) unless the options name another
    host = settings.smtp_host if smtp_host is None else smtp_host
    port = settings.smtp_port if smtp_port is None else smtp_port

    async def work(db: Database) -> list[dict[str, object]]:
        await _require_schema(db)
        messages = await build_messages(db, entries, period, day, sender)
        if not dry_run:
            try:
                await send_messages(messages, host, port)
            except OSError as exc:  # refused, unreachable, SMTP errors (SMTPException)
                _fail(f"SMTP {host}:{port}: {exc}")
        return [
            {
                "to": str(m["To"]),
                "subject": str(m["Subject"]),
                "attachments": [a.get_filename() for a in m.iter_attachments()],
            }
            for m in messages
        ]

    sent = _with_db(settings, work)
    if json_out:
        typer.echo(json.dumps({"sent": not dry_run, "messages": sent}, ensure_ascii=False))
    else:
        for item in sent:
            typer.echo(f"{'built' if dry_run else 'sent'}: {item['subject']} → {item['to']}")
