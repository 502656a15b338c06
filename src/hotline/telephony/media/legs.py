"""The per-leg state of the in-process backend and its two hot paths.

:meth:`Leg.send_frames` (a prompt frame per tick) and :meth:`Leg.relay` (a bridged
packet) run tens of thousands of times a second under load, so they stay plain
attribute access, one ``struct.pack`` (:func:`build_rtp`) and one ``sendto``.  The
rules they follow are in :mod:`hotline.telephony.media.inprocess` (Rules 2 and 3).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any, Final

from hotline.telephony.media.base import Codec, RemoteMedia
from hotline.telephony.media.prompts import FRAME_SAMPLES
from hotline.telephony.media.recording import Track
from hotline.telephony.rtp.dtmf import DtmfReceiver
from hotline.telephony.rtp.g711 import ALAW_TO_ULAW, ULAW_TO_ALAW
from hotline.telephony.rtp.jitter import ReorderBuffer
from hotline.telephony.rtp.packet import RtpPacket, build_rtp

__all__ = ["PTIME_S", "Leg", "PacingStats", "Playback"]

#: 20 ms frames (RFC 3551 §4.5: G.711's default packetisation).
PTIME_S: Final = 0.020
_pack_header: Final = struct.Struct("!BBHII").pack  # RFC 3550 §5.1, as in build_rtp.
_TIMESTAMP_MASK: Final = 0xFFFFFFFF
_HALF_TIMESTAMP: Final = 0x80000000
# Tick lateness histogram: 0.1 ms buckets up to 1 s, the last one catching the rest.
_BUCKET_S: Final = 0.0001
_BUCKETS: Final = 10_001


class Playback:
    """A prompt being played: encoded frames and where we are in them."""

    __slots__ = ("audio", "codec", "frames", "loop", "marker", "playback_id", "position")

    def __init__(self, playback_id: int, audio: bytes, codec: Codec, loop: bool) -> None:
        self.playback_id = playback_id
        self.audio = audio
        self.codec = codec
        self.loop = loop
        self.frames = len(audio) // FRAME_SAMPLES
        self.position = 0
        self.marker = True  # RFC 3551 §4.1: the first packet of a talkspurt.


class PacingStats:
    """Counters of the pacing clock and of packets (``InProcessMedia.stats``)."""

    __slots__ = (
        "_histogram",
        "internal_errors",
        "late_ticks",
        "max_lateness",
        "packets_dropped",
        "packets_foreign",
        "packets_received",
        "packets_sent",
        "send_dropped",
        "send_errors",
        "ticks",
        "ticks_skipped",
    )

    def __init__(self) -> None:
        self.ticks = 0
        self.late_ticks = 0
        self.ticks_skipped = 0
        self.max_lateness = 0.0
        self.packets_sent = 0
        self.packets_received = 0
        self.packets_dropped = 0
        self.packets_foreign = 0
        self.send_errors = 0
        self.send_dropped = 0
        self.internal_errors = 0
        self._histogram = [0] * _BUCKETS

    def tick(self, lateness: float, *, skipped: int) -> None:
        """Count one tick run ``lateness`` seconds after its deadline."""
        self.ticks += 1
        self.ticks_skipped += skipped
        if lateness >= PTIME_S:
            self.late_ticks += 1
        lateness = max(lateness, 0.0)
        self.max_lateness = max(self.max_lateness, lateness)
        self._histogram[min(int(lateness / _BUCKET_S), _BUCKETS - 1)] += 1

    def lateness_quantile(self, quantile: float) -> float:
        """Tick lateness (seconds, 0.1 ms resolution) below which ``quantile`` falls."""
        wanted = quantile * self.ticks
        seen = 0
        for bucket, count in enumerate(self._histogram):
            seen += count
            if count and seen >= wanted:
                return (bucket + 1) * _BUCKET_S
        return 0.0

    def as_dict(self) -> dict[str, float]:
        """The figures, lateness in milliseconds."""
        return {
            "ticks": self.ticks,
            "late_ticks": self.late_ticks,
            "ticks_skipped": self.ticks_skipped,
            "max_tick_lateness_ms": round(self.max_lateness * 1000, 3),
            "p99_tick_lateness_ms": round(self.lateness_quantile(0.99) * 1000, 3),
            "packets_sent": self.packets_sent,
            "packets_received": self.packets_received,
            "packets_dropped": self.packets_dropped,
            "packets_foreign": self.packets_foreign,
            "send_errors": self.send_errors,
            "send_dropped": self.send_dropped,
            "internal_errors": self.internal_errors,
        }


class Leg:
    """One RTP endpoint: our socket, the peer, and what we send it."""

    __slots__ = (
        "can_send",
        "closed",
        "dtmf",
        "dtmf_payload_type",
        "last_tick",
        "latched",
        "leg_id",
        "payload_type",
        "peer",
        "pending_playback",
        "playback",
        "port",
        "protocol_closed",
        "recorded_ssrc",
        "relay_offset",
        "relay_ssrc",
        "remote",
        "reorder",
        "send_to",
        "seq",
        "sock",
        "ssrc",
        "taps",
        "timestamp",
        "tracks",
        "transport",
        "unreachable_logged",
    )

    def __init__(self, leg_id: str, port: int, ssrc: int, seq: int, timestamp: int) -> None:
        self.leg_id = leg_id
        self.port = port
        # Our outgoing stream: SSRC, last sequence number and timestamp sent, and the
        # tick of that packet (None before the first).
        self.ssrc = ssrc
        self.seq = seq
        self.timestamp = timestamp
        self.last_tick: int | None = None
        # The socket is written directly (see _send); the transport reads and closes it.
        self.sock: socket.socket | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self.protocol_closed: asyncio.Future[None] | None = None
        self.remote: RemoteMedia | None = None
        self.send_to: tuple[str | Any, int] | None = None
        self.latched = False
        self.can_send = False
        self.playback: Playback | None = None
        self.pending_playback: int | None = None
        self.peer: Leg | None = None
        self.relay_ssrc: int | None = None  # The source whose timestamps we shift.
        self.relay_offset = 0
        self.dtmf = DtmfReceiver()
        self.dtmf_payload_type = -1  # The peer's telephone-event type, -1 for none.
        self.payload_type = -1  # The peer's codec as a plain int, -1 before connect.
        self.reorder: ReorderBuffer[tuple[RtpPacket, float]] | None = None
        self.tracks: list[Track] = []
        self.recorded_ssrc: int | None = None
        self.closed = False
        self.unreachable_logged = False
        # Where copies of what the peer sends go (silent monitors); empty nearly always.
        self.taps: tuple[tuple[str, int], ...] = ()

    def send_frame(self, tick: int, stats: PacingStats) -> bool:
        """:meth:`send_frames` for one tick, with the steady state inlined.

        Mid-prompt, sendable, same codec, the previous frame sent at the previous tick:
        the packet is the previous one's sequence number and timestamp plus one frame
        (``build_rtp`` inlined).  Anything else takes the general path.
        """
        playback = self.playback
        sock = self.sock
        send_to = self.send_to
        if (
            playback is None
            or sock is None
            or send_to is None
            or playback.marker
            or self.last_tick != tick - 1
            or playback.position >= playback.frames
            or not self.can_send
            or self.payload_type != playback.codec
        ):
            return self.send_frames(0, tick, tick + 1, stats)
        position = playback.position
        start = position * 160  # FRAME_SAMPLES
        seq = (self.seq + 1) & 0xFFFF
        timestamp = (self.timestamp + 160) & 0xFFFFFFFF
        self.seq = seq
        self.timestamp = timestamp
        self.last_tick = tick
        packet = _pack_header(0x80, self.payload_type, seq, timestamp, self.ssrc)
        try:
            sock.sendto(packet + playback.audio[start : start + 160], send_to)
        except BlockingIOError:
            stats.send_dropped += 1
        except OSError:
            stats.send_errors += 1
        else:
            stats.packets_sent += 1
        position += 1
        playback.position = position
        return position >= playback.frames and not playback.loop

    def send_frames(self, skipped: int, first_tick: int, end_tick: int, stats: PacingStats) -> bool:
        """Send the frames of ticks ``first_tick`` to ``end_tick - 1`` after dropping
        ``skipped`` (Rule 2).  True when the playback has just ended."""
        playback = self.playback
        remote = self.remote
        if playback is None or remote is None:
            return False
        frames = playback.frames
        position = playback.position + skipped
        for tick in range(first_tick, end_tick):
            if position >= frames:
                if not playback.loop or not frames:
                    break
                position %= frames
            if self.can_send:
                start = position * FRAME_SAMPLES
                payload = playback.audio[start : start + FRAME_SAMPLES]
                codec = remote.codec
                if codec != playback.codec:  # A re-INVITE changed the codec mid-prompt.
                    payload = payload.translate(ULAW_TO_ALAW if codec == 8 else ALAW_TO_ULAW)
                timestamp = self.timestamp
                if self.last_tick is not None:
                    timestamp += FRAME_SAMPLES * (tick - self.last_tick)
                self._send(codec, payload, timestamp, playback.marker, stats)
                self.last_tick = tick
                playback.marker = False
            else:
                playback.marker = True  # Held: the next frame we send opens a talkspurt.
            position += 1
        playback.position = position
        return position >= frames and not playback.loop

    def relay(self, packet: RtpPacket, dtmf: bool, tick: int, stats: PacingStats) -> None:
        """Send a packet received on the bridged leg as ours (Rule 3)."""
        remote = self.remote
        if remote is None or not self.can_send:
            return
        payload = packet.payload
        if dtmf:
            payload_type = remote.dtmf_payload_type
            if payload_type is None:
                return  # The peer takes no RFC 4733 events.
        else:
            payload_type = remote.codec
            if packet.payload_type != payload_type:
                payload = payload.translate(ULAW_TO_ALAW if payload_type == 8 else ALAW_TO_ULAW)
        marker = packet.marker
        if packet.ssrc != self.relay_ssrc:
            # A new source: continue our timeline where it is, then keep its spacing.
            start = self.timestamp
            if self.last_tick is not None:
                start += FRAME_SAMPLES * max(1, tick - self.last_tick)
            self.relay_offset = (start - packet.timestamp) & _TIMESTAMP_MASK
            self.relay_ssrc = packet.ssrc
            marker = True
        if self._send(payload_type, payload, packet.timestamp + self.relay_offset, marker, stats):
            self.last_tick = tick

    def _send(
        self, payload_type: int, payload: bytes, timestamp: int, marker: bool, stats: PacingStats
    ) -> bool:
        """Send one packet; True when its timestamp is our stream's newest."""
        sock = self.sock
        if sock is None or self.send_to is None:
            return False
        seq = (self.seq + 1) & 0xFFFF
        self.seq = seq
        timestamp &= _TIMESTAMP_MASK
        packet = build_rtp(payload_type, seq, timestamp, self.ssrc, payload, marker=marker)
        # Straight to the socket, past the transport's buffering: a real-time packet
        # that cannot leave now is better dropped (the peer conceals a loss) than late.
        try:
            sock.sendto(packet, self.send_to)
        except BlockingIOError:
            stats.send_dropped += 1
        except OSError:
            stats.send_errors += 1
        else:
            stats.packets_sent += 1
        # Only forward: a relayed DTMF event carries its (older) start timestamp.
        if (timestamp - self.timestamp) & _TIMESTAMP_MASK >= _HALF_TIMESTAMP:
            return False
        self.timestamp = timestamp
        return True
