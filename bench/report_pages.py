"""Time of the report page (``GET /t/{tenant}/reports``) for a month of one queue.

``python -m bench.report_pages --json [--interactions 20000]`` imports a month of
synthetic history into a fresh SQLite database (the world of the integration tests),
then opens the page three times: with every section (the detailed ones fold the event
log, :mod:`hotline.web.pages.report_data`) and with the rollup sections only
(``MAX_FOLD = 0``).  The figures justify ``MAX_FOLD``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench._machine import machine

HEADER = (
    "id,channel,hotline,queue,agent,source,topic,arrived_at,answered_at,ended_at,"
    "hold_seconds,wrapup_seconds,csat"
)
MSK = dt.timezone(dt.timedelta(hours=3))


def _rows(n: int) -> list[str]:
    """``n`` calls spread over 30 days; every 7th abandoned after 9 s."""
    start = dt.datetime(2026, 10, 23, 8, tzinfo=MSK)
    step = 30 * 86400 / n
    rows = []
    for i in range(n):
        at = start + dt.timedelta(seconds=i * step)
        if i % 7 == 0:
            end = at + dt.timedelta(seconds=9)
            rows.append(f"b{i},call,alpha line,Main,,ads,,{at.isoformat()},,{end.isoformat()},,,")
            continue
        answered = at + dt.timedelta(seconds=5 + i % 40)
        end = answered + dt.timedelta(seconds=100 + i % 200)
        rows.append(
            f"b{i},call,alpha line,Main,alpha-operator,ads,Order,{at.isoformat()},"
            f"{answered.isoformat()},{end.isoformat()},0,15,{1 + i % 5}"
        )
    return rows


async def _run(n: int) -> dict[str, Any]:
    from hotline.app import build_context
    from hotline.core.model import Role
    from hotline.security import hash_password
    from hotline.settings import Settings
    from hotline.store.db import Database
    from hotline.store.migrate import upgrade
    from hotline.web.app import create_app
    from hotline.web.pages import report_data
    from tests.integration.world import auth, seed_world

    tmp = Path(tempfile.mkdtemp())
    db = Database(f"sqlite+aiosqlite:///{tmp / 'hotline.db'}")
    await upgrade(db.engine)
    world = await seed_world(db, hash_password("secret-pass"))
    ctx = build_context(Settings(data_dir=tmp), db)
    ctx.clock = lambda: dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    sup = world.a.tokens[Role.SUPERVISOR]
    transport = httpx.ASGITransport(app=create_app(ctx))
    figures: dict[str, Any] = {"interactions": n}
    async with httpx.AsyncClient(transport=transport, base_url="http://b", timeout=600) as c:
        body = ("\n".join([HEADER, *_rows(n)]) + "\n").encode()
        headers = {**auth(sup), "Content-Type": "text/csv"}
        imported = await c.post("/api/v1/imports/history", content=body, headers=headers)
        if imported.status_code != 201:
            raise SystemExit(f"import failed: {imported.status_code} {imported.text[:500]}")
        params = {"from": "2026-10-23", "to": "2026-11-22", "by": "queue", "interval": "day"}
        cookie = {"Cookie": f"hotline_session={sup}"}
        for label, limit in (("all_sections_s", max(n, 1)), ("rollup_sections_only_s", 0)):
            report_data.MAX_FOLD = limit
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                page = await c.get(f"/t/{world.a.tenant_id}/reports", params=params, headers=cookie)
                times.append(time.perf_counter() - t0)
                if page.status_code != 200:
                    raise SystemExit(f"report page: {page.status_code}")
            figures[label] = round(statistics.median(times), 3)
    await db.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--interactions", type=int, default=20_000)
    args = parser.parse_args()
    figures = asyncio.run(_run(args.interactions))
    document = {
        "command": f"python -m bench.report_pages --json --interactions {args.interactions}",
        "database": "sqlite",
        "figures": figures,
        "machine": machine(),
    }
    print(json.dumps(document, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
