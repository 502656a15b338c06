"""The minimal SIP listener against Python sockets and the real SIPp.

Each test starts the listener on 127.0.0.1, port 0, in its own event loop.
Nothing sleeps: a test awaits the answer it expects (with a timeout), and
"no answer" is shown by the next request's answer arriving first.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from hotline.telephony.listener import SipListener, start_sip_listener
from hotline.telephony.sip import SipResponse, StreamFramer, parse

SIPP_SCENARIO = Path(__file__).parent / "sipp" / "options_uac.xml"
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


@pytest.fixture
def log() -> RecordingLog:
    return RecordingLog()


@pytest.fixture
async def listener(log: RecordingLog) -> AsyncIterator[SipListener]:
    listener = await start_sip_listener("127.0.0.1", 0, log=log)
    try:
        yield listener
    finally:
        await listener.close()


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
    """A UDP socket whose datagrams land in a queue."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.received.put_nowait(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set_result(None)

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(data)

    async def raw_answer(self) -> bytes:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            return await self.received.get()

    async def answer(self) -> SipResponse:
        return as_response(await self.raw_answer())


@pytest.fixture
async def udp(listener: SipListener) -> AsyncIterator[UdpPeer]:
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(
        UdpPeer, remote_addr=("127.0.0.1", listener.udp_port)
    )
    try:
        yield peer
    finally:
        transport.close()
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

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def raw_answer(self) -> bytes:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            while not self.pending:
                chunk = await self.reader.read(65536)
                assert chunk, "listener closed the connection instead of answering"
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
async def tcp(listener: SipListener) -> AsyncIterator[TcpPeer]:
    peer = await TcpPeer.connect(listener.tcp_port)
    try:
        yield peer
    finally:
        await peer.close()


def head_lines(raw: bytes) -> list[str]:
    """The start line and header lines of an answer that ``parse`` may reject.

    An answer to a bad request copies the bad header fields (RFC 3261
    §8.2.6.2), so it can be just as unparseable as the request was.
    """
    return raw.split(b"\r\n\r\n")[0].decode().split("\r\n")


def assert_answers(response: SipResponse, request: bytes, status: int) -> None:
    """The response is ``status`` and copies Via, From, Call-ID and CSeq (RFC 3261 §8.2.6.2)."""
    sent = parse(request)
    assert response.status == status, response
    for name in ("Via", "From", "Call-ID", "CSeq"):
        assert response.headers.get(name) == sent.headers.get(name), name
    to = response.headers.get("To") or ""
    assert to.startswith(f"{sent.headers.get('To')};tag=")


# --- (a) OPTIONS over UDP and TCP --------------------------------------------


async def test_given_listener_on_port_0_then_udp_and_tcp_share_one_port(
    listener: SipListener, log: RecordingLog
) -> None:
    assert listener.udp_port == listener.tcp_port > 0
    assert log.named("sip.listening") == [
        {"host": "127.0.0.1", "udp_port": listener.udp_port, "tcp_port": listener.tcp_port}
    ]


async def test_given_listener_when_options_over_udp_then_200_with_allow_and_accept(
    udp: UdpPeer,
) -> None:
    options, _ = sip_request()
    udp.send(options)
    response = await udp.answer()
    assert_answers(response, options, 200)
    assert "INVITE" in (response.headers.get_all("Allow"))
    assert response.headers.get("Accept") == "application/sdp"
    assert response.headers.get("Content-Length") == "0"


async def test_given_listener_when_options_over_tcp_then_200_on_the_same_connection(
    tcp: TcpPeer,
) -> None:
    first, _ = sip_request(transport="TCP")
    second, _ = sip_request(transport="TCP")
    tcp.send(first + b"\r\n\r\n" + second[:20])  # a keep-alive, then half a message
    assert_answers(await tcp.answer(), first, 200)
    tcp.send(second[20:])
    assert_answers(await tcp.answer(), second, 200)


async def test_given_retransmitted_request_then_same_to_tag(udp: UdpPeer) -> None:
    options, _ = sip_request()
    udp.send(options)
    udp.send(options)
    first, again = await udp.answer(), await udp.answer()
    # RFC 3261 §8.2.7: a stateless UAS gives the same tag to the same request.
    assert first.headers.get("To") == again.headers.get("To")


# --- other methods until call handling arrives -------------------------------


@pytest.mark.parametrize("method", ["INVITE", "REGISTER", "BYE", "SUBSCRIBE"])
async def test_given_no_call_handling_when_request_then_503_retry_after(
    udp: UdpPeer, method: str
) -> None:
    request, _ = sip_request(method)
    udp.send(request)
    response = await udp.answer()
    assert_answers(response, request, 503)
    assert response.reason == "Service Unavailable"
    assert response.headers.get("Retry-After") == "60"
    assert "not enabled yet" in (response.headers.get("Warning") or "")


