"""RTP packets (RFC 3550 §5.1): round trips, every header field, and peer garbage."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.rtp import RtpPacket, build_rtp, is_rtcp, parse_rtp, seq_distance

# A PCMU packet as SIPp sends it: V=2, M=1, PT=0, seq 1, timestamp 160, SSRC 0x11223344.
SIPP_PCMU = bytes.fromhex("80 80 0001 000000a0 11223344") + b"\xff" * 160
# RTCP receiver report (PT 201) and sender report (PT 200), as multiplexed per RFC 5761.
RTCP_RR = bytes.fromhex("81c90007 11223344") + bytes(24)
RTCP_SR = bytes.fromhex("80c80006 11223344") + bytes(20)

rtp_payload_types = st.integers(0, 63) | st.integers(96, 127)


def test_parse_reads_every_fixed_header_field() -> None:
    packet = parse_rtp(SIPP_PCMU)
    assert packet == RtpPacket(
        payload_type=0,
        sequence_number=1,
        timestamp=160,
        ssrc=0x11223344,
        payload=b"\xff" * 160,
        marker=True,
    )


def test_build_writes_the_same_bytes_as_sipp() -> None:
    assert build_rtp(0, 1, 160, 0x11223344, b"\xff" * 160, marker=True) == SIPP_PCMU


@given(
    payload_type=rtp_payload_types,
    seq=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=200),
    marker=st.booleans(),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    extension=st.none() | st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=12)),
)
def test_build_then_parse_is_the_identity(
    payload_type: int,
    seq: int,
    timestamp: int,
    ssrc: int,
    payload: bytes,
    marker: bool,
    csrc: tuple[int, ...],
    extension: tuple[int, bytes] | None,
) -> None:
    profile, data = (None, b"") if extension is None else extension
    data = data[: len(data) - len(data) % 4]
    packet = RtpPacket(payload_type, seq, timestamp, ssrc, payload, marker, csrc, profile, data)
    assert parse_rtp(packet.to_bytes()) == packet


def test_sequence_number_and_timestamp_wrap() -> None:
    packet = parse_rtp(build_rtp(8, 0x10000, 0x100000000 + 5, 1, b"x"))
    assert packet is not None
    assert (packet.sequence_number, packet.timestamp, packet.payload_type) == (0, 5, 8)


def test_padding_is_removed_from_the_payload() -> None:
    data = bytes([0xA0]) + SIPP_PCMU[1:12] + b"abc" + b"\x00\x00\x03"
    packet = parse_rtp(data)
    assert packet is not None
    assert packet.payload == b"abc"


@pytest.mark.parametrize("padding", [0, 200], ids=["zero", "longer-than-packet"])
def test_impossible_padding_is_not_rtp(padding: int) -> None:
    data = bytes([0xA0]) + SIPP_PCMU[1:12] + b"abc" + bytes([padding])
    assert parse_rtp(data) is None


def test_csrc_list_and_header_extension_are_read() -> None:
    header = struct.pack("!BBHII", 0x92, 0x00, 7, 8, 9)  # CC=2, X=1
    data = header + struct.pack("!II", 0xA, 0xB) + struct.pack("!HH", 0xBEDE, 1) + b"1234" + b"PP"
    packet = parse_rtp(data)
    assert packet is not None
    assert (packet.csrc, packet.extension_profile, packet.extension, packet.payload) == (
        (0xA, 0xB),
        0xBEDE,
        b"1234",
        b"PP",
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        SIPP_PCMU[:11],  # shorter than the fixed header
        bytes([0x40]) + SIPP_PCMU[1:],  # version 1
        bytes([0x00, 0x01, 0x00, 0x00]) + bytes(16),  # a STUN binding request
        bytes([0x83]) + SIPP_PCMU[1:12] + b"\x00" * 8,  # CC=3, only 2 CSRC present
        bytes([0x90]) + SIPP_PCMU[1:12] + b"\xbe\xde\x00\x05" + bytes(8),  # extension cut
        bytes([0x90]) + SIPP_PCMU[1:12] + b"\xbe",  # extension header cut
        RTCP_RR,
        RTCP_SR,
    ],
    ids=["empty", "short", "v1", "stun", "csrc-cut", "ext-cut", "ext-header-cut", "rr", "sr"],
)
def test_what_is_not_rtp_gives_none(data: bytes) -> None:
    assert parse_rtp(data) is None


def test_rtcp_is_recognised_on_the_rtp_port() -> None:
    assert is_rtcp(RTCP_RR)
    assert is_rtcp(RTCP_SR)
    assert not is_rtcp(SIPP_PCMU)


@given(st.binary(max_size=64))
def test_parse_never_raises_on_peer_input(data: bytes) -> None:
    packet = parse_rtp(data)
    assert packet is None or isinstance(packet, RtpPacket)


@pytest.mark.parametrize(
    ("later", "earlier", "distance"),
    [(5, 3, 2), (3, 5, -2), (2, 65535, 3), (65535, 2, -3), (0x8000, 0, -0x8000)],
)
def test_sequence_distance_wraps_at_16_bits(later: int, earlier: int, distance: int) -> None:
    assert seq_distance(later, earlier) == distance
