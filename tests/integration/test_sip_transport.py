"""The SIP transport (``telephony/transport.py``) against Python sockets.

Each test starts ``start_sip_transport`` on 127.0.0.1, port 0, behind a real RFC 3261
transaction layer that answers every request 200 and records what the transport handed
it (:class:`EchoUas`), so what a peer sees is what the transport really sends.  Nothing
sleeps: a test awaits the answer it expects (with a timeout), and "no answer" is shown
by the next request's answer arriving first.

Call control over the transport (what ``hotline serve`` answers) is tested against the
real product in ``test_sip_torture.py``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import pytest

from hotline.telephony.sip import (
    Address,
    RequestReceived,
    SipMessage,
    SipRequest,
    SipResponse,
    StreamFramer,
    TransactionLayer,
    Transmit,
    build_response,
    parse,
    stateless_to_tag,
)
from hotline.telephony.transport import SipTransport, start_sip_transport

ANSWER_TIMEOUT_S = 5.0
_call_ids = itertools.count(1)


class RecordingLog:
    """A structlog stand-in that keeps what was logged."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, event: str, **kw: Any) -> None:
        self.events.append(("info", event, kw))

    def warning(self, event: str, **kw: Any) -> None:
        self.events.append(("warning", event, kw))

    def named(self, event: str) -> list[dict[str, Any]]:
        return [kw for _, name, kw in self.events if name == event]


@dataclass(frozen=True)
class Handed:
    """One message as the transport handed it to its handler."""

    message: SipMessage
    source: Address
    transport: str


class EchoUas:
    """The transport's handler: a real transaction layer that answers every request 200.

    Requests whose Call-ID starts with ``raise-`` make the handler raise, as a bug in call
    control would.  Timers are never run: no test lives as long as Timer J.
    """

    def __init__(self) -> None:
        self.layer = TransactionLayer()
        self.handed: list[Handed] = []
        self.transport: SipTransport | None = None

    def __call__(self, message: SipMessage, source: Address, transport: str) -> None:
        self.handed.append(Handed(message, source, transport))
        if (message.headers.get("Call-ID") or "").startswith("raise-"):
            raise RuntimeError("call control failed")
        now = asyncio.get_running_loop().time()
        self.layer.receive(message, source, transport, now)
        for event in self.layer.events():
            if isinstance(event, RequestReceived) and event.request.method != "ACK":
                tag = stateless_to_tag(event.request.headers)
                self.layer.respond(event.key, build_response(event.request, 200, to_tag=tag), now)
        assert self.transport is not None
        for transmit in self.layer.transmits():
            self.transport.send(transmit)

    def requests(self) -> list[SipRequest]:
        return [h.message for h in self.handed if isinstance(h.message, SipRequest)]


@pytest.fixture
def log() -> RecordingLog:
    return RecordingLog()


@pytest.fixture
def uas() -> EchoUas:
    return EchoUas()


@pytest.fixture
async def sip(log: RecordingLog, uas: EchoUas) -> AsyncIterator[SipTransport]:
    transport = await start_sip_transport("127.0.0.1", 0, uas, log=log)
    uas.transport = transport
    try:
        yield transport
    finally:
        await transport.close()


def sip_request(
    method: str = "OPTIONS", *, transport: str = "UDP", call_id: str | None = None
) -> tuple[bytes, str]:
    """A well-formed request and its Call-ID (unique unless given)."""
    call_id = call_id or f"{next(_call_ids)}-test@127.0.0.1"
    data = (
        f"{method} sip:hotline@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} 127.0.0.1:5999;branch=z9hG4bK-{call_id};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:tester@127.0.0.1>;tag=from-1\r\n"
        "To: <sip:hotline@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: 7 {method}\r\n"
        "Content-Length: 0\r\n"
        "\r\n"
    )
    return data.encode(), call_id


def as_response(data: bytes) -> SipResponse:
    message = parse(data)
    assert isinstance(message, SipResponse), data
    return message


