"""The composition root: builds store, web and SIP adapters by hand and runs them in one
asyncio loop (uvloop where available: see ../shared/notes/telephony-findings.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import secrets
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable

import structlog
import uvicorn

from hotline.core.ratelimit import SlidingWindowLimiter
from hotline.live.center import LiveCenter
from hotline.live.control import LiveControlImpl, SoftphoneControlImpl
from hotline.live.directory import load_directory
from hotline.live.eventlog import EventLogWriter
from hotline.observability import Metrics, configure_logging
from hotline.settings import Settings
from hotline.store.db import Database
from hotline.store.migrate import upgrade
from hotline.telephony.b2bua import B2bua, TelephonySettings
from hotline.telephony.media.base import MediaListener
from hotline.telephony.media.inprocess import InProcessMedia
from hotline.telephony.media.rtpengine import RtpengineMedia
from hotline.telephony.prompts import PromptLibrary, ensure_prompts
from hotline.telephony.transport import SipTransport, start_sip_transport
from hotline.telephony.webrtc.softphones import Softphones, use_ice_hosts
from hotline.web.api.deps import ApiContext
from hotline.web.app import create_app
from hotline.web.live_hub import LiveHub

#: seconds each part of telephony gets to close at shutdown
CLOSE_TIMEOUT_S = 5.0
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
        context = build_context(settings, db)
        sip_host = settings.sip_host_port[0]
        telephony = await start_telephony(settings, db)
        context.live = telephony.control
        context.softphones = SoftphoneControlImpl(telephony.b2bua, telephony.softphones)
        app = create_app(context, hub=LiveHub(telephony.center, db))
        sip = telephony.transport
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
            log.info("hotline.ready", http=url, sip=f"{sip_host}:{sip.port}", database=db.dialect)
            # a plain line too, for people and for scripts waiting on start-up
            print(f"hotline ready http={url} sip={sip_host}:{sip.port}", flush=True)

        server.on_started = announce
        # Everything built so far lives as long as the process: keep it out of the
        # collector's full passes, which otherwise stall RTP for 200–300 ms (bench.sip_load)
        gc.collect()
        gc.freeze()
        try:
            await server.serve()
        finally:
            await telephony.close()
    finally:
        await db.dispose()


class _Relay:
    """Media events reach the B2BUA, which is built after the media backend."""

    target: B2bua | None = None

    def on_dtmf(self, leg_id: str, digit: str) -> None:
        if self.target is not None:
            self.target.on_dtmf(leg_id, digit)

    def on_playback_finished(self, leg_id: str, playback_id: int) -> None:
        if self.target is not None:
            self.target.on_playback_finished(leg_id, playback_id)


class Telephony:
    """The running SIP side: transport, B2BUA, media, routing center, event-log writer."""

    def __init__(
        self,
        writer: EventLogWriter,
        center: LiveCenter,
        media: InProcessMedia | RtpengineMedia,
        b2bua: B2bua,
        transport: SipTransport,
        control: LiveControlImpl,
        softphones: Softphones,
    ) -> None:
        self.writer = writer
        self.center = center
        self.media = media
        self.b2bua = b2bua
        self.transport = transport
        self.control = control
        self.softphones = softphones

    async def close(self) -> None:
        for step, closing in (
            ("b2bua", self.b2bua.close),
            ("softphones", self.softphones.close_all),
            ("transport", self.transport.close),
            ("media", self.media.close),
            ("eventlog", self.writer.close),
        ):
            try:
                # a stuck part must not keep the process alive (SIGTERM means go)
                await asyncio.wait_for(closing(), CLOSE_TIMEOUT_S)
            except TimeoutError:
                log.error("hotline.close_timeout", part=step, seconds=CLOSE_TIMEOUT_S)


async def start_telephony(settings: Settings, db: Database) -> Telephony:
    """Prompts, routing center, media, B2BUA and the SIP transport, wired together."""
    prompts_dir = settings.prompts_dir or settings.data_dir / "prompts"
    library: PromptLibrary = await asyncio.to_thread(ensure_prompts, prompts_dir)
    writer = EventLogWriter(db)
    await writer.start()
    center = LiveCenter(await load_directory(db), writer)
    sip_host, sip_port = settings.sip_host_port
    advertised = settings.sip_advertised_host or sip_host
    relay = _Relay()
    wildcard = sip_host in ("0.0.0.0", "::")  # noqa: S104 - a comparison, not a bind
    media = await _start_media(settings, advertised if wildcard else sip_host, relay)
    secret = (settings.sip_secret or secrets.token_hex(32)).encode()
    ice_hosts = [h.strip() for h in (settings.webrtc_hosts or "").split(",") if h.strip()]
    if not ice_hosts and _loopback(settings.http_host_port[0]) and _loopback(advertised):
        # a demo on one machine: the browser can only reach us on loopback, which
        # aioice leaves out by default
        ice_hosts = [advertised]
    if ice_hosts:
        use_ice_hosts(ice_hosts)
    # the softphones' RTP gateway talks to media legs where the legs listen
    if settings.media_backend == "rtpengine":
        legs_host = settings.rtpengine_media_host or settings.rtpengine_ng_host_port[0]
    else:
        legs_host = advertised if wildcard else sip_host
    softphones = Softphones(legs_host)
    b2bua = B2bua(
        TelephonySettings(data_dir=settings.data_dir, advertised_host=advertised, secret=secret),
        center,
        media,
        library,
        softphones=softphones,
    )
    relay.target = b2bua
    transport = await start_sip_transport(
        sip_host, sip_port, b2bua.on_message, log=structlog.get_logger("hotline.sip")
    )
    b2bua.attach(transport)
    control = LiveControlImpl(db, center, b2bua)
    return Telephony(writer, center, media, b2bua, transport, control, softphones)


def _loopback(host: str) -> bool:
    return host.startswith("127.") or host in ("::1", "localhost")


async def _start_media(
    settings: Settings, host: str, listener: MediaListener
) -> InProcessMedia | RtpengineMedia:
    """The configured media backend (``HOTLINE_MEDIA_BACKEND``)."""
    if settings.media_backend == "rtpengine":
        return await RtpengineMedia.start(
            settings.rtpengine_ng_host_port,
            listener,
            dtmf_address=settings.rtpengine_dtmf_host_port,
            recording_dir=settings.rtpengine_recording_dir or settings.data_dir / "rtpengine",
            cache_dir=settings.data_dir / "rtpengine-prompts",
            symmetric=settings.rtpengine_symmetric_rtp,
            media_host=settings.rtpengine_media_host,
        )
    low, high = settings.rtp_port_range
    return InProcessMedia(host, low, high, listener)


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
