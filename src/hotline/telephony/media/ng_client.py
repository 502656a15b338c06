"""An asyncio UDP client for rtpengine's ng control protocol, and its DTMF event socket.

Requests are retransmitted with the *same* cookie when no reply comes within
``timeout`` (rtpengine keeps a cookie cache, so a retransmitted ``offer`` is answered from
it, not performed twice); after ``attempts`` tries the daemon counts as unreachable and
the request fails with :class:`MediaError` naming the address.  Cookies carry a random
per-client prefix: the daemon's cache outlives our process, and a restarted Hotline
counting from 1 again would otherwise be answered with the previous run's replies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any, cast

from hotline.telephony.media import ng
from hotline.telephony.media.base import MediaError

__all__ = ["DtmfEvent", "DtmfEventReceiver", "NgClient"]


class NgClient(asyncio.DatagramProtocol):
    """One UDP socket to the daemon; any number of requests in flight."""

    def __init__(self, address: tuple[str, int], *, timeout: float, attempts: int) -> None:
        self.address = address
        self.timeout = timeout
        self.attempts = attempts
        self._prefix = secrets.token_hex(4)
        self._counter = itertools.count(1)
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        self._transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(
        cls, address: tuple[str, int], *, reply_timeout: float = 0.5, attempts: int = 4
    ) -> NgClient:
        loop = asyncio.get_running_loop()
        client = cls(address, timeout=reply_timeout, attempts=attempts)
        try:
            await loop.create_datagram_endpoint(lambda: client, remote_addr=address)
        except OSError as exc:
            raise MediaError(f"rtpengine ng at {_show(address)}: {exc}") from exc
        return client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            cookie, body = ng.parse_reply(data)
        except ng.BencodeError:
            return  # not ours to interpret: the request times out and says so
        future = self._pending.get(cookie)
        if future is not None and not future.done():
            future.set_result(body)

    def error_received(self, exc: Exception) -> None:
        """ICMP port unreachable (nothing listens): requests time out and say where."""

    async def request(self, command: str, params: Mapping[str, object]) -> dict[str, ng.NgValue]:
        """Send ``command`` and return the reply dictionary; :class:`MediaError` when the
        daemon does not answer, :class:`ng.NgError` when it answers with an error."""
        if self._transport is None or self._transport.is_closing():
            raise MediaError(f"rtpengine ng client for {_show(self.address)} is closed")
        cookie = f"{self._prefix}_{next(self._counter)}"
        datagram = ng.request_datagram(cookie, command, params)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[cookie] = future
        try:
            for _ in range(self.attempts):
                self._transport.sendto(datagram)
                try:
                    body = await asyncio.wait_for(asyncio.shield(future), self.timeout)
                except TimeoutError:
                    continue
                return ng.reply_dict(command, body)
        finally:
            self._pending.pop(cookie, None)
            future.cancel()
        raise MediaError(
            f"rtpengine ng at {_show(self.address)} did not answer {command!r} "
            f"({self.attempts} tries, {self.timeout:g} s apart): is the daemon running?"
        )

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class DtmfEvent:
    """One line of rtpengine's ``--dtmf-log-dest`` output (JSON, sent at a key's end)."""

    __slots__ = ("call_id", "duration", "event", "source_tag")

    def __init__(self, call_id: str, source_tag: str, event: int, duration: int = 100) -> None:
        self.call_id = call_id
        self.source_tag = source_tag
        self.event = event
        #: milliseconds the key was held
        self.duration = duration

    @classmethod
    def parse(cls, data: bytes) -> DtmfEvent | None:
        """``{"callid": .., "source_tag": .., "type": "DTMF", "event": 5, ...}``, as
        daemon/dtmf.c of 10.5 prints it; anything else is ``None``."""
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(doc, dict) or doc.get("type", "DTMF") != "DTMF":
            return None
        call_id, tag, event = doc.get("callid"), doc.get("source_tag"), doc.get("event")
        if not isinstance(call_id, str) or not isinstance(tag, str) or type(event) is not int:
            return None
        duration = doc.get("duration")
        return cls(call_id, tag, event, duration if type(duration) is int else 100)


class DtmfEventReceiver(asyncio.DatagramProtocol):
    """Listens where the daemon's ``--dtmf-log-dest`` points."""

    def __init__(self, handler: Callable[[DtmfEvent], None]) -> None:
        self._handler = handler
        self._transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(
        cls, address: tuple[str, int], handler: Callable[[DtmfEvent], None]
    ) -> DtmfEventReceiver:
        loop = asyncio.get_running_loop()
        receiver = cls(handler)
        try:
            await loop.create_datagram_endpoint(lambda: receiver, local_addr=address)
        except OSError as exc:
            raise MediaError(f"rtpengine DTMF events at {_show(address)}: {exc}") from exc
        return receiver

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        event = DtmfEvent.parse(data)
        if event is not None:
            self._handler(event)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def _show(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"