async def test_given_cancel_then_200_and_given_ack_then_silence(udp: UdpPeer) -> None:
    cancel, _ = sip_request("CANCEL")
    ack, _ = sip_request("ACK")
    options, _ = sip_request()
    udp.send(cancel)
    assert_answers(await udp.answer(), cancel, 200)
    udp.send(ack)
    udp.send(options)
    # The ACK got no answer: the next datagram is the one for OPTIONS.
    assert_answers(await udp.answer(), options, 200)


async def test_given_a_response_then_it_is_ignored(udp: UdpPeer, log: RecordingLog) -> None:
    options, _ = sip_request()
    stray = (
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: stray\r\n"
        b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    udp.send(stray)
    udp.send(options)
    assert_answers(await udp.answer(), options, 200)
    assert [kw["status"] for kw in log.named("sip.response_ignored")] == [200]


# --- (b) malformed input never stops the listener ----------------------------


async def test_given_garbage_over_udp_then_logged_and_next_options_answered(
    udp: UdpPeer, log: RecordingLog
) -> None:
    options, _ = sip_request()
    udp.send(b"\x00\xff\xfe garbage \r\n\r\n")
    udp.send(b"\r\n\r\n")  # a keep-alive is not malformed
    udp.send(options)
    assert_answers(await udp.answer(), options, 200)
    [malformed] = log.named("sip.malformed")
    assert malformed["peer"].startswith("127.0.0.1:")
    assert "not valid UTF-8 at byte 1" in malformed["error"]


async def test_given_request_without_call_id_over_udp_then_400_naming_it(udp: UdpPeer) -> None:
    request, _ = sip_request()
    broken = request.replace(b"Call-ID", b"Call-Identity")
    udp.send(broken)
    lines = head_lines(await udp.raw_answer())
    assert lines[0] == "SIP/2.0 400 missing mandatory header field Call-ID (RFC 3261 §8.1.1)"
    assert f"Via: {parse(request).headers.get('Via')}" in lines
    udp.send(request)
    assert_answers(await udp.answer(), request, 200)


async def test_given_bad_request_over_tcp_then_400_and_connection_stays_usable(
    tcp: TcpPeer,
) -> None:
    request, _ = sip_request(transport="TCP")
    tcp.send(request.replace(b"CSeq: 7 OPTIONS", b"CSeq: seven OPTIONS"))
    lines = head_lines(await tcp.raw_answer())
    assert lines[0].startswith("SIP/2.0 400 bad CSeq 'seven OPTIONS'")
    assert "CSeq: seven OPTIONS" in lines
    tcp.send(request)
    assert_answers(await tcp.answer(), request, 200)


async def test_given_unframeable_tcp_stream_then_connection_closed_and_listener_serves_others(
    listener: SipListener, tcp: TcpPeer, log: RecordingLog
) -> None:
    request, _ = sip_request(transport="TCP")
    tcp.send(request.replace(b"Content-Length: 0\r\n", b""))
    assert await tcp.closed_by_peer()
    assert "Content-Length is missing" in log.named("sip.malformed")[0]["error"]
    other = await TcpPeer.connect(listener.tcp_port)
    try:
        other.send(request)
        assert_answers(await other.answer(), request, 200)
    finally:
        await other.close()


async def test_given_open_connection_when_listener_closes_then_port_is_free_again(
    log: RecordingLog,
) -> None:
    listener = await start_sip_listener("127.0.0.1", 0, log=log)
    peer = await TcpPeer.connect(listener.tcp_port)
    request, _ = sip_request(transport="TCP")
    peer.send(request)
    await peer.answer()
    await listener.close()
    assert await peer.closed_by_peer()
    await peer.close()
    again = await start_sip_listener("127.0.0.1", listener.udp_port, log=log)
    assert again.udp_port == again.tcp_port == listener.udp_port
    await again.close()


# --- (c) the real SIPp -------------------------------------------------------


@pytest.mark.parametrize("transport", ["u1", "t1"], ids=["udp", "tcp"])
async def test_given_sipp_uac_when_it_sends_options_then_all_calls_succeed(
    listener: SipListener, transport: str, tmp_path: Path
) -> None:
    sipp = shutil.which("sipp")
    if sipp is None:
        pytest.fail("sipp not found on PATH: install Debian package sip-tester")
    process = await asyncio.create_subprocess_exec(
        sipp,
        f"127.0.0.1:{listener.udp_port}",
        "-sf",
        str(SIPP_SCENARIO),
        "-t",
        transport,
        "-i",
        "127.0.0.1",
        "-p",
        "0",
        "-m",
        "5",
        "-timeout",
        "20s",
        "-nostdin",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        async with asyncio.timeout(30):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, (
        f"sipp exited {process.returncode}\n{stderr.decode(errors='replace')[-2000:]}"
        f"\n{stdout.decode(errors='replace')[-2000:]}"
    )
