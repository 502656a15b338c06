"""Shared fixtures: databases on SQLite and PostgreSQL, an API client, a two-tenant world.

Database tests take the ``database`` fixture and so run once per backend.  PostgreSQL is at
``HOTLINE_TEST_POSTGRES_URL`` (default: the local server, database ``test``); each test run
creates its own database there and drops it at the end.  Outside CI, when no PostgreSQL
answers, the PostgreSQL half is skipped with a reason saying how to enable it; with
``CI=true`` it fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hotline.settings import Settings
from hotline.store.db import Database
from hotline.store.migrate import upgrade
from hotline.store.models import Base

PG_ADMIN_URL = os.environ.get(
    "HOTLINE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        message = (
            f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc}); start it or set "
            "HOTLINE_TEST_POSTGRES_URL=postgresql+asyncpg://USER@HOST:PORT/DB"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'hotline.db'}")
    await upgrade(db.engine)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
async def postgres_db(postgres_url: str) -> AsyncIterator[Database]:
    db = Database(postgres_url)
    await upgrade(db.engine)
    yield db
    await db.dispose()


async def _truncate(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our names


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_db(request: pytest.FixtureRequest) -> Database:
    # a plain fixture: async fixtures cannot call getfixturevalue from inside the loop
    db = request.getfixturevalue(f"{request.param}_db")
    assert isinstance(db, Database)
    return db


@pytest.fixture
async def database(backend_db: Database) -> Database:
    """An empty, migrated database: once on SQLite, once on PostgreSQL."""
    await _truncate(backend_db)
    return backend_db


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        login_max_failures=3,
        login_address_max_failures=6,
        login_window_seconds=60,
    )


@pytest.fixture
def app_ctx(database: Database, settings: Settings) -> Any:
    from hotline.app import build_context

    return build_context(settings, database)


@pytest.fixture
async def client(app_ctx: Any) -> AsyncIterator[httpx.AsyncClient]:
    from hotline.web.app import create_app

    transport = httpx.ASGITransport(app=create_app(app_ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="session")
def password_hash() -> Iterator[str]:
    """One argon2 hash of ``secret-pass`` shared by seeded users: hashing is slow on purpose."""
    from hotline.security import hash_password

    yield hash_password("secret-pass")


@pytest.fixture
async def world(database: Database, password_hash: str) -> Any:
    from tests.integration.world import seed_world

    return await seed_world(database, password_hash)
