"""Engine and sessions.  SQLite (a file under the data directory, WAL) by default;
``HOTLINE_DATABASE_URL=postgresql+asyncpg://…`` for PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hotline.core.access import Principal
from hotline.store.scope import PRINCIPAL, SYSTEM, ScopedSession


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'hotline.db').resolve()}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the web UI read while the core writes; foreign keys are off by default in
    # SQLite; busy_timeout waits on a writer instead of failing at once.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True)


class Database:
    """Owns the engine; hands out sessions that are scoped to a principal or to the system."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=ScopedSession
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, principal: Principal) -> AsyncSession:
        """A session that sees only what ``principal`` may see."""
        return self._sessions(info={PRINCIPAL: principal})

    def system_session(self) -> AsyncSession:
        """An unscoped session for the CLI, seeding, login and background jobs."""
        return self._sessions(info={SYSTEM: True})

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
