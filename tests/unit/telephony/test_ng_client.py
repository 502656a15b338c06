"""The ng client against a fake daemon on a local UDP socket: retransmission with the
same cookie, the give-up error naming the address, error replies, stray datagrams."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hotline.telephony.media import ng
from hotline.telephony.media.base import MediaError
from hotline.telephony.media.ng_client import NgClient


class FakeDaemon(asyncio.DatagramProtocol):
    """Drops the first ``drop`` datagrams, then answers each with ``reply``."""

    def __init__(self, drop: int, reply: bytes) -> None:
        self.drop = drop
        self.reply = reply
        self.received: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.received.append(data)
        if len(self.received) > self.drop and self.transport is not None:
            cookie = data.split(b" ", 1)[0]
            self.transport.sendto(b"stray-cookie d6:result2:oke", addr)  # not ours: ignored
            self.transport.sendto(cookie + b" " + self.reply, addr)


async def fake(drop: int, reply: bytes) -> tuple[FakeDaemon, tuple[str, int]]:
    loop = asyncio.get_running_loop()
    transport, daemon = await loop.create_datagram_endpoint(
        lambda: FakeDaemon(drop, reply), local_addr=("127.0.0.1", 0)
    )
    host, port = transport.get_extra_info("sockname")[:2]
    return daemon, (host, port)


@pytest.fixture
async def cleanup() -> AsyncIterator[list[Any]]:
    things: list[Any] = []
    yield things
    for thing in things:
        thing.close()


async def test_a_lost_request_is_retransmitted_with_the_same_cookie(cleanup: list[Any]) -> None:
    daemon, address = await fake(drop=2, reply=b"d8:durationi1500e6:result2:oke")
    client = await NgClient.open(address, reply_timeout=0.05, attempts=4)
    cleanup += [client, daemon.transport]
    reply = await client.request("play media", {"call-id": "c1", "from-tag": "peer"})
    assert reply == {"duration": 1500, "result": b"ok"}
    assert len(daemon.received) == 3
    assert len(set(daemon.received)) == 1  # three times the very same datagram
    cookie, body = daemon.received[0].split(b" ", 1)
    assert ng.decode(body) == {"call-id": b"c1", "command": b"play media", "from-tag": b"peer"}
    # The next request has another cookie (the daemon caches replies by cookie).
    await client.request("ping", {})
    assert daemon.received[-1].split(b" ", 1)[0] != cookie


async def test_no_answer_at_all_is_a_media_error_naming_the_daemon(cleanup: list[Any]) -> None:
    daemon, address = await fake(drop=99, reply=b"")
    client = await NgClient.open(address, reply_timeout=0.02, attempts=3)
    cleanup += [client, daemon.transport]
    with pytest.raises(MediaError) as caught:
        await client.request("offer", {"call-id": "c1"})
    assert str(caught.value) == (
        f"rtpengine ng at {address[0]}:{address[1]} did not answer 'offer' "
        "(3 tries, 0.02 s apart): is the daemon running?"
    )
    assert len(daemon.received) == 3


async def test_error_replies_and_malformed_replies_raise_ng_error(cleanup: list[Any]) -> None:
    daemon, address = await fake(drop=0, reply=b"d12:error-reason8:No such!6:result5:errore")
    client = await NgClient.open(address, reply_timeout=0.2, attempts=1)
    cleanup += [client, daemon.transport]
    with pytest.raises(ng.NgError, match="rtpengine 'answer': No such!"):
        await client.request("answer", {})
    daemon.reply = b"d6:result"  # truncated
    with pytest.raises(ng.NgError, match="malformed reply"):
        await client.request("answer", {})


async def test_a_closed_client_refuses_requests() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        address = probe.getsockname()
    client = await NgClient.open(address)
    client.close()
    with pytest.raises(MediaError, match="is closed"):
        await client.request("ping", {})
