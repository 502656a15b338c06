"""Migrations apply from empty and downgrade cleanly on SQLite and PostgreSQL, the schema
they build is the one the models describe, and the event log refuses edits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hotline.core.model import AfterHoursAction, Channel, Direction, EventType
from hotline.store import models as m
from hotline.store.db import Database
from hotline.store.migrate import current_revision, downgrade, head_revision, upgrade

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    # a plain fixture: async fixtures cannot call getfixturevalue from inside the loop
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    url = request.getfixturevalue("postgres_url")
    assert isinstance(url, str)
    return url


@pytest.fixture
async def empty_db(server_url: str) -> AsyncIterator[Database]:
    """A database with no tables at all (not the shared, already migrated one)."""
    if server_url.startswith("sqlite"):
        db = Database(server_url)
        yield db
        await db.dispose()
        return
    # a database of its own, created and dropped beside the run's shared one
    name = f"hotline_mig_{uuid.uuid4().hex[:10]}"
    admin = Database(server_url)
    async with admin.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        await db.dispose()
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def test_given_empty_database_when_upgrading_then_schema_matches_models(
    empty_db: Database,
) -> None:
    await upgrade(empty_db.engine)
    assert await current_revision(empty_db.engine) == head_revision()
    assert await _tables(empty_db) == set(m.Base.metadata.tables) | {"alembic_version"}
    async with empty_db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), m.Base.metadata)
        )
    assert diff == [], f"models and migrations disagree: {diff}"


async def test_given_migrated_database_when_downgrading_to_base_then_nothing_is_left(
    empty_db: Database,
) -> None:
    await upgrade(empty_db.engine)
    await downgrade(empty_db.engine, "base")
    assert await current_revision(empty_db.engine) is None
    assert await _tables(empty_db) <= {"alembic_version"}
    await upgrade(empty_db.engine)  # and back up again, from scratch
    assert await current_revision(empty_db.engine) == head_revision()


async def test_given_event_log_when_updating_an_event_then_database_refuses(
    database: Database,
) -> None:
    async with database.system_session() as s:
        tenant = m.Tenant(name="T", slug="t", created_at=NOW)
        s.add(tenant)
        await s.flush()
        hotline = m.Hotline(
            tenant_id=tenant.id,
            name="H",
            timezone="UTC",
            language="en",
            greeting_template="{operator}",
            business_hours={},
            after_hours_action=AfterHoursAction.VOICEMAIL,
            created_at=NOW,
        )
        s.add(hotline)
        await s.flush()
        interaction = m.Interaction(
            tenant_id=tenant.id,
            hotline_id=hotline.id,
            channel=Channel.CALL,
            direction=Direction.INBOUND,
            started_at=NOW,
        )
        s.add(interaction)
        await s.flush()
        event = m.InteractionEventRow(
            tenant_id=tenant.id,
            interaction_id=interaction.id,
            seq=0,
            type=EventType.ARRIVED,
            at=NOW,
        )
        s.add(event)
        await s.commit()
        event.type = EventType.ABANDONED
        with pytest.raises(DBAPIError, match="append-only"):
            await s.commit()
        await s.rollback()
        stored = (await s.execute(sa.select(m.InteractionEventRow.type))).scalar_one()
        assert stored is EventType.ARRIVED


async def test_given_aware_time_when_stored_then_read_back_as_same_utc_instant(
    database: Database,
) -> None:
    moscow = dt.timezone(dt.timedelta(hours=3))
    async with database.system_session() as s:
        s.add(m.Tenant(name="T", slug="tz", created_at=dt.datetime(2026, 3, 1, 12, tzinfo=moscow)))
        await s.commit()
    async with database.system_session() as s:
        got = (await s.execute(sa.select(m.Tenant.created_at))).scalar_one()
    assert got == dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    assert got.tzinfo is not None


async def test_given_naive_time_when_storing_then_refused(database: Database) -> None:
    async with database.system_session() as s:
        s.add(m.Tenant(name="T", slug="naive", created_at=dt.datetime(2026, 3, 1, 12)))
        with pytest.raises(Exception, match="naive datetime"):
            await s.commit()
