"""rtpengine pcap recordings to WAV: the file format by hand, placement by RTP time."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from hotline.telephony.media.base import MediaError
from hotline.telephony.media.rtpengine_files import read_pcap_rtp, render_channel, write_recording
from hotline.telephony.rtp import build_rtp, linear_to_alaw, linear_to_ulaw


def ipv4_udp(src_port: int, dst_port: int, payload: bytes) -> bytes:
    """A raw IPv4 + UDP packet as rtpengine writes it (link type 101): checksums 0."""
    udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0) + payload
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(udp),
        0,
        0,
        64,
        17,
        0,
        bytes([127, 0, 0, 1]),
        bytes([127, 0, 0, 1]),
    )
    return header + udp


def pcap(records: list[tuple[float, bytes]], link: int = 101) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link)]
    for time, frame in records:
        seconds = int(time)
        micros = round((time - seconds) * 1e6)
        out.append(struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame)
    return b"".join(out)


def test_packets_are_read_with_their_destination_port_and_rtp_fields(tmp_path: Path) -> None:
    rtp = build_rtp(8, 7, 320, 0xABCDEF01, b"\xd5" * 160, marker=True)
    path = tmp_path / "a.pcap"
    path.write_bytes(pcap([(1000.25, ipv4_udp(4000, 30000, rtp)), (1000.3, b"\x45junk")]))
    [packet] = read_pcap_rtp(path)
    assert (packet.time, packet.destination_port, packet.payload_type) == (1000.25, 30000, 8)
    assert (packet.timestamp, packet.ssrc, packet.payload) == (320, 0xABCDEF01, b"\xd5" * 160)


def test_not_a_pcap_file_is_a_media_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(b"RIFF....WAVEfmt " + bytes(16))
    with pytest.raises(MediaError, match=r"x\.pcap: not a little-endian pcap file"):
        read_pcap_rtp(path)
    path.write_bytes(pcap([], link=113))
    with pytest.raises(MediaError, match="link type 113"):
        read_pcap_rtp(path)


def test_frames_are_placed_by_rtp_time_and_gaps_stay_silent(tmp_path: Path) -> None:
    # Frames 0 and 2 of one stream arrive (frame 1 was lost), PCMU then PCMA; a DTMF
    # event and a packet to another port are not part of this voice.
    ramp = np.arange(-8000, 8000, 50, dtype=np.int16)[:160]
    frames = [
        (100.00, 30000, 0, 0, linear_to_ulaw(ramp)),
        (100.04, 30000, 8, 320, linear_to_alaw(ramp)),
        (100.05, 30000, 101, 320, b"\x05\x8a\x03\x20"),
        (100.02, 30002, 0, 160, b"\x00" * 160),
    ]
    path = tmp_path / "b.pcap"
    path.write_bytes(
        pcap(
            [
                (t, ipv4_udp(5000, port, build_rtp(pt, 1, ts, 9, data)))
                for t, port, pt, ts, data in frames
            ]
        )
    )
    packets = read_pcap_rtp(path)
    audio = render_channel(packets, 30000, start=99.99, frames=800)
    # 10 ms of silence before the first frame (80 samples), then frame 0, a lost frame, frame 2
    assert not audio[:80].any()
    assert np.abs(audio[80:240].astype(int) - ramp).max() < 300  # G.711 quantisation
    assert not audio[240:400].any()
    assert np.abs(audio[400:560].astype(int) - ramp).max() < 300
    assert not audio[560:].any()


def test_a_stereo_recording_spans_the_asked_window_with_one_voice_per_channel(
    tmp_path: Path,
) -> None:
    loud = linear_to_ulaw(np.full(160, 4000, dtype=np.int16))
    left = tmp_path / "left.pcap"
    left.write_bytes(pcap([(10.0, ipv4_udp(1, 30000, build_rtp(0, 1, 0, 1, loud)))]))
    out = tmp_path / "rec" / "call.wav"
    duration = write_recording(out, [(left, 30000), (None, 30002)], start=10.0, stop=10.5)
    assert duration == 0.5
    with wave.open(str(out), "rb") as file:
        assert (file.getnchannels(), file.getnframes()) == (2, 4000)
        stereo = np.frombuffer(file.readframes(4000), "<i2").reshape(-1, 2)
    assert np.count_nonzero(stereo[:, 0]) == 160  # one 20 ms frame
    assert not stereo[:, 1].any()  # no pcap for the right leg: silence
