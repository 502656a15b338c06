"""KPI report queries over a month of a 1,000-operator center, on SQLite and PostgreSQL.

``python -m bench.reports --json`` (``--quick`` for a small run, ``--no-postgres`` to skip
PostgreSQL) does two things:

1. **Queries.**  A month (30 days × 96 quarter hours) of 40 queues on 3 hotlines (Moscow,
   Kolkata +05:30, Berlin) served by 1,000 operators, about 3 M interactions, is written
   straight into ``kpi_rollups`` as the 15-minute rows the live writer and the importer
   would make — generated with numpy (Poisson arrivals with a two-peak day; binomial
   answered/abandoned/within-T splits; every dimension: channel, source, topic, operator),
   since inserting 3 M interactions and their ~18 M event lines would take hours here.
   Then :func:`hotline.store.rollups.query_kpis` (the report API's path) is timed for
   "by queue × 30 min" and "by hotline × day" over the month (each hotline in its own zone),
   and "by operator" for the month; best and median of ``--repeat`` runs.
2. **Building rollups from raw visits**, on a sample: the pure aggregation
   (:func:`hotline.core.kpi.rollup.rollup_rows`) over ``--visits`` random visits, and the
   importer writing ``--import-rows`` history rows (interactions, event lines and rollups in
   one transaction), then :func:`rebuild_rollups` refolding that event log.  Rates are
   extrapolated to the month's interactions.

The databases are temporary (a file under ``/tmp``; a database created beside
``HOTLINE_BENCH_POSTGRES_URL``, default the local server's ``test``) and removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench._machine import machine
from bench._reports_data import (
    MONTH_START,
    PG_URL,
    Loader,
    history_rows,
    month_rows,
    random_visits,
    seed_center,
)
from hotline.core.kpi.rollup import rollup_rows
from hotline.store import models as m
from hotline.store.db import Database
from hotline.store.history_import import import_history
from hotline.store.migrate import upgrade
from hotline.store.reports import ReportQuery, query_kpis
from hotline.store.rollups import rebuild_rollups


async def time_queries(db: Database, tenant: int, days: int, repeat: int) -> dict[str, Any]:
    end = MONTH_START + dt.timedelta(days=days)
    cases = {
        "queue_x_30min": ReportQuery(by=["queue", "interval"], interval="30"),
        "hotline_x_day": ReportQuery(by=["hotline", "interval"], interval="day"),
        "operator_month": ReportQuery(by=["operator"]),
    }
    out: dict[str, Any] = {}
    for name, case in cases.items():
        query = ReportQuery(
            by=case.by, interval=case.interval, start=MONTH_START, end=end, tenant_id=tenant
        )
        runs = []
        groups = 0
        offered = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            async with db.system_session() as s:
                result = await query_kpis(s, query)
            runs.append(time.perf_counter() - t0)
            groups = len(result)
            offered = sum(int(g.sums["offered"] or 0) for g in result)
        out[name] = {
            "best_s": round(min(runs), 3),
            "median_s": round(statistics.median(runs), 3),
            "groups": groups,
            "offered": offered,
        }
    return out


# --- building from raw visits ---------------------------------------------------------------


async def time_build(db: Database, n: int, interactions: float) -> dict[str, Any]:
    """Import ``n`` history rows (interactions + events + rollups), then rebuild from events."""
    tenant, queues, users = await seed_center(db, 6, 20)
    async with db.system_session() as s:
        names = (
            await s.execute(
                sa.select(m.Hotline.name, m.Queue.name)
                .join(m.Queue, m.Queue.hotline_id == m.Hotline.id)
                .where(m.Queue.tenant_id == tenant)
            )
        ).all()
        logins = (
            (await s.execute(sa.select(m.User.login).where(m.User.id.in_(users)))).scalars().all()
        )
    rows = history_rows(n, [(h, q) for h, q in names], list(logins), seed=n)
    t0 = time.perf_counter()
    async with db.system_session() as s, s.begin():
        result = await import_history(s, tenant, rows)
    imported = time.perf_counter() - t0
    t0 = time.perf_counter()
    async with db.system_session() as s, s.begin():
        rebuilt = await rebuild_rollups(s, tenant)
    rebuild = time.perf_counter() - t0
    del queues
    return {
        "rows": n,
        "import_s": round(imported, 2),
        "import_rows_per_s": round(n / imported),
        "events": result.events,
        "rollup_rows": result.rollup_rows,
        "rebuild_from_events_s": round(rebuild, 2),
        "rebuild_row_count_equal": rebuilt == result.rollup_rows,
        "rebuild_visits_per_s": round(n / rebuild),
        # the run's interactions at the sample's rates (import: with their event lines)
        "estimate_import_run_s": round(interactions / (n / imported)),
        "estimate_rebuild_run_s": round(interactions / (n / rebuild)),
    }


# --- main -----------------------------------------------------------------------------------


async def bench_backend(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    await upgrade(db.engine)
    tenant, queues, operators = await seed_center(db, args.queues, args.operators)
    async with db.system_session() as s:
        hotline_of = dict(
            (
                await s.execute(
                    sa.select(m.Queue.id, m.Queue.hotline_id).where(m.Queue.id.in_(queues))
                )
            ).all()
        )
    rng = np.random.default_rng(args.seed)
    loader = Loader(db)
    offered = 0
    for starts, cols in month_rows(
        rng, tenant, [(q, hotline_of[q]) for q in queues], operators, args.days, args.per_day
    ):
        offered += sum(
            o for o, d in zip(cols["offered"], cols["dimension"], strict=True) if d == ""
        )
        await loader.load(starts, cols)
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE kpi_rollups"))
            await conn.commit()
    result: dict[str, Any] = {
        "interactions": offered,
        "rollup_rows": loader.rows,
        "load_s": round(loader.seconds, 1),
        "queries": await time_queries(db, tenant, args.days, args.repeat),
    }
    result["build_sample"] = await time_build(db, args.import_rows, offered)
    return result


async def with_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            return await bench_backend(db, args)
        finally:
            await db.dispose()


async def with_postgres(args: argparse.Namespace) -> dict[str, Any]:
    import asyncpg

    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return {"skipped": f"PostgreSQL not reachable at {PG_URL}: {exc}"}
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        db = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
        try:
            return await bench_backend(db, args)
        finally:
            await db.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--quick", action="store_true", help="100 operators, 7 days, small sample")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--operators", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=40)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--per-day", type=float, default=2800.0, help="mean interactions per queue and day"
    )
    parser.add_argument("--visits", type=int, default=200_000, help="pure rollup sample")
    parser.add_argument("--import-rows", type=int, default=10_000, help="importer sample")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)
    if args.quick:
        args.operators, args.queues, args.days, args.per_day = 100, 8, 7, 500.0
        args.visits, args.import_rows, args.repeat = 20_000, 1_000, 2
    visits = random_visits(args.visits, list(range(1, 41)), args.seed)
    t0 = time.perf_counter()
    rows = rollup_rows(visits)
    pure = time.perf_counter() - t0
    document: dict[str, Any] = {
        "machine": machine(),
        "center": {
            "operators": args.operators,
            "queues": args.queues,
            "days": args.days,
            "mean_interactions_per_queue_day": args.per_day,
        },
        "goal_s": 2.0,
        "pure_rollup": {
            "visits": args.visits,
            "rows": len(rows),
            "seconds": round(pure, 2),
            "visits_per_s": round(args.visits / pure),
        },
        "sqlite": asyncio.run(with_sqlite(args)),
    }
    if not args.no_postgres:
        document["postgresql"] = asyncio.run(with_postgres(args))
    if args.json:
        print(json.dumps(document))
    else:
        print(json.dumps(document, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
