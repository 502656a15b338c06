"""The composition root: builds store, web and SIP adapters by hand and runs them in one
asyncio loop (uvloop where available: see ../shared/notes/telephony-findings.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable

import structlog
import uvicorn

from hotline.core.ratelimit import SlidingWindowLimiter
from hotline.observability import Metrics, configure_logging
from hotline.settings import Settings
from hotline.store.db import Database
from hotline.store.migrate import upgrade
from hotline.telephony.listener import start_sip_listener
from hotline.web.api.deps import ApiContext
from hotline.web.app import create_app

BeforeServe = Callable[[Database], Awaitable[None]]
log = structlog.get_logger("hotline")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def build_context(settings: Settings, db: Database) -> ApiContext:
    return ApiContext(
        db=db,
        settings=settings,
        metrics=Metrics(),
        login_limiter=SlidingWindowLimiter(
            settings.login_max_failures, settings.login_window_seconds
        ),
        address_limiter=SlidingWindowLimiter(
            settings.login_address_max_failures, settings.login_window_seconds
        ),
        clock=utc_now,
        monotonic=time.monotonic,
    )


class _Server(uvicorn.Server):
    """uvicorn, telling us once its sockets listen (so "ready" is never a guess)."""

    on_started: Callable[[str, int], None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            self.on_started(str(host), int(port))


async def serve(settings: Settings, *, before_serve: BeforeServe | None = None) -> None:
    """Migrate, optionally seed, then serve HTTP and SIP until SIGINT/SIGTERM."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    try:
        await upgrade(db.engine)
        if before_serve is not None:
            await before_serve(db)
        app = create_app(build_context(settings, db))
        sip_host, sip_port = settings.sip_host_port
        sip = await start_sip_listener(sip_host, sip_port, log=structlog.get_logger("hotline.sip"))
        http_host, http_port = settings.http_host_port
        server = _Server(
            uvicorn.Config(
                app,
                host=http_host,
                port=http_port,
                log_config=None,
                access_log=False,
                lifespan="off",
                server_header=False,
            )
        )

        def announce(host: str, port: int) -> None:
            url = f"http://{host}:{port}"
            log.info(
                "hotline.ready", http=url, sip=f"{sip_host}:{sip.udp_port}", database=db.dialect
            )
            # a plain line too, for people and for scripts waiting on start-up
            print(f"hotline ready http={url} sip={sip_host}:{sip.udp_port}", flush=True)

        server.on_started = announce
        try:
            await server.serve()
        finally:
            await sip.close()
    finally:
        await db.dispose()


def _exit_cleanly(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def run(settings: Settings, *, before_serve: BeforeServe | None = None) -> None:
    """Blocking entry point for ``hotline serve`` and ``hotline demo``.

    uvicorn catches SIGINT/SIGTERM to shut down gracefully, then re-raises the signal with
    the handler that was there before; ours turns it into a clean exit (status 0).
    """
    configure_logging(settings.log_format, settings.log_level)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if sys.platform != "win32":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(settings, before_serve=before_serve))
