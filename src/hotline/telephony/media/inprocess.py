"""The in-process media backend: RTP over asyncio UDP, one pacing clock for every leg.

Theory of operation:

Rule 1. One UDP endpoint per leg, on an even port of the configured range (RFC 3550
§11: RTP on even ports), ports in use by others skipped.  Ports are handed out round
the range, so a port just freed is not reused at once (late packets of the previous
call would land in the next one).

Rule 2. One clock paces every leg: a single ``loop.call_at`` every 20 ms, on absolute
deadlines ``t0 + k * 20 ms`` so it does not drift.  Each tick sends the next 160-byte
frame of every playing leg: one ``struct.pack`` and one ``sendto``.  When the loop was
late, at most :data:`MAX_CATCH_UP` frames per leg go out; the frames of older missed
ticks are skipped (time moves on, the peer sees loss, not a clock slip).

Rule 3. RTP timestamps follow that clock: a frame sent at tick ``k`` is stamped
``160 * (k - k_last)`` after the leg's previous frame, so silence leaves a gap and the
marker bit opens each talkspurt (RFC 3551 §4.1).  Relayed audio keeps the source's
timestamp spacing, shifted onto the receiving leg's own timestamp, sequence number and
SSRC (we are the RTP source toward each peer, RFC 3550 §7.1 does not apply).

Rule 4. Symmetric RTP (RFC 4961): a leg sends to the SDP address until the peer's
first packet arrives, then to that packet's source if it comes from another host (a NAT
rewrote the address), and from then on accepts packets from that host only.  A
re-INVITE with a new SDP address re-opens the latch.

Rule 5. Nothing blocks the loop: prompts are loaded, resampled and encoded in the
executor and cached (:mod:`.prompts`); recordings keep frames in memory and are
decoded and written in the executor (:mod:`.recording`, :mod:`.recorder`).

Rule 6. A peer's packet never raises out of ``datagram_received``: garbage and RTCP are
counted and dropped; an error of ours is logged with the leg and counted.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import itertools
import secrets
import socket
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, Final, Protocol

import structlog

from hotline.telephony.media import recorder
from hotline.telephony.media.base import (
    Codec,
    LocalMedia,
    MediaError,
    MediaListener,
    RecordingResult,
    RemoteMedia,
)
from hotline.telephony.media.legs import PTIME_S, Leg, PacingStats, Playback
from hotline.telephony.media.prompts import PromptCache
from hotline.telephony.rtp.packet import parse_rtp

__all__ = ["MAX_CATCH_UP", "InProcessMedia", "MediaLog"]

#: Rule 2: frames per leg sent by one late tick; more would burst into the peer's
#: jitter buffer, which holds a few frames at most.
MAX_CATCH_UP: Final = 2
#: Ticks between two checks for recordings to spill to disk (1 s).
_SPILL_CHECK_TICKS: Final = 50
_ADDRESS_ERRORS: Final = (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL)
_PCMU: Final = int(Codec.PCMU)
_PCMA: Final = int(Codec.PCMA)


class MediaLog(Protocol):
    """The part of a structlog logger the backend uses."""

    def info(self, event: str, **kw: Any) -> object: ...

    def warning(self, event: str, **kw: Any) -> object: ...


class _LegProtocol(asyncio.DatagramProtocol):
    """Moves a leg's datagrams to the backend; nothing escapes (Rule 6)."""

    def __init__(self, media: InProcessMedia, leg: Leg) -> None:
        self._media = media
        self._leg = leg
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            self._media._receive(self._leg, data, addr)
        except Exception as exc:
            self._media._internal_error("media.receive_failed", self._leg, exc)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable: the peer is not listening (yet, or any more).
        self._media._peer_unreachable(self._leg, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class InProcessMedia:
    """:class:`~hotline.telephony.media.base.MediaBackend` over asyncio UDP sockets.

    ``host`` is the address bound and, unless ``public_host`` is given, the one put in
    our SDP; RTP ports are the even ones in ``[port_min, port_max]``.  ``executor``
    runs prompt loading and recording writes (``None``: the loop's default executor).
    Must be created on the running event loop that will drive it.
    """

    def __init__(
        self,
        host: str,
        port_min: int,
        port_max: int,
        listener: MediaListener,
        *,
        executor: Executor | None = None,
        public_host: str | None = None,
        log: MediaLog | None = None,
    ) -> None:
        first = port_min + (port_min & 1)
        if not 0 < first <= port_max <= 65535:
            raise MediaError(
                f"RTP port range {port_min}-{port_max} holds no even port (configuration)"
            )
        self._host = host
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._public_host = public_host or host
        self._ports = list(range(first, port_max + 1, 2))
        self._port_cursor = 0
        self._listener = listener
        self._executor = executor
        self._log: MediaLog = log or structlog.get_logger("hotline.media")
        self._loop = asyncio.get_running_loop()
        self._prompts = PromptCache(executor)
        self._legs: dict[str, Leg] = {}
        self._ports_in_use: set[int] = set()
        self._playing: dict[str, Leg] = {}
        self._dtmf_open: set[Leg] = set()
        self._recorder = recorder.Recorder(self._loop, executor, self._log)
        self._playback_ids = itertools.count(1)
        self._timer: asyncio.TimerHandle | None = None
        self._t0 = 0.0
        self._tick_index = 0
        self._pacing = PacingStats()

    # --- MediaBackend ------------------------------------------------------------------

    async def open_leg(self, leg_id: str) -> LocalMedia:
        """Bind the next free even port of the range (Rule 1)."""
        if leg_id in self._legs:
            raise MediaError(f"leg {leg_id} is already open (call control opened it twice)")
        count = len(self._ports)
        for attempt in range(count):
            port = self._ports[(self._port_cursor + attempt) % count]
            if port in self._ports_in_use:
                continue
            sock = socket.socket(self._family, socket.SOCK_DGRAM)
            try:
                sock.bind((self._host, port))
            except OSError as exc:
                sock.close()
                if exc.errno in _ADDRESS_ERRORS:
                    continue  # Taken by another process: try the next one.
                raise MediaError(f"RTP port {self._host}:{port}: cannot bind ({exc})") from exc
            sock.setblocking(False)
            self._port_cursor = (self._port_cursor + attempt + 1) % count
            # RFC 3550 §5.1: random SSRC, initial sequence number and timestamp.
            leg = Leg(
                leg_id, port, secrets.randbits(32), secrets.randbits(16), secrets.randbits(32)
            )
            leg.sock = sock
            self._ports_in_use.add(port)
            self._legs[leg_id] = leg
            try:
                transport, protocol = await self._loop.create_datagram_endpoint(
                    functools.partial(_LegProtocol, self, leg), sock=sock
                )
            except OSError as exc:
                sock.close()
                self._legs.pop(leg_id, None)
                self._ports_in_use.discard(port)
                raise MediaError(f"RTP port {self._host}:{port}: cannot listen ({exc})") from exc
            if leg.closed:
                transport.close()
                raise MediaError(f"leg {leg_id} was closed while it was being opened")
            leg.transport = transport
            leg.protocol_closed = protocol.closed
            self._start_clock()
            return LocalMedia(self._public_host, port)
        raise MediaError(
            f"no free RTP port in {self._ports[0]}-{self._ports[-1]} on {self._host} "
            f"({len(self._legs)} legs open here): widen the range or take fewer calls"
        )

    def connect(self, leg_id: str, remote: RemoteMedia) -> None:
        """Set the peer (SDP); a new address re-opens the symmetric RTP latch (Rule 4)."""
        leg = self._leg(leg_id)
        try:
            unspecified = ipaddress.ip_address(remote.host).is_unspecified
        except ValueError:
            raise MediaError(
                f"leg {leg_id}: remote host {remote.host!r} is not an IP address "
                "(call control must resolve SDP names: sendto would block on DNS)"
            ) from None
        address = (remote.host, remote.port)
        if leg.remote is None or (leg.remote.host, leg.remote.port) != address:
            leg.send_to = address
            leg.latched = False
        leg.remote = remote
        leg.dtmf_payload_type = -1 if remote.dtmf_payload_type is None else remote.dtmf_payload_type
        leg.payload_type = int(remote.codec)
        # RFC 3264 §8.4 and RFC 2543's c=0.0.0.0 hold: port 0 or a null address, no media.
        leg.can_send = remote.send and remote.port != 0 and not unspecified

    async def play(self, leg_id: str, prompts: Sequence[Path], *, loop: bool = False) -> int:
        """Play the prompts in order (loaded off the loop, cached); see base.py."""
        leg = self._leg(leg_id)
        if leg.remote is None:
            raise MediaError(f"leg {leg_id}: play before connect (the codec comes from the SDP)")
        if leg.peer is not None:
            raise MediaError(f"leg {leg_id} is bridged to {leg.peer.leg_id}: unbridge it first")
        if not prompts:
            raise MediaError(f"leg {leg_id}: play with no prompt (call control's bug)")
        self._stop_playback(leg)
        playback_id = next(self._playback_ids)
        leg.pending_playback = playback_id
        codec = leg.remote.codec
        audio = await self._prompts.encoded(prompts, codec)
        if leg.pending_playback != playback_id or leg.closed:
            return playback_id  # Replaced, stopped or bridged while loading.
        leg.pending_playback = None
        if not audio and loop:
            return playback_id  # Nothing to repeat, and nothing will ever finish.
        leg.playback = Playback(playback_id, audio, codec, loop)
        self._playing[leg_id] = leg
        return playback_id

    def stop_playback(self, leg_id: str) -> None:
        """Stop what plays (or is loading) on the leg, without a finished report."""
        self._stop_playback(self._leg(leg_id))

    def bridge(self, leg_a: str, leg_b: str) -> None:
        """Relay audio and DTMF both ways; stops playback on both legs."""
        a, b = self._leg(leg_a), self._leg(leg_b)
        if a is b:
            raise MediaError(f"leg {leg_a} cannot be bridged to itself (call control's bug)")
        for leg in (a, b):
            if leg.peer is not None and leg.peer not in (a, b):
                raise MediaError(
                    f"leg {leg.leg_id} is bridged to {leg.peer.leg_id}: unbridge it first"
                )
            self._stop_playback(leg)
            leg.relay_ssrc = None
        a.peer, b.peer = b, a

    def unbridge(self, leg_id: str) -> None:
        """Stop relaying between ``leg_id`` and its peer (a no-op when not bridged)."""
        self._unbridge(self._leg(leg_id))

    def _unbridge(self, leg: Leg) -> None:
        peer = leg.peer
        if peer is not None:
            leg.peer = peer.peer = None

    def tap(self, leg_id: str, destinations: Sequence[tuple[str, int]]) -> None:
        """Copy what ``leg_id`` receives to ``destinations`` (silent monitors)."""
        self._leg(leg_id).taps = tuple(destinations)

    def _send_taps(self, leg: Leg, data: bytes) -> None:
        sock = leg.sock
        if sock is None:
            return
        for destination in leg.taps:
            try:
                sock.sendto(data, destination)
            except OSError:  # a monitor that went away must not disturb the call
                self._pacing.send_errors += 1

    def start_recording(self, key: str, path: Path, left: str, right: str | None) -> None:
        """Record what ``left`` (and ``right``) send us; see :mod:`.recording`."""
        if left == right:
            raise MediaError(f"recording {key}: left and right are the same leg {left}")
        legs = [self._leg(left)] + ([] if right is None else [self._leg(right)])
        self._recorder.start(key, path, legs)

    async def stop_recording(self, key: str) -> RecordingResult:
        """Stop, write the WAV in the executor, and describe it."""
        return await self._recorder.stop(key)

    async def close_leg(self, leg_id: str) -> None:
        """Stop everything on the leg and free its port; recordings keep their audio."""
        leg = self._leg(leg_id)
        del self._legs[leg_id]
        leg.closed = True
        self._unbridge(leg)
        self._stop_playback(leg)
        self._dtmf_open.discard(leg)
        recorder.flush(leg)
        leg.tracks.clear()
        leg.reorder = None
        leg.sock = None
        # Without a transport yet, open_leg is still creating it and will close it.
        if leg.transport is not None:
            leg.transport.close()  # Closes the socket too.
            if leg.protocol_closed is not None:
                await leg.protocol_closed
        self._ports_in_use.discard(leg.port)
        if not self._legs:
            self._stop_clock()

    async def close(self) -> None:
        """Close every leg, then finish the recordings still running (logged)."""
        for leg_id in list(self._legs):
            await self.close_leg(leg_id)
        self._stop_clock()
        for key in self._recorder.running():
            try:
                result = await self.stop_recording(key)
            except MediaError as exc:
                self._log.warning("media.recording_lost", key=key, error=str(exc))
            else:
                self._log.info("media.recording_saved_at_close", key=key, path=str(result.path))

    # --- Metrics -----------------------------------------------------------------------

    def stats(self, *, reset: bool = False) -> dict[str, float]:
        """Counters for the load benchmark and the metrics endpoint.

        Packet counters, the number of legs and playbacks, and the pacing clock's
        health: ticks, late ticks (a whole frame period or more behind), frames
        skipped, tick lateness max and p99 in milliseconds.
        """
        figures: dict[str, float] = {
            "legs": len(self._legs),
            "playing": len(self._playing),
            "recordings": len(self._recorder),
            "cached_prompts": len(self._prompts),
            **self._pacing.as_dict(),
        }
        if reset:
            self._pacing = PacingStats()
        return figures

    # --- The clock (Rules 2 and 3) -----------------------------------------------------

    def _start_clock(self) -> None:
        if self._timer is None:
            self._t0 = self._loop.time() + PTIME_S
            self._tick_index = 0
            self._timer = self._loop.call_at(self._t0, self._tick)

    def _stop_clock(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        now = self._loop.time()
        first = self._tick_index
        # Every tick whose deadline has passed is due; a rounding error of the float
        # division must not make an on-time tick look early, hence at least one.
        due = max(1, int((now - self._t0) / PTIME_S) - first + 1)
        sent_from = first + max(0, due - MAX_CATCH_UP)
        self._tick_index = first + due
        self._timer = self._loop.call_at(self._t0 + self._tick_index * PTIME_S, self._tick)
        pacing = self._pacing
        pacing.tick(now - (self._t0 + first * PTIME_S), skipped=sent_from - first)
        try:
            if due == 1:  # On time: the fast path.
                finished = [
                    leg for leg in list(self._playing.values()) if leg.send_frame(first, pacing)
                ]
            else:
                finished = [
                    leg
                    for leg in list(self._playing.values())
                    if leg.send_frames(sent_from - first, sent_from, first + due, pacing)
                ]
            for leg in finished:
                self._finish_playback(leg)
            if self._dtmf_open:
                self._expire_dtmf(now)
            if first % _SPILL_CHECK_TICKS == 0:
                self._recorder.spill_due()
        except Exception as exc:
            self._internal_error("media.tick_failed", None, exc)

    def _finish_playback(self, leg: Leg) -> None:
        playback = leg.playback
        self._playing.pop(leg.leg_id, None)
        leg.playback = None
        if playback is not None:
            try:
                self._listener.on_playback_finished(leg.leg_id, playback.playback_id)
            except Exception as exc:
                self._internal_error("media.listener_failed", leg, exc)

    def _stop_playback(self, leg: Leg) -> None:
        leg.pending_playback = None
        leg.playback = None
        self._playing.pop(leg.leg_id, None)

    # --- Receiving (Rules 4 and 6) -----------------------------------------------------

    def _receive(self, leg: Leg, data: bytes, addr: tuple[str | Any, int]) -> None:
        # Runs for every packet received: plain ints, no enum lookups.
        pacing = self._pacing
        pacing.packets_received += 1
        packet = parse_rtp(data)
        if packet is None or leg.remote is None:
            pacing.packets_dropped += 1  # RTCP, garbage, or before the SDP came.
            return
        payload_type = packet.payload_type
        if (addr != leg.send_to or not leg.latched) and not self._latch(leg, payload_type, addr):
            return
        if payload_type == leg.dtmf_payload_type:
            self._receive_dtmf(leg, packet.timestamp, packet.payload)
            if leg.peer is not None:
                leg.peer.relay(packet, True, self._tick_index - 1, pacing)
            return
        if payload_type != _PCMU and payload_type != _PCMA:
            pacing.packets_dropped += 1  # Comfort noise (RFC 3389) and the like.
            return
        if leg.peer is not None:
            leg.peer.relay(packet, False, self._tick_index - 1, pacing)
        if leg.taps:
            self._send_taps(leg, data)
        if leg.reorder is not None:
            recorder.feed(leg, packet, self._loop.time())

    def _latch(self, leg: Leg, payload_type: int, addr: tuple[str | Any, int]) -> bool:
        """Rule 4: latch to the first source that sends our media; refuse the others.

        A source on the very host the SDP names is the peer itself sending from another
        port than it receives on (SIPp does, so do some gateways): no NAT rewrote it, so
        we keep sending where the SDP says and accept that host's packets."""
        if leg.latched:
            if leg.send_to is not None and addr[0] == leg.send_to[0]:
                return True
            self._pacing.packets_foreign += 1
            return False
        if payload_type not in (_PCMU, _PCMA, leg.dtmf_payload_type):
            self._pacing.packets_dropped += 1
            return False
        if leg.send_to is None or addr[0] != leg.send_to[0]:
            self._log.info("media.latched", leg=leg.leg_id, sdp=leg.send_to, source=addr)
            leg.send_to = addr
        leg.latched = True
        return True

    def _receive_dtmf(self, leg: Leg, timestamp: int, payload: bytes) -> None:
        dtmf = leg.dtmf
        self._report_digits(leg, dtmf.receive(timestamp, payload, self._loop.time()))
        if dtmf.next_deadline() is None:
            self._dtmf_open.discard(leg)
        else:
            self._dtmf_open.add(leg)

    def _expire_dtmf(self, now: float) -> None:
        for leg in list(self._dtmf_open):
            self._report_digits(leg, leg.dtmf.handle_timer(now))
            if leg.dtmf.next_deadline() is None:
                self._dtmf_open.discard(leg)

    def _report_digits(self, leg: Leg, digits: list[str]) -> None:
        for digit in digits:
            try:
                self._listener.on_dtmf(leg.leg_id, digit)
            except Exception as exc:
                self._internal_error("media.listener_failed", leg, exc)

    def _peer_unreachable(self, leg: Leg, exc: Exception) -> None:
        self._pacing.send_errors += 1
        if not leg.unreachable_logged:  # Once per leg: it repeats with every packet.
            leg.unreachable_logged = True
            self._log.info(
                "media.peer_unreachable", leg=leg.leg_id, peer=leg.send_to, error=str(exc)
            )

    # --- Helpers -----------------------------------------------------------------------

    def _leg(self, leg_id: str) -> Leg:
        leg = self._legs.get(leg_id)
        if leg is None:
            raise MediaError(f"no leg {leg_id} is open here (call control's bug)")
        return leg

    def _internal_error(self, event: str, leg: Leg | None, exc: Exception) -> None:
        self._pacing.internal_errors += 1
        self._log.warning(
            event, leg=None if leg is None else leg.leg_id, error=repr(exc), exc_info=exc
        )
