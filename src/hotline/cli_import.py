"""``hotline import history FILE.csv --tenant SLUG``: interaction history into the database.

All or nothing, in one transaction: every problem of the file (bad cells, unknown hotline,
queue or agent names, ids imported before) is printed as ``FILE:LINE: column C: message``
and nothing is written (exit status 1).  See :mod:`hotline.store.history_import` for how
names are resolved and what re-importing the same ids does.
"""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from hotline.core.kpi.history import HistoryCsvError, parse_history_csv
from hotline.settings import Settings
from hotline.store import migrate as migrations
from hotline.store import models as m
from hotline.store.db import Database
from hotline.store.history_import import ImportResult, import_history

import_app = typer.Typer(help="Import data from other systems.", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> NoReturn:
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code=code)


class _RejectedError(Exception):
    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


async def _run(url: str, slug: str, path: Path, text: str) -> ImportResult:
    try:
        rows = parse_history_csv(text.splitlines())
    except HistoryCsvError as exc:
        raise _RejectedError([f"{path}:{p}" for p in exc.problems]) from exc
    except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
        raise _RejectedError([f"{path}: not a readable CSV file: {exc}"]) from exc
    db = Database(url)
    try:
        if await migrations.current_revision(db.engine) != migrations.head_revision():
            raise _RejectedError(["the database is not migrated: run `hotline migrate` first"])
        async with db.system_session() as session, session.begin():
            tenant = await session.scalar(sa.select(m.Tenant.id).where(m.Tenant.slug == slug))
            if tenant is None:
                raise _RejectedError([f"--tenant {slug}: no such tenant"])
            try:
                return await import_history(session, tenant, rows)
            except HistoryCsvError as exc:
                raise _RejectedError([f"{path}:{p}" for p in exc.problems]) from exc
    finally:
        await db.dispose()


@import_app.command("history")
def import_history_command(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="History CSV (issue 6).")],
    tenant: Annotated[str, typer.Option("--tenant", help="Slug of the tenant to import into.")],
    data: Annotated[
        Path | None, typer.Option("--data", help="Data directory (env HOTLINE_DATA_DIR).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="SQLAlchemy URL (env HOTLINE_DATABASE_URL)."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Import interaction history, all or nothing (header: id,channel,hotline,queue,...)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        _fail(f"{file}: {exc.strerror}")
    except UnicodeDecodeError as exc:
        _fail(f"{file}: not UTF-8 text (byte {exc.start})")
    overrides: dict[str, Any] = {}
    if data is not None:
        overrides["data_dir"] = data
    if database_url is not None:
        overrides["database_url"] = database_url
    try:
        url = Settings(**overrides).effective_database_url
    except ValueError as exc:
        _fail(str(exc))
    try:
        result = asyncio.run(_run(url, tenant, file, text))
    except _RejectedError as exc:
        console = Console(stderr=True)
        for line in exc.lines:
            console.print(escape(line), soft_wrap=True)
        _fail(f"nothing imported ({len(exc.lines)} problem(s))", code=1)
    except DBAPIError as exc:
        _fail(f"database {make_url(url).render_as_string(hide_password=True)}: {exc.orig}")
    except ArgumentError as exc:
        _fail(f"--database-url: {exc}")
    document = {
        "imported": result.interactions,
        "events": result.events,
        "rollup_rows": result.rollup_rows,
        "topics_created": result.topics_created,
    }
    if json_out:
        typer.echo(json.dumps(document))
    else:
        typer.echo(
            f"imported {result.interactions} interactions ({result.events} events, "
            f"{result.rollup_rows} rollup rows, {result.topics_created} new topics)"
        )
