"""A minimal SIP listener: binds UDP and TCP and answers politely.

Until call handling arrives (``transport.py`` with RFC 3261 transactions,
``b2bua.py`` with dialogs), ``hotline serve --sip HOST:PORT`` runs this
listener so that trunks, phones and monitoring get a correct, stateless
answer instead of silence:

* OPTIONS -> 200 OK with ``Allow`` and ``Accept: application/sdp`` (§11.2), so
  health checks (Kamailio dispatcher, SIPp, PBX qualify) see us up;
* CANCEL -> 200 OK; ACK -> nothing (§17.1.1.3);
* any other request -> 503 Service Unavailable with ``Retry-After: 60``
  (§21.5.4) and a Warning (§20.43) saying call handling is not enabled yet;
* responses -> ignored (we send no requests);
* malformed input -> logged as ``sip.malformed`` and, where a Via can be read,
  answered with the error's status and reason (§18.3).

Decide, then act: :func:`answer_before_call_handling` is pure; the asyncio
protocols only move bytes. Nothing escapes a protocol callback: an exception
there would be lost by asyncio, so it is logged with its peer instead.
"""

from __future__ import annotations

import asyncio
import errno
import functools
from typing import Any, Final, Protocol, cast

from hotline import __version__
from hotline.telephony.sip.errors import LocalSipError, RemoteSipError
from hotline.telephony.sip.framing import StreamFramer
from hotline.telephony.sip.message import (
    SipRequest,
    SipResponse,
    build_response,
    parse,
    response_to_malformed,
    serialize,
    stateless_to_tag,
)

__all__ = ["SipListener", "SipLog", "answer_before_call_handling", "start_sip_listener"]

#: Methods a hotline UAS will implement (RFC 3261 §20.5). INVITE and BYE are
#: listed although they get 503 for now: 503 says "not yet", not "never".
ALLOW: Final = "INVITE, ACK, CANCEL, BYE, OPTIONS"
#: Seconds a client should wait before retrying (RFC 3261 §20.33); a minute is
#: long enough not to be hammered and short enough once calls are enabled.
RETRY_AFTER_S: Final = 60
#: RFC 3261 §20.43: warn-code 399 is "Miscellaneous warning"; warn-agent names us.
NOT_ENABLED_WARNING: Final = '399 hotline "Call handling is not enabled yet"'
SERVER: Final = f"hotline/{__version__}"
# How many ephemeral UDP ports to try when port 0 asks us to pick one whose
# TCP twin is free too; a collision is rare, ten in a row means something else.
_PORT_ATTEMPTS: Final = 10


class SipLog(Protocol):
    """The part of a structlog logger the listener uses."""

    def info(self, event: str, **kw: Any) -> object:
        """Log a normal event."""

    def warning(self, event: str, **kw: Any) -> object:
        """Log a peer's misbehaviour or a failure that was survived."""


def answer_before_call_handling(request: SipRequest) -> SipResponse | None:
    """Decide the stateless answer to ``request`` while calls are not handled yet.

    The To tag is derived from the request (RFC 3261 §8.2.7) so a
    retransmission gets the very same answer.
    """
    common = (("Server", SERVER),)
    tag = stateless_to_tag(request.headers)
    if request.method == "ACK":
        return None  # §17.1.1.3: an ACK is never answered.
    if request.method == "OPTIONS":
        # §11.2: say what we support, as we would in a 200 to INVITE.
        extra = (*common, ("Allow", ALLOW), ("Accept", "application/sdp"))
        return build_response(request, 200, to_tag=tag, extra_headers=extra)
    if request.method == "CANCEL":
        # Stateless: the INVITE it cancels already got its final 503.
        return build_response(request, 200, to_tag=tag, extra_headers=common)
    extra = (*common, ("Retry-After", str(RETRY_AFTER_S)), ("Warning", NOT_ENABLED_WARNING))
    return build_response(request, 503, to_tag=tag, extra_headers=extra)