class UdpPeer(asyncio.DatagramProtocol):
    """A UDP socket whose datagrams (and their source) land in a queue."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, Address]] = asyncio.Queue()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.received.put_nowait((data, (str(addr[0]), int(addr[1]))))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set_result(None)

    @property
    def address(self) -> Address:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return (str(host), int(port))

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(data)

    async def datagram(self) -> tuple[bytes, Address]:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            return await self.received.get()

    async def raw_answer(self) -> bytes:
        return (await self.datagram())[0]

    async def answer(self) -> SipResponse:
        return as_response(await self.raw_answer())


async def open_udp_peer(port: int) -> UdpPeer:
    _, peer = await asyncio.get_running_loop().create_datagram_endpoint(
        UdpPeer, remote_addr=("127.0.0.1", port)
    )
    return peer


@pytest.fixture
async def udp(sip: SipTransport) -> AsyncIterator[UdpPeer]:
    peer = await open_udp_peer(sip.port)
    try:
        yield peer
    finally:
        assert peer.transport is not None
        peer.transport.close()
        await peer.closed


class TcpPeer:
    """A TCP connection that reads whole SIP messages with our own framer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.framer = StreamFramer()
        self.pending: list[bytes] = []

    @classmethod
    async def connect(cls, port: int) -> TcpPeer:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    @property
    def address(self) -> Address:
        host, port = self.writer.get_extra_info("sockname")[:2]
        return (str(host), int(port))

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def raw_answer(self) -> bytes:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            while not self.pending:
                chunk = await self.reader.read(65536)
                assert chunk, "the transport closed the connection instead of answering"
                self.pending += self.framer.feed(chunk)
        return self.pending.pop(0)

    async def answer(self) -> SipResponse:
        return as_response(await self.raw_answer())

    async def closed_by_peer(self) -> bool:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            return await self.reader.read(65536) == b""

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def tcp(sip: SipTransport) -> AsyncIterator[TcpPeer]:
    peer = await TcpPeer.connect(sip.port)
    try:
        yield peer
    finally:
        await peer.close()


def head_lines(raw: bytes) -> list[str]:
    """The start line and header lines of an answer that ``parse`` may reject.

    An answer to a bad request copies the bad header fields (RFC 3261 §8.2.6.2), so it
    can be just as unparseable as the request was.
    """
    return raw.split(b"\r\n\r\n")[0].decode().split("\r\n")


def assert_answers(response: SipResponse, request: bytes, status: int) -> None:
    """``status``, copying From, Call-ID and CSeq (RFC 3261 §8.2.6.2) and the Via's branch."""
    sent = parse(request)
    assert response.status == status, response
    for name in ("From", "Call-ID", "CSeq"):
        assert response.headers.get(name) == sent.headers.get(name), name
    # The transaction layer adds received/rport to the top Via (RFC 3581 §4), nothing else.
    assert (response.headers.get("Via") or "").startswith(sent.headers.get("Via") or "?")
    to = response.headers.get("To") or ""
    assert to.startswith(f"{sent.headers.get('To')};tag=")


# --- one port, UDP and TCP ----------------------------------------------------------------


async def test_given_transport_on_port_0_when_udp_and_tcp_peers_send_then_one_port_serves_both(
    sip: SipTransport, log: RecordingLog, udp: UdpPeer, tcp: TcpPeer
) -> None:
    assert sip.port > 0
    assert log.named("sip.listening") == [{"host": "127.0.0.1", "port": sip.port}]
    over_udp, _ = sip_request()
    over_tcp, _ = sip_request(transport="TCP")
    udp.send(over_udp)
    tcp.send(over_tcp)
    assert_answers(await udp.answer(), over_udp, 200)
    assert_answers(await tcp.answer(), over_tcp, 200)


async def test_given_options_over_udp_when_handled_then_200_back_to_the_source_port(
    udp: UdpPeer, uas: EchoUas, sip: SipTransport
) -> None:
    options, call_id = sip_request()
    udp.send(options)
    data, source = await udp.datagram()
    response = as_response(data)
    assert_answers(response, options, 200)
    # RFC 3581 §4: answered to the port it came from, and told so in the Via.
    assert source == ("127.0.0.1", sip.port)
    assert f";rport={udp.address[1]}" in (response.headers.get("Via") or "")
    [handed] = uas.handed
    assert isinstance(handed.message, SipRequest)
    assert handed.message.headers.get("Call-ID") == call_id
    assert (handed.source, handed.transport) == (udp.address, "udp")


