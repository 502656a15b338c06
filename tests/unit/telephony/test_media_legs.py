"""A leg's outgoing stream: frames per tick, skipped ticks, hold, relaying, pacing stats.

The leg writes to whatever has ``sendto``: here a list, so every packet is checked
without a network or a clock (ticks are plain numbers).
"""

from __future__ import annotations

import socket
from typing import Any, cast

import pytest

from hotline.telephony.media.base import Codec, RemoteMedia
from hotline.telephony.media.legs import Leg, PacingStats, Playback
from hotline.telephony.rtp import RtpPacket, parse_rtp, ulaw_to_alaw

PEER = ("192.0.2.1", 4000)


class Wire:
    """Stands in for the leg's socket."""

    def __init__(self) -> None:
        self.sent: list[RtpPacket] = []

    def sendto(self, data: bytes, address: Any) -> int:
        assert address == PEER
        packet = parse_rtp(data)
        assert packet is not None
        self.sent.append(packet)
        return len(data)


def make_leg(codec: Codec = Codec.PCMU, *, frames: int = 10, loop: bool = False) -> Leg:
    leg = Leg("caller", 30000, ssrc=0xCAFE, seq=65534, timestamp=0xFFFFFF00)
    leg.sock = cast(socket.socket, Wire())
    leg.send_to = PEER
    leg.remote = RemoteMedia(*PEER, codec)
    leg.payload_type = int(codec)
    leg.can_send = True
    audio = bytes(i % 256 for i in range(160 * frames))
    leg.playback = Playback(1, audio, Codec.PCMU, loop)
    return leg


def sent(leg: Leg) -> list[RtpPacket]:
    wire = cast(Any, leg.sock)
    assert isinstance(wire, Wire)
    return wire.sent


def test_one_frame_per_tick_with_wrapping_numbers_and_the_marker_first() -> None:
    leg, stats = make_leg(), PacingStats()
    finished = [leg.send_frame(tick, stats) for tick in range(10)]
    packets = sent(leg)
    assert finished == [False] * 9 + [True]
    assert [p.sequence_number for p in packets] == [65535, *range(9)]
    assert [p.timestamp for p in packets] == [(0xFFFFFF00 + 160 * i) % 2**32 for i in range(10)]
    assert [p.marker for p in packets] == [True] + [False] * 9
    assert {(p.ssrc, p.payload_type) for p in packets} == {(0xCAFE, 0)}
    assert b"".join(p.payload for p in packets) == bytes(i % 256 for i in range(1600))
    assert stats.packets_sent == 10


def test_the_fast_path_sends_what_the_general_path_sends() -> None:
    fast, general = make_leg(loop=True), make_leg(loop=True)
    stats = PacingStats()
    for tick in range(25):
        fast.send_frame(tick, stats)
        general.send_frames(0, tick, tick + 1, stats)
    assert sent(fast) == sent(general)


def test_skipped_ticks_drop_their_frames_and_leave_a_timestamp_gap() -> None:
    leg, stats = make_leg(), PacingStats()
    leg.send_frame(0, stats)
    # The loop woke 5 ticks late: frames of ticks 1-3 skipped, 4 and 5 sent.
    leg.send_frames(3, 4, 6, stats)
    packets = sent(leg)
    assert [(p.timestamp - packets[0].timestamp) % 2**32 for p in packets] == [0, 640, 800]
    assert [p.payload[0] for p in packets] == [0, 4 * 160 % 256, 5 * 160 % 256]
    assert [p.sequence_number for p in packets] == [65535, 0, 1]  # Numbers do not skip.


def test_while_held_nothing_is_sent_and_resuming_opens_a_talkspurt() -> None:
    leg, stats = make_leg(), PacingStats()
    leg.send_frame(0, stats)
    leg.can_send = False
    for tick in range(1, 4):
        leg.send_frame(tick, stats)
    leg.can_send = True
    leg.send_frame(4, stats)
    packets = sent(leg)
    assert [p.marker for p in packets] == [True, True]
    assert (packets[1].timestamp - packets[0].timestamp) % 2**32 == 4 * 160
    assert leg.playback is not None and leg.playback.position == 5  # Time went on.


def test_a_codec_changed_by_reinvite_is_transcoded_frame_by_frame() -> None:
    leg, stats = make_leg(Codec.PCMA), PacingStats()
    leg.send_frame(0, stats)
    leg.send_frame(1, stats)
    packets = sent(leg)
    assert {p.payload_type for p in packets} == {8}
    assert packets[1].payload == ulaw_to_alaw(bytes(i % 256 for i in range(160, 320)))


def test_a_looping_prompt_starts_again() -> None:
    leg, stats = make_leg(frames=2, loop=True), PacingStats()
    assert not any(leg.send_frame(tick, stats) for tick in range(5))
    assert [p.payload[0] for p in sent(leg)] == [0, 160, 0, 160, 0]


def test_relayed_packets_continue_our_timeline_and_keep_the_source_spacing() -> None:
    leg, stats = make_leg(Codec.PCMA), PacingStats()
    leg.playback = None
    leg.send_frames(0, 0, 1, stats)  # Nothing playing: nothing sent.
    source = [RtpPacket(0, 7 + i, 50_000 + 160 * i, 0xBEEF, b"\xff" * 160) for i in range(3)]
    for tick, packet in enumerate(source):
        leg.relay(packet, False, tick, stats)
    leg.relay(RtpPacket(0, 99, 90_000, 0xF00D, b"\xff" * 160), False, 3, stats)  # New source.
    packets = sent(leg)
    assert [p.marker for p in packets] == [True, False, False, True]
    assert [(p.timestamp - packets[0].timestamp) % 2**32 for p in packets[:3]] == [0, 160, 320]
    assert (packets[3].timestamp - packets[2].timestamp) % 2**32 == 160
    assert {p.ssrc for p in packets} == {0xCAFE}
    assert {p.payload for p in packets} == {ulaw_to_alaw(b"\xff" * 160)}


def test_a_relayed_dtmf_event_never_moves_our_timestamp_back() -> None:
    leg, stats = make_leg(), PacingStats()
    leg.playback = None
    leg.remote = RemoteMedia(*PEER, Codec.PCMU, dtmf_payload_type=96)
    leg.relay(RtpPacket(0, 1, 1000, 0xBEEF, b"\xff" * 160), False, 0, stats)
    leg.relay(RtpPacket(0, 2, 1160, 0xBEEF, b"\xff" * 160), False, 1, stats)
    leg.relay(RtpPacket(101, 3, 1000, 0xBEEF, b"\x05\x0a\x00\xa0"), True, 1, stats)
    packets = sent(leg)
    assert packets[2].payload_type == 96
    assert packets[2].timestamp == packets[0].timestamp  # The event's start.
    assert leg.timestamp == packets[1].timestamp


def test_pacing_stats_report_lateness_in_milliseconds() -> None:
    stats = PacingStats()
    for _ in range(98):
        stats.tick(0.0005, skipped=0)
    stats.tick(0.004, skipped=0)
    stats.tick(0.045, skipped=1)
    figures = stats.as_dict()
    assert (figures["ticks"], figures["late_ticks"], figures["ticks_skipped"]) == (100, 1, 1)
    assert figures["max_tick_lateness_ms"] == pytest.approx(45.0)
    assert figures["p99_tick_lateness_ms"] == pytest.approx(4.1)
