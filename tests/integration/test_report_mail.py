"""Scheduled KPI reports by e-mail: schedules from a TOML file, the period a run covers,
and delivery to a local SMTP server (aiosmtpd) with the CSV and PDF attached.

The world and the imported rows are those of ``test_report_pages`` (three interactions
of queue "Main" on Friday 2026-11-20, Moscow time).
"""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from hotline.cli import app
from hotline.core.model import Role
from hotline.report_mail import (
    ScheduleFileError,
    build_messages,
    load_schedules,
    period,
    send_messages,
)
from hotline.store.db import Database
from tests.integration.test_demo_server import free_port
from tests.integration.test_report_pages import ROWS, _import
from tests.integration.world import World


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Any:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def _schedules(tmp_path: Path, tenant_id: int, extra: str = "") -> Path:
    path = tmp_path / "schedules.toml"
    path.write_text(
        f"""
[[schedule]]
name = "Alpha daily"
tenant_id = {tenant_id}
to = ["boss@alpha.example", "ops@alpha.example"]
every = "daily"
by = "queue"
formats = ["csv", "pdf"]

[[schedule]]
name = "Alpha weekly"
tenant_id = {tenant_id}
to = ["boss@alpha.example"]
every = "weekly"
by = ""
formats = ["xlsx"]
{extra}
""",
        encoding="utf-8",
    )
    return path


def test_given_a_run_day_when_asking_the_period_then_yesterday_or_last_week() -> None:
    friday = dt.date(2026, 11, 20)
    assert period("daily", friday) == (dt.date(2026, 11, 19), dt.date(2026, 11, 19))
    # any day of the week after reports Monday 9 – Sunday 15 November 2026
    for day in range(16, 23):
        run = dt.date(2026, 11, day)
        assert period("weekly", run) == (dt.date(2026, 11, 9), dt.date(2026, 11, 15)), run
    assert period("weekly", dt.date(2026, 11, 23)) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))


def test_given_bad_schedules_when_loaded_then_every_problem_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[schedule]]\nname = "x"\ntenant_id = 0\nto = ["nobody"]\nevery = "hourly"\n'
        'by = "weather"\nformats = ["doc"]\ncolour = 1\n',
        encoding="utf-8",
    )
    with pytest.raises(ScheduleFileError) as caught:
        load_schedules(path)
    text = "\n".join(caught.value.problems)
    for words in ("tenant_id", "to:", "every: one of daily, weekly", "by:", "formats", "colour"):
        assert f"schedule 1: {words}" in text or words in text, words
    assert all(p.startswith(f"{path}: schedule 1: ") for p in caught.value.problems)
    result = CliRunner().invoke(app, ["report", "mail", "--schedules", str(path)])
    assert result.exit_code != 0 and "every: one of daily, weekly" in result.output


async def test_given_schedules_when_the_daily_run_sends_then_smtp_gets_the_report(
    client: httpx.AsyncClient,
    world: World,
    database: Database,
    inbox: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    handler, port = inbox
    await _import(client, world.a.tokens[Role.SUPERVISOR], ROWS)
    schedules = load_schedules(_schedules(tmp_path, world.a.tenant_id))
    # run on Saturday 21st: the daily report covers Friday 20th, the day of the rows
    messages = await build_messages(
        database, schedules, "daily", dt.date(2026, 11, 21), "reports@hotline.example"
    )
    assert len(messages) == 1  # the weekly schedule waits for its own run
    await send_messages(messages, "127.0.0.1", port)
    assert len(handler.received) == 1
    sender, recipients, content = handler.received[0]
    assert sender == "reports@hotline.example"
    assert recipients == ["boss@alpha.example", "ops@alpha.example"]
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Alpha daily: KPIs 2026-11-20"
    parts = {a.get_filename(): a for a in message.iter_attachments()}
    assert sorted(parts) == ["kpis-2026-11-20.csv", "kpis-2026-11-20.pdf"]
    rows = list(csv.DictReader(io.StringIO(parts["kpis-2026-11-20.csv"].get_content())))
    # by hand: r1, r2, r3 offered; r1 (15 s) and r3 (25 s) answered, r1 within T = 20 s
    assert [(r["queue"], r["offered"], r["answered"], r["answered_within"]) for r in rows] == [
        ("Main", "3", "2", "1")
    ]
    assert parts["kpis-2026-11-20.pdf"].get_content().startswith(b"%PDF-")
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "Offered: 3" in body.get_content()
    # the weekly run on Monday 23rd covers 16–22 November: the same three rows
    weekly = await build_messages(
        database, schedules, "weekly", dt.date(2026, 11, 23), "reports@hotline.example"
    )
    assert [m["Subject"] for m in weekly] == ["Alpha weekly: KPIs 2026-11-16 – 2026-11-22"]
    assert "Offered: 3" in str(weekly[0].get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]


def test_given_hotline_smtp_settings_when_the_cli_sends_then_their_relay_unless_an_option_says(
    inbox: tuple[Inbox, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = inbox
    data = tmp_path / "data"
    runner = CliRunner()
    assert runner.invoke(app, ["migrate", "--data", str(data)]).exit_code == 0
    schedules = _schedules(tmp_path, 1)  # a tenant with no rows: a report of zeros
    monkeypatch.setenv("HOTLINE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HOTLINE_SMTP_PORT", str(port))
    run = ["report", "mail", "--schedules", str(schedules), "--data", str(data)]
    run += ["--today", "2026-11-21", "--json"]
    result = runner.invoke(app, run)
    assert result.exit_code == 0, result.output
    assert [(s, r) for s, r, _ in handler.received] == [
        ("reports@hotline.invalid", ["boss@alpha.example", "ops@alpha.example"])
    ]
    # the options still win over the settings
    dead = free_port()
    result = runner.invoke(app, [*run, "--smtp-host", "127.0.0.1", "--smtp-port", str(dead)])
    assert result.exit_code != 0 and f"SMTP 127.0.0.1:{dead}:" in result.output
    assert len(handler.received) == 1