async def test_given_tcp_peer_when_keepalive_and_split_message_arrive_then_each_answered_on_it(
    tcp: TcpPeer, uas: EchoUas
) -> None:
    first, _ = sip_request(transport="TCP")
    second, _ = sip_request(transport="TCP")
    tcp.send(first + b"\r\n\r\n" + second[:20])  # a keep-alive, then half a message
    assert_answers(await tcp.answer(), first, 200)
    tcp.send(second[20:])
    assert_answers(await tcp.answer(), second, 200)
    assert [(h.source, h.transport) for h in uas.handed] == [(tcp.address, "tcp")] * 2


async def test_given_udp_peer_when_request_is_retransmitted_then_each_copy_handed_on_answered_alike(
    udp: UdpPeer, uas: EchoUas
) -> None:
    options, _ = sip_request()
    udp.send(options)
    udp.send(options)
    first, again = await udp.raw_answer(), await udp.raw_answer()
    # The transport does not deduplicate; the transaction layer answers the copy
    # with the very same response (RFC 3261 §17.2.2).
    assert len(uas.handed) == 2
    assert first == again


async def test_given_udp_peer_when_a_response_arrives_then_it_is_handed_on_and_not_answered(
    udp: UdpPeer, uas: EchoUas
) -> None:
    options, _ = sip_request()
    stray = (
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: stray\r\n"
        b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    udp.send(stray)
    udp.send(options)
    # The stray response got no answer: the next datagram is the one for OPTIONS.
    assert_answers(await udp.answer(), options, 200)
    assert [type(h.message) for h in uas.handed] == [SipResponse, SipRequest]


# --- malformed input never stops the transport ------------------------------------------


async def test_given_udp_peer_when_garbage_arrives_then_logged_and_next_options_answered(
    udp: UdpPeer, log: RecordingLog, uas: EchoUas
) -> None:
    options, _ = sip_request()
    udp.send(b"\x00\xff\xfe garbage \r\n\r\n")
    udp.send(b"\r\n\r\n")  # a keep-alive is not malformed
    udp.send(options)
    assert_answers(await udp.answer(), options, 200)
    [malformed] = log.named("sip.malformed")
    assert malformed["peer"] == f"127.0.0.1:{udp.address[1]}"
    assert malformed["transport"] == "udp"
    assert "not valid UTF-8 at byte 1" in malformed["error"]
    assert len(uas.handed) == 1  # neither the garbage nor the keep-alive


async def test_given_udp_peer_when_request_lacks_call_id_then_400_naming_it_and_next_handled(
    udp: UdpPeer, log: RecordingLog, uas: EchoUas
) -> None:
    request, _ = sip_request()
    broken = request.replace(b"Call-ID", b"Call-Identity")
    udp.send(broken)
    lines = head_lines(await udp.raw_answer())
    assert lines[0] == "SIP/2.0 400 missing mandatory header field Call-ID (RFC 3261 §8.1.1)"
    assert f"Via: {parse(request).headers.get('Via')}" in lines  # back along the Via
    assert [m["error"] for m in log.named("sip.malformed")] == [lines[0].split(" ", 2)[2]]
    assert uas.handed == []
    udp.send(request)
    assert_answers(await udp.answer(), request, 200)


async def test_given_udp_peer_when_malformed_response_arrives_then_logged_and_not_answered(
    udp: UdpPeer, log: RecordingLog
) -> None:
    options, _ = sip_request()
    udp.send(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx\r\n\r\n")
    udp.send(options)
    # §18.1.2: a bad response is discarded, never answered.
    assert_answers(await udp.answer(), options, 200)
    assert len(log.named("sip.malformed")) == 1


async def test_given_tcp_peer_when_bad_request_arrives_then_400_and_connection_stays_usable(
    tcp: TcpPeer, log: RecordingLog
) -> None:
    request, _ = sip_request(transport="TCP")
    tcp.send(request.replace(b"CSeq: 7 OPTIONS", b"CSeq: seven OPTIONS"))
    lines = head_lines(await tcp.raw_answer())
    assert lines[0].startswith("SIP/2.0 400 bad CSeq 'seven OPTIONS'")
    assert "CSeq: seven OPTIONS" in lines
    assert [m["transport"] for m in log.named("sip.malformed")] == ["tcp"]
    tcp.send(request)
    assert_answers(await tcp.answer(), request, 200)


async def test_given_tcp_peer_when_stream_cannot_be_framed_then_closed_and_others_served(
    sip: SipTransport, tcp: TcpPeer, log: RecordingLog
) -> None:
    request, _ = sip_request(transport="TCP")
    tcp.send(request.replace(b"Content-Length: 0\r\n", b""))
    assert await tcp.closed_by_peer()
    [malformed] = log.named("sip.malformed")
    assert "Content-Length is missing" in malformed["error"]
    assert malformed["transport"] == "tcp"
    other = await TcpPeer.connect(sip.port)
    try:
        other.send(request)
        assert_answers(await other.answer(), request, 200)
    finally:
        await other.close()


async def test_given_tcp_peer_when_good_message_and_bad_frame_come_together_then_good_one_answered(
    tcp: TcpPeer,
) -> None:
    good, _ = sip_request(transport="TCP")
    # StreamFramer Rule 3: the good message is handled, then the connection closes.
    tcp.send(good + b"OPTIONS sip:x SIP/2.0\r\nContent-Length: many\r\n\r\n")
    assert_answers(await tcp.answer(), good, 200)
    assert await tcp.closed_by_peer()


async def test_given_failing_handler_when_udp_request_arrives_then_logged_and_next_one_handled(
    udp: UdpPeer, log: RecordingLog
) -> None:
    failing, _ = sip_request(call_id="raise-1@127.0.0.1")
    options, _ = sip_request()
    udp.send(failing)
    udp.send(options)
    # The failing request got no answer: the next datagram is the one for OPTIONS.
    assert_answers(await udp.answer(), options, 200)
    [error] = log.named("sip.internal_error")
    assert error["peer"] == f"127.0.0.1:{udp.address[1]}"
    assert "call control failed" in error["error"]


async def test_given_failing_handler_when_tcp_request_arrives_then_closed_and_others_served(
    sip: SipTransport, tcp: TcpPeer, log: RecordingLog
) -> None:
    failing, _ = sip_request(transport="TCP", call_id="raise-2@127.0.0.1")
    tcp.send(failing)
    assert await tcp.closed_by_peer()
    assert len(log.named("sip.internal_error")) == 1
    other = await TcpPeer.connect(sip.port)
    try:
        request, _ = sip_request(transport="TCP")
        other.send(request)
        assert_answers(await other.answer(), request, 200)
    finally:
        await other.close()


# --- sending ------------------------------------------------------------------------------


async def test_given_udp_peer_when_transmit_sent_to_it_then_datagram_comes_from_the_sip_port(
    sip: SipTransport, udp: UdpPeer
) -> None:
    sip.send(Transmit(b"hello over udp", udp.address, "udp"))
    assert await udp.datagram() == (b"hello over udp", ("127.0.0.1", sip.port))


async def test_given_tcp_peer_when_transmit_sent_to_it_then_it_arrives_on_its_connection(
    sip: SipTransport, tcp: TcpPeer
) -> None:
    options, _ = sip_request(transport="TCP")
    tcp.send(options)
    await tcp.answer()  # the transport has the connection by now
    request, _ = sip_request("NOTIFY", transport="TCP")
    sip.send(Transmit(request, tcp.address, "tcp"))
    assert await tcp.raw_answer() == request


async def test_given_no_tcp_connection_when_transmit_sent_over_tcp_then_logged_not_raised(
    sip: SipTransport, log: RecordingLog
) -> None:
    sip.send(Transmit(b"nobody", ("127.0.0.1", 9), "tcp"))
    assert log.named("sip.tcp_gone") == [{"peer": "127.0.0.1:9"}]


# --- closing ------------------------------------------------------------------------------


async def test_given_open_connection_when_transport_closes_then_port_is_free_again(
    log: RecordingLog, uas: EchoUas
) -> None:
    sip = await start_sip_transport("127.0.0.1", 0, uas, log=log)
    uas.transport = sip
    peer = await TcpPeer.connect(sip.port)
    request, _ = sip_request(transport="TCP")
    peer.send(request)
    await peer.answer()
    await sip.close()
    assert await peer.closed_by_peer()
    await peer.close()
    again = await start_sip_transport("127.0.0.1", sip.port, uas, log=log)
    assert again.port == sip.port
    await again.close()


async def test_given_port_in_use_when_transport_starts_on_it_then_os_error(
    sip: SipTransport, log: RecordingLog, uas: EchoUas
) -> None:
    with pytest.raises(OSError):
        await start_sip_transport("127.0.0.1", sip.port, uas, log=log)
