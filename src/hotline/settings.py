"""The one settings object (pydantic-settings): CLI options override ``HOTLINE_*`` env vars."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.store.db import sqlite_url


def split_host_port(value: str, *, default_port: int) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` → ``("127.0.0.1", 8080)``; ``"[::1]:5060"`` works too."""
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, default_port
    host = host.strip("[]")
    if not host:
        raise ValueError(f"{value!r}: host is empty (expected HOST:PORT)")
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"{value!r}: port {port!r} is not a number") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"{value!r}: port {number} is outside 0–65535")
    return host, number


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="SQLite file, recordings, prompts")
    http: str = "127.0.0.1:8080"
    sip: str = "127.0.0.1:5060"
    database_url: str | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: page sessions last a working shift plus margin; API tokens a month
    session_ttl_seconds: int = 12 * 3600
    api_token_ttl_seconds: int = 30 * 24 * 3600
    #: set when served over HTTPS (behind a proxy) so cookies are never sent in clear
    secure_cookies: bool = False
    #: login throttling: failures per window per login, and per client address (higher:
    #: a call-center floor often shares one NAT address)
    login_max_failures: int = 5
    login_address_max_failures: int = 30
    login_window_seconds: float = 60.0

    #: RTP ports for media legs (even ports are used, one per leg): 5,000 legs by default
    rtp_ports: str = "20000-29999"
    #: the address put in SDP and Contact; default: the SIP listening host
    #: (set it when listening on 0.0.0.0)
    sip_advertised_host: str | None = None
    #: the key of SIP digest nonces; random per process when not set (never in the repo)
    sip_secret: str | None = None
    #: "inprocess" (default, zero set-up) or "rtpengine" (a running rtpengine daemon,
    #: driven over its ng protocol; see telephony/README.md for its options)
    media_backend: Literal["inprocess", "rtpengine"] = "inprocess"
    #: rtpengine's ng control address (the daemon's --listen-ng)
    rtpengine_ng: str = "127.0.0.1:2223"
    #: where we receive rtpengine's DTMF events (the daemon's --dtmf-log-dest)
    rtpengine_dtmf: str = "127.0.0.1:2226"
    #: the daemon's --recording-dir (with --recording-method=pcap), readable by us;
    #: default DATA_DIR/rtpengine
    rtpengine_recording_dir: Path | None = None
    #: rtpengine sends to where a peer's RTP comes from (callers behind NAT); false for
    #: peers that send from another port than their SDP names (SIPp with -mp)
    rtpengine_symmetric_rtp: bool = True
    #: the address phones send RTP to (the daemon's --interface); default: the ng host
    rtpengine_media_host: str | None = None
    #: ICE host candidates of browser softphones, comma-separated (default: every
    #: interface but loopback, aioice's choice); e.g. 127.0.0.1 for a laptop demo
    webrtc_hosts: str | None = None
    #: where pre-rendered prompts live; default DATA_DIR/prompts
    prompts_dir: Path | None = None

    #: the SMTP relay of e-mail the center sends: the desktop's offers and, unless its
    #: --smtp-host/--smtp-port say otherwise, ``hotline report mail``'s reports
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    #: the From of offer e-mails (reports have their own, ``hotline report mail --from``)
    smtp_sender: str = "offers@hotline.invalid"
    #: per SMTP step (connect, greeting, each command); an operator sending an offer
    #: waits at most about twice this
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("rtp_ports")
    @classmethod
    def _port_range(cls, value: str) -> str:
        low, sep, high = value.partition("-")
        if not sep or not low.strip().isdigit() or not high.strip().isdigit():
            raise ValueError(f"{value!r}: expected LOW-HIGH, e.g. 20000-29999")
        if not 1024 <= int(low) < int(high) <= 65535:
            raise ValueError(f"{value!r}: need 1024 <= LOW < HIGH <= 65535")
        return value

    @property
    def rtp_port_range(self) -> tuple[int, int]:
        low, _, high = self.rtp_ports.partition("-")
        return int(low), int(high)

    @field_validator("http", "sip", "rtpengine_ng", "rtpengine_dtmf")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_host_port(value, default_port=0)
        return value

    @property
    def http_host_port(self) -> tuple[str, int]:
        return split_host_port(self.http, default_port=8080)

    @property
    def sip_host_port(self) -> tuple[str, int]:
        return split_host_port(self.sip, default_port=5060)

    @property
    def rtpengine_ng_host_port(self) -> tuple[str, int]:
        return split_host_port(self.rtpengine_ng, default_port=2223)

    @property
    def rtpengine_dtmf_host_port(self) -> tuple[str, int]:
        return split_host_port(self.rtpengine_dtmf, default_port=2226)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)
