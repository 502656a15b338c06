"""SIP over UDP and TCP: the only SIP module with sockets (RFC 3261 §18).

The transport moves bytes and nothing else: it cuts TCP streams into messages
(:class:`~hotline.telephony.sip.framing.StreamFramer`), parses each message and hands it
to the message handler (call control, which runs the transaction layer), and sends the
``Transmit`` values the transaction layer produced.  Malformed input is answered here,
statelessly, where a Via can be read (§18.3 for streams; §8.2 "400 Bad Request"
otherwise), logged as ``sip.malformed``, and never stops the listener.

One port number serves UDP and TCP (§18: the sent-by port is transport-independent).
Responses over TCP go back on the request's connection (§18.2.2), which is why TCP
connections are kept by peer address: the transaction layer names a destination, we find
the connection.
"""

from __future__ import annotations

import asyncio
import errno
import functools
from collections.abc import Callable
from typing import Any, Final, Protocol, cast

from hotline.telephony.sip.errors import LocalSipError, RemoteSipError
from hotline.telephony.sip.framing import StreamFramer
from hotline.telephony.sip.message import SipMessage, parse, response_to_malformed, serialize
from hotline.telephony.sip.transaction import Address, Transmit

__all__ = ["MessageHandler", "SipLog", "SipTransport", "start_sip_transport"]

# How many ephemeral UDP ports to try when port 0 asks us to pick one whose TCP twin is
# free too; a collision is rare, ten in a row means something else.
_PORT_ATTEMPTS: Final = 10

MessageHandler = Callable[[SipMessage, Address, str], None]


class SipLog(Protocol):
    """The part of a structlog logger the transport uses."""

    def info(self, event: str, **kw: Any) -> object: ...

    def warning(self, event: str, **kw: Any) -> object: ...


def format_peer(addr: Address) -> str:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _accept(
    data: bytes, source: Address, transport: str, handler: MessageHandler, log: SipLog
) -> bytes | None:
    """Parse one whole message; hand it on, or return the stateless answer to bad input."""
    if not data.strip(b"\r\n"):
        return None  # A keep-alive (RFC 5626 §3.5.1; §7.5 ignores stray CRLFs).
    try:
        message = parse(data)
    except RemoteSipError as exc:
        log.warning(
            "sip.malformed", peer=format_peer(source), transport=transport, error=exc.reason
        )
        response = response_to_malformed(data, exc)
        return None if response is None else serialize(response)
    handler(message, source, transport)
    return None


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, handler: MessageHandler, log: SipLog) -> None:
        self._handler = handler
        self._log = log
        self.transport: asyncio.DatagramTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        source = (str(addr[0]), int(addr[1]))
        try:
            reply = _accept(data, source, "udp", self._handler, self._log)
            if reply is not None and self.transport is not None:
                self.transport.sendto(reply, source)
        except Exception as exc:  # never let one datagram stop the listener
            self._log.warning(
                "sip.internal_error", peer=format_peer(source), error=repr(exc), exc_info=True
            )

    def error_received(self, exc: Exception) -> None:
        # E.g. ICMP port unreachable after answering a peer that went away.
        self._log.info("sip.udp_error", error=repr(exc))


class _TcpProtocol(asyncio.Protocol):
    def __init__(
        self, handler: MessageHandler, log: SipLog, connections: dict[Address, _TcpProtocol]
    ) -> None:
        self._handler = handler
        self._log = log
        self._connections = connections
        self._framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("?", 0)
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = (str(host), int(port))
        self._connections[self.peer] = self

    def connection_lost(self, exc: Exception | None) -> None:
        if self._connections.get(self.peer) is self:
            del self._connections[self.peer]
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        try:
            chunk = data
            # StreamFramer Rule 3: a bad frame behind good ones raises on the next feed.
            while messages := self._framer.feed(chunk):
                chunk = b""
                for raw in messages:
                    reply = _accept(raw, self.peer, "tcp", self._handler, self._log)
                    if reply is not None and self.transport is not None:
                        self.transport.write(reply)
        except RemoteSipError as exc:
            # §18.3: a framing error leaves no way to find the next message.
            self._log.warning(
                "sip.malformed", peer=format_peer(self.peer), transport="tcp", error=exc.reason
            )
            self.close()
        except Exception as exc:
            self._log.warning(
                "sip.internal_error", peer=format_peer(self.peer), error=repr(exc), exc_info=True
            )
            self.close()


class SipTransport:
    """A running UDP + TCP endpoint on one port number."""

    def __init__(
        self,
        host: str,
        udp: asyncio.DatagramTransport,
        udp_protocol: _UdpProtocol,
        server: asyncio.Server,
        connections: dict[Address, _TcpProtocol],
        log: SipLog,
    ) -> None:
        self.host = host
        self._udp = udp
        self._udp_protocol = udp_protocol
        self._server = server
        self._connections = connections
        self._log = log

    @property
    def port(self) -> int:
        """The port bound for both UDP and TCP (useful when started with port 0)."""
        return int(self._udp.get_extra_info("sockname")[1])

    def send(self, transmit: Transmit) -> None:
        if transmit.transport == "tcp":
            connection = self._connections.get(transmit.destination)
            if connection is None or connection.transport is None:
                # We never open TCP connections ourselves (phones and trunks connect to
                # us): a vanished connection means the peer went away.
                self._log.info("sip.tcp_gone", peer=format_peer(transmit.destination))
                return
            connection.transport.write(transmit.data)
        else:
            self._udp.sendto(transmit.data, transmit.destination)

    async def close(self) -> None:
        """Stop listening, drop open TCP connections, wait until all sockets are closed."""
        self._server.close()
        self._udp.close()
        connections = list(self._connections.values())
        for connection in connections:
            connection.close()
        await self._server.wait_closed()
        await asyncio.gather(self._udp_protocol.closed, *(c.closed for c in connections))


async def start_sip_transport(
    host: str, port: int, handler: MessageHandler, *, log: SipLog
) -> SipTransport:
    """Bind UDP and TCP on ``host:port``; every parsed message goes to ``handler``.

    With ``port`` 0 the system picks the UDP port and TCP binds the same number; if that
    TCP port is taken, we try another pair.  A fixed port that is taken raises ``OSError``.
    """
    loop = asyncio.get_running_loop()
    attempts = _PORT_ATTEMPTS if port == 0 else 1
    for attempt in range(1, attempts + 1):
        udp, udp_protocol = await loop.create_datagram_endpoint(
            functools.partial(_UdpProtocol, handler, log), local_addr=(host, port)
        )
        udp_port = int(udp.get_extra_info("sockname")[1])
        connections: dict[Address, _TcpProtocol] = {}
        try:
            server = await loop.create_server(
                functools.partial(_TcpProtocol, handler, log, connections), host, udp_port
            )
        except OSError as exc:
            udp.close()
            await udp_protocol.closed
            if attempt == attempts or exc.errno != errno.EADDRINUSE:
                raise
            log.info("sip.port_retry", host=host, port=udp_port, attempt=attempt)
            continue
        sip = SipTransport(host, udp, udp_protocol, server, connections, log)
        log.info("sip.listening", host=host, port=sip.port)
        return sip
    raise LocalSipError("unreachable: the last bind attempt returns or raises")