def _format_peer(addr: Any) -> str:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _reply_to(data: bytes, *, transport: str, peer: str, log: SipLog) -> bytes | None:
    """Parse one whole message and return the bytes to answer with, if any."""
    if not data.strip(b"\r\n"):
        return None  # A keep-alive (RFC 5626 §3.5.1; §7.5 ignores stray CRLFs).
    try:
        message = parse(data)
    except RemoteSipError as exc:
        log.warning("sip.malformed", peer=peer, transport=transport, error=exc.reason)
        response = response_to_malformed(data, exc)
        return None if response is None else serialize(response)
    if isinstance(message, SipResponse):
        log.info("sip.response_ignored", peer=peer, transport=transport, status=message.status)
        return None
    answer = answer_before_call_handling(message)
    log.info(
        "sip.request",
        peer=peer,
        transport=transport,
        method=message.method,
        call_id=message.headers.get("Call-ID"),
        status=None if answer is None else answer.status,
    )
    return None if answer is None else serialize(answer)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, log: SipLog) -> None:
        self._log = log
        self._transport: asyncio.DatagramTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        peer = _format_peer(addr)
        try:
            reply = _reply_to(data, transport="udp", peer=peer, log=self._log)
            if reply is not None and self._transport is not None:
                # §18.2.2: answer the source address and port (the rport
                # behaviour of RFC 3581), which also works through NAT.
                self._transport.sendto(reply, addr)
        except Exception as exc:
            self._log.warning("sip.internal_error", peer=peer, error=repr(exc), exc_info=True)

    def error_received(self, exc: Exception) -> None:
        # E.g. ICMP port unreachable after answering a peer that went away.
        self._log.warning("sip.udp_error", error=repr(exc))


class _TcpProtocol(asyncio.Protocol):
    def __init__(self, log: SipLog, connections: set[_TcpProtocol]) -> None:
        self._log = log
        self._connections = connections
        self._framer = StreamFramer()
        self._transport: asyncio.Transport | None = None
        self._peer = "?"
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._peer = _format_peer(transport.get_extra_info("peername"))
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        try:
            self._receive(data)
        except RemoteSipError as exc:
            # §18.3: a framing error leaves no way to find the next message.
            self._log.warning("sip.malformed", peer=self._peer, transport="tcp", error=exc.reason)
            self.close()
        except Exception as exc:
            self._log.warning("sip.internal_error", peer=self._peer, error=repr(exc), exc_info=True)
            self.close()

    def _receive(self, data: bytes) -> None:
        chunk = data
        # StreamFramer Rule 3: a bad frame behind good ones raises on the next feed.
        while messages := self._framer.feed(chunk):
            chunk = b""
            for raw in messages:
                reply = _reply_to(raw, transport="tcp", peer=self._peer, log=self._log)
                if reply is not None and self._transport is not None:
                    # §18.2.2: over TCP the response uses the request's connection.
                    self._transport.write(reply)


class SipListener:
    """A running listener on one port number for both UDP and TCP."""

    def __init__(
        self,
        udp: asyncio.DatagramTransport,
        udp_protocol: _UdpProtocol,
        server: asyncio.Server,
        connections: set[_TcpProtocol],
    ) -> None:
        self._udp = udp
        self._udp_protocol = udp_protocol
        self._server = server
        self._connections = connections

    @property
    def udp_port(self) -> int:
        """The UDP port bound (useful when started with port 0)."""
        return int(self._udp.get_extra_info("sockname")[1])

    @property
    def tcp_port(self) -> int:
        """The TCP port bound; equal to :attr:`udp_port`."""
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening, drop open TCP connections, and wait until all sockets are closed."""
        self._server.close()
        self._udp.close()
        connections = list(self._connections)
        for connection in connections:
            connection.close()
        await self._server.wait_closed()
        await asyncio.gather(self._udp_protocol.closed, *(c.closed for c in connections))


async def start_sip_listener(host: str, port: int, *, log: SipLog) -> SipListener:
    """Bind UDP and TCP on ``host:port`` and answer SIP as described in the module doc.

    With ``port`` 0 the system picks the UDP port and TCP binds the same
    number (RFC 3261 §18: one sent-by port serves both); if that TCP port is
    taken, we try another pair. A fixed port that is taken raises ``OSError``.
    """
    loop = asyncio.get_running_loop()
    attempts = _PORT_ATTEMPTS if port == 0 else 1
    for attempt in range(1, attempts + 1):
        udp, udp_protocol = await loop.create_datagram_endpoint(
            functools.partial(_UdpProtocol, log), local_addr=(host, port)
        )
        udp_port = int(udp.get_extra_info("sockname")[1])
        connections: set[_TcpProtocol] = set()
        try:
            server = await loop.create_server(
                functools.partial(_TcpProtocol, log, connections), host, udp_port
            )
        except OSError as exc:
            udp.close()
            await udp_protocol.closed
            if attempt == attempts or exc.errno != errno.EADDRINUSE:
                raise
            log.info("sip.port_retry", host=host, port=udp_port, attempt=attempt)
            continue
        listener = SipListener(udp, udp_protocol, server, connections)
        log.info("sip.listening", host=host, udp_port=listener.udp_port, tcp_port=listener.tcp_port)
        return listener
    raise LocalSipError("unreachable: the last bind attempt returns or raises")
