"""Knowledge-base search over thousands of articles: is stemming in Python fast enough?

``python -m bench.kb_search --json`` writes ``--articles`` articles (default 5,000, about
``--words`` words each, Russian and English, with the inflected forms of a few nouns mixed
in) for one hotline into a temporary SQLite database, then times
``GET /api/v1/kb-articles/search`` through the real app (ASGI, no network), then does the
same on a temporary PostgreSQL database (``--no-postgres`` skips it; the server is
``HOTLINE_BENCH_POSTGRES_URL`` as for ``bench.reports``):

* **cold**: the first search after start, which stems every article (the cache is empty);
* **warm**: later searches (ids and timestamps read, cached stems scored), median and max.

Each query's hit count is checked against the count of articles the generator put one of
the word's forms into (a reference computed from the generator, not from the stemmer).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench._machine import machine
from bench._reports_data import PG_URL
from hotline.app import build_context
from hotline.core.model import Role
from hotline.security import token_digest
from hotline.settings import Settings
from hotline.store import models as m
from hotline.store.db import Database
from hotline.store.migrate import upgrade
from hotline.web.app import create_app

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
#: query -> the forms the generator may write (all stem to the query's stem)
FORMS = {
    "доставка": ["доставка", "доставки", "доставке", "доставку", "доставкой"],
    "гарантия": ["гарантия", "гарантии", "гарантию", "гарантией"],
    "refunds": ["refund", "refunds", "refunded", "refunding"],
    "оплата": ["оплата", "оплаты", "оплате", "оплату", "оплатой"],
}
FILLER = [
    "заказ",
    "курьер",
    "пункт",
    "выдачи",
    "товар",
    "срок",
    "стоимость",
    "магазин",
    "клиент",
    "сервис",
    "order",
    "item",
    "customer",
    "store",
    "payment",
    "parcel",
    "tracking",
    "number",
    "address",
    "city",
    "price",
    "discount",
    "week",
    "day",
]


def articles(n: int, words: int, seed: int = 7) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """``n`` (title, body) pairs and, per query, how many contain one of its forms."""
    rng = random.Random(seed)
    made: list[tuple[str, str]] = []
    expected = dict.fromkeys(FORMS, 0)
    for i in range(n):
        body = [rng.choice(FILLER) for _ in range(words)]
        for query, forms in FORMS.items():
            if rng.random() < 0.1:  # about one article in ten mentions each topic
                body[rng.randrange(words)] = rng.choice(forms)
                expected[query] += 1
        made.append((f"Статья {i}", " ".join(body)))
    return made, expected


async def run(n: int, words: int, repeat: int, url: str | None = None) -> dict[str, Any]:
    """The figures on ``url`` (a migrated-on-the-fly database), or a temporary SQLite file."""
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        db = Database(url or f"sqlite+aiosqlite:///{Path(tmp) / 'kb.db'}")
        try:
            await upgrade(db.engine)
            texts, expected = articles(n, words)
            async with db.system_session() as s:
                tenant = m.Tenant(name="Bench", slug="bench", created_at=NOW)
                s.add(tenant)
                await s.flush()
                hotline = m.Hotline(
                    tenant_id=tenant.id,
                    name="Bench line",
                    timezone="Europe/Moscow",
                    language="ru",
                    greeting_template="",
                    business_hours={},
                    after_hours_action="voicemail",
                    created_at=NOW,
                )
                admin = m.User(
                    tenant_id=None,
                    login="bench-admin",
                    display_name="Admin",
                    role=Role.ADMIN,
                    password_hash="!",  # noqa: S106 - never logs in: a bearer token only
                    capacity={},
                    created_at=NOW,
                )
                s.add_all([hotline, admin])
                await s.flush()
                s.add(
                    m.ApiToken(
                        user_id=admin.id,
                        token_hash=token_digest("bench-token"),
                        kind="api",
                        created_at=NOW,
                        # valid from the real now: NOW dates the data, not the token
                        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                    )
                )
                s.add_all(
                    m.KbArticle(
                        tenant_id=tenant.id,
                        hotline_id=hotline.id,
                        title=title,
                        body=body,
                        language="ru",
                        tags=[],
                        updated_at=NOW,
                    )
                    for title, body in texts
                )
                await s.commit()
                hotline_id = hotline.id
            app = create_app(build_context(Settings(data_dir=Path(tmp)), db))
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": "Bearer bench-token"}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:

                async def search(q: str) -> tuple[float, int]:
                    started = time.perf_counter()
                    r = await c.get(
                        "/api/v1/kb-articles/search",
                        params={"q": q, "hotline_id": hotline_id},
                        headers=headers,
                    )
                    elapsed = time.perf_counter() - started
                    r.raise_for_status()
                    return elapsed, int(r.json()["total"])

                cold, _ = await search("доставка")
                warm: list[float] = []
                totals: dict[str, int] = {}
                for _ in range(repeat):
                    for q in FORMS:
                        elapsed, totals[q] = await search(q)
                        warm.append(elapsed)
        finally:
            await db.dispose()
    return {
        "articles": n,
        "words_per_article": words,
        "cold_first_search_s": round(cold, 3),
        "warm_search_median_ms": round(statistics.median(warm) * 1000, 1),
        "warm_search_max_ms": round(max(warm) * 1000, 1),
        "hits": totals,
        "hits_expected": expected,
        "hits_match": totals == expected,
    }


async def run_postgres(n: int, words: int, repeat: int) -> dict[str, Any]:
    import asyncpg

    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return {"skipped": f"PostgreSQL not reachable at {PG_URL}: {exc}"}
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        return await run(n, words, repeat, url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--words", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    sizes = (args.articles, args.words, args.repeat)
    doc: dict[str, Any] = {"command": "python -m bench.kb_search --json"}
    doc["sqlite"] = asyncio.run(run(*sizes))
    if not args.no_postgres:
        doc["postgres"] = asyncio.run(run_postgres(*sizes))
    doc["machine"] = machine()
    print(json.dumps(doc, ensure_ascii=False, indent=None if args.json else 2))
    ok = [r["hits_match"] for r in (doc["sqlite"], doc.get("postgres", {})) if "hits_match" in r]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
