"""RTP media for SIPp's ``play_pcap_audio``: speech, tones and RFC 4733 digits as pcap files.

The SIP integration tests and the load benchmark make the caller's audio with these
functions instead of SIPp's stock pcaps, whose DTMF files share one SSRC and restart
their sequence numbers (a correct stack discards some of their digits).  Each file here
is one RTP stream: one SSRC, sequence numbers that go up by one per packet (modulo 2^16),
timestamps that follow the 8 kHz clock, packets 20 ms apart.  The returned
:class:`RtpStream` says what was written, so a second file can continue the same stream
(``seq_start=first.next_sequence, ts_start=first.next_timestamp``).

Theory of operation (SIPp 3.6.1, ``src/prepare_pcap.c`` and ``src/send_packets.c``):

Rule 1. SIPp reads the file with libpcap and accepts only link types 1 (Ethernet) and
113 (Linux cooked capture); raw IP (101) is refused with "Unsupported link-type 101".
We write classic libpcap files (magic ``a1b2c3d4``, version 2.4) with link type 1 and a
dummy Ethernet header.

Rule 2. It keeps each packet's UDP header and payload, rewrites the ports (the lowest
destination port in the file becomes the call's remote media port, the source port
``-mp``) and the checksum, and sends them from a raw socket (so SIPp must run as root
or with CAP_NET_RAW) to the address in the peer's SDP.  The RTP header goes out as we
wrote it: SSRC, sequence numbers and timestamps are ours.

Rule 3. Packets leave as far apart as their pcap timestamps are: 20 ms here.

Nothing here imports ``hotline``: fixtures stay independent of the code they test.
G.711 encoding is left to sox (``-e u-law`` / ``-e a-law``), speech to espeak-ng.
"""

from __future__ import annotations

import secrets
import shutil
import struct
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DTMF_EVENTS",
    "LINKTYPE_ETHERNET",
    "LINKTYPE_RAW",
    "PCMA",
    "PCMU",
    "SILENCE_BYTE",
    "MediaToolError",
    "PcapRecord",
    "RtpPacket",
    "RtpStream",
    "decode_dtmf",
    "dtmf_pcap",
    "read_pcap",
    "read_rtp_pcap",
    "speech_pcap",
    "tone_pcap",
    "write_pcap",
    "write_rtp_pcap",
]

#: RFC 3551 §6: static payload types of G.711 µ-law and A-law, 8 kHz.
PCMU = 0
PCMA = 8
#: The G.711 code of a zero sample (µ-law 0xFF, A-law 0xD5: ITU-T G.711 tables 1a/2a).
SILENCE_BYTE = {PCMU: 0xFF, PCMA: 0xD5}
SOX_ENCODING = {PCMU: "u-law", PCMA: "a-law"}
#: RFC 4733 §3.2 table 7: event codes 0–15 of the DTMF keys.
DTMF_EVENTS = "0123456789*#ABCD"
#: www.tcpdump.org/linktypes.html: LINKTYPE_ETHERNET, LINKTYPE_RAW (raw IPv4/IPv6).
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101

CLOCK_RATE = 8000  # RFC 3551 §4.5.14 (G.711) and RFC 4733 §2.1: 8 kHz for both payloads
RTP_VERSION = 2
TOOL_TIMEOUT_S = 30.0
_PCAP_HEADER = struct.Struct("<IHHiIII")
_PCAP_RECORD = struct.Struct("<IIII")
_RTP_HEADER = struct.Struct("!BBHII")
_IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
_UDP_HEADER = struct.Struct("!HHHH")
_DUMMY_MACS = bytes.fromhex("020000000002020000000001")  # dst, src: locally administered
_ETHERTYPE_IPV4 = b"\x08\x00"

Address = tuple[str, int]


class MediaToolError(RuntimeError):
    """espeak-ng or sox is missing or failed: the message names the Debian package."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet (RFC 3550 §5.1) without CSRCs or header extension."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def encode(self) -> bytes:
        return (
            _RTP_HEADER.pack(
                RTP_VERSION << 6,
                (0x80 if self.marker else 0) | self.payload_type,
                self.sequence & 0xFFFF,
                self.timestamp & 0xFFFFFFFF,
                self.ssrc,
            )
            + self.payload
        )

    @classmethod
    def decode(cls, data: bytes) -> RtpPacket:
        """Parse a datagram; raises ``ValueError`` for anything but a plain RTP v2 packet."""
        if len(data) < _RTP_HEADER.size:
            raise ValueError(f"RTP packet of {len(data)} bytes is shorter than its header")
        first, second, sequence, timestamp, ssrc = _RTP_HEADER.unpack_from(data)
        if first >> 6 != RTP_VERSION or first & 0x3F:
            raise ValueError(f"not a plain RTP v2 header (first byte {first:#04x})")
        return cls(
            payload_type=second & 0x7F,
            sequence=sequence,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=data[_RTP_HEADER.size :],
            marker=bool(second & 0x80),
        )


@dataclass(frozen=True, slots=True)
class RtpStream:
    """What a writer put into ``path``: continue the stream with the ``next_`` values."""

    path: Path
    ssrc: int
    first_sequence: int
    next_sequence: int
    first_timestamp: int
    next_timestamp: int
    packets: int
    ptime_ms: int = 20

    @property
    def duration_s(self) -> float:
        """Play time: from the first packet until the last one's audio ends."""
        return self.packets * self.ptime_ms / 1000


@dataclass(frozen=True, slots=True)
class PcapRecord:
    """A UDP datagram read back from a pcap file, for checks."""

    time_s: float
    src: Address
    dst: Address
    payload: bytes


# --- pcap writing ----------------------------------------------------------------------


def _checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ipv4(address: str) -> bytes:
    parts = [int(part) for part in address.split(".")]
    if len(parts) != 4 or not all(0 <= part <= 255 for part in parts):
        raise ValueError(f"{address!r} is not a dotted IPv4 address")
    return bytes(parts)


def _ipv4_udp(payload: bytes, src: Address, dst: Address, ident: int) -> bytes:
    """An IPv4 header (RFC 791, checksum set) and a UDP header (RFC 768, checksum set)."""
    src_ip, dst_ip = _ipv4(src[0]), _ipv4(dst[0])
    udp_length = _UDP_HEADER.size + len(payload)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_length)
    udp = _UDP_HEADER.pack(src[1], dst[1], udp_length, 0) + payload
    udp_sum = _checksum(pseudo + udp) or 0xFFFF  # RFC 768: a computed 0 is sent as all ones
    udp = udp[:6] + struct.pack("!H", udp_sum) + udp[8:]
    fields = [0x45, 0, 20 + udp_length, ident & 0xFFFF, 0x4000, 64, 17, 0, src_ip, dst_ip]
    header = _IPV4_HEADER.pack(*fields)
    fields[7] = _checksum(header)
    return _IPV4_HEADER.pack(*fields) + udp


def write_pcap(
    path: Path,
    datagrams: Iterable[bytes],
    *,
    interval_ms: float = 20,
    src: Address = ("127.0.0.1", 6000),
    dst: Address = ("127.0.0.1", 6001),
    linktype: int = LINKTYPE_ETHERNET,
) -> int:
    """Write UDP ``datagrams`` from ``src`` to ``dst``, ``interval_ms`` apart, as a classic
    libpcap file; returns how many.  ``linktype`` 1 (Ethernet, the default: SIPp 3.6.1
    reads it) or 101 (raw IPv4, which SIPp 3.6.1 refuses)."""
    if linktype not in (LINKTYPE_ETHERNET, LINKTYPE_RAW):
        raise ValueError(f"linktype {linktype}: only 1 (Ethernet) and 101 (raw IP) are written")
    link = _DUMMY_MACS + _ETHERTYPE_IPV4 if linktype == LINKTYPE_ETHERNET else b""
    count = 0
    with path.open("wb") as out:
        out.write(_PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for count, payload in enumerate(datagrams, start=1):
            frame = link + _ipv4_udp(payload, src, dst, ident=count)
            micros = round((count - 1) * interval_ms * 1000)
            out.write(_PCAP_RECORD.pack(*divmod(micros, 1_000_000), len(frame), len(frame)))
            out.write(frame)
    return count


def read_pcap(path: Path) -> list[PcapRecord]:
    """The UDP/IPv4 datagrams of a classic libpcap file (link type 1 or 101)."""
    data = path.read_bytes()
    magic, _, _, _, _, _, linktype = _PCAP_HEADER.unpack_from(data)
    if magic != 0xA1B2C3D4:
        raise ValueError(f"{path}: not a little-endian microsecond pcap (magic {magic:#x})")
    link_length = {LINKTYPE_ETHERNET: 14, LINKTYPE_RAW: 0}[linktype]
    records, offset = [], _PCAP_HEADER.size
    while offset < len(data):
        seconds, micros, length, _ = _PCAP_RECORD.unpack_from(data, offset)
        offset += _PCAP_RECORD.size
        ip = data[offset + link_length : offset + length]
        offset += length
        ihl = (ip[0] & 0x0F) * 4
        src_port, dst_port, udp_length, _ = _UDP_HEADER.unpack_from(ip, ihl)
        records.append(
            PcapRecord(
                time_s=seconds + micros / 1e6,
                src=(".".join(map(str, ip[12:16])), src_port),
                dst=(".".join(map(str, ip[16:20])), dst_port),
                payload=ip[ihl + _UDP_HEADER.size : ihl + udp_length],
            )
        )
    return records


def read_rtp_pcap(path: Path) -> list[RtpPacket]:
    """The RTP packets of a pcap file, in file order."""
    return [RtpPacket.decode(record.payload) for record in read_pcap(path)]


# --- RTP streams -----------------------------------------------------------------------


def _start(ssrc: int | None, seq_start: int | None, ts_start: int | None) -> tuple[int, int, int]:
    """RFC 3550 §5.1: SSRC, first sequence number and timestamp are random unless pinned."""
    return (
        secrets.randbits(32) if ssrc is None else ssrc,
        secrets.randbits(16) if seq_start is None else seq_start & 0xFFFF,
        secrets.randbits(32) if ts_start is None else ts_start & 0xFFFFFFFF,
    )


def _write_stream(
    path: Path,
    packets: Sequence[RtpPacket],
    *,
    ssrc: int,
    seq_start: int,
    ts_start: int,
    next_timestamp: int,
    ptime_ms: int,
    src: Address = ("127.0.0.1", 6000),
    dst: Address = ("127.0.0.1", 6001),
) -> RtpStream:
    write_pcap(path, (p.encode() for p in packets), interval_ms=ptime_ms, src=src, dst=dst)
    return RtpStream(
        path=path,
        ssrc=ssrc,
        first_sequence=seq_start & 0xFFFF,
        next_sequence=(seq_start + len(packets)) & 0xFFFF,
        first_timestamp=ts_start & 0xFFFFFFFF,
        next_timestamp=next_timestamp & 0xFFFFFFFF,
        packets=len(packets),
        ptime_ms=ptime_ms,
    )


def write_rtp_pcap(
    path: Path,
    payloads: Iterable[bytes],
    *,
    payload_type: int,
    ssrc: int,
    seq_start: int,
    ts_start: int,
    ptime_ms: int = 20,
    src: Address = ("127.0.0.1", 6000),
    dst: Address = ("127.0.0.1", 6001),
) -> RtpStream:
    """One RTP packet per payload: sequence numbers +1, timestamps + ``ptime_ms`` of the
    8 kHz clock, the marker bit on the first packet (RFC 3551 §4.1: start of a talkspurt)."""
    step = CLOCK_RATE * ptime_ms // 1000
    packets = [
        RtpPacket(
            payload_type,
            (seq_start + i) & 0xFFFF,
            (ts_start + i * step) & 0xFFFFFFFF,
            ssrc,
            payload,
            marker=i == 0,
        )
        for i, payload in enumerate(payloads)
    ]
    return _write_stream(
        path,
        packets,
        ssrc=ssrc,
        seq_start=seq_start,
        ts_start=ts_start,
        next_timestamp=ts_start + len(packets) * step,
        ptime_ms=ptime_ms,
        src=src,
        dst=dst,
    )


def _frames(audio: bytes, codec: int, size: int = 160) -> Iterator[bytes]:
    """Cut G.711 audio into ``size``-byte frames, the last one padded with silence."""
    for start in range(0, len(audio), size):
        yield audio[start : start + size].ljust(size, bytes([SILENCE_BYTE[codec]]))


def _run(argv: Sequence[str], package: str, stdin: bytes | None = None) -> bytes:
    binary = shutil.which(argv[0])
    if binary is None:
        raise MediaToolError(f"{argv[0]} not found on PATH: install the Debian package {package}")
    result = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [binary, *argv[1:]], input=stdin, capture_output=True, timeout=TOOL_TIMEOUT_S, check=False
    )
    if result.returncode != 0 or not result.stdout:
        raise MediaToolError(
            f"{' '.join(argv)} exited {result.returncode}: {result.stderr.decode(errors='replace')}"
        )
    return result.stdout


def _sox_to_g711(codec: int) -> list[str]:
    if codec not in SOX_ENCODING:
        raise ValueError(f"codec {codec}: only {PCMU} (PCMU) and {PCMA} (PCMA) are written")
    return ["-t", "raw", "-r", str(CLOCK_RATE), "-c", "1", "-e", SOX_ENCODING[codec], "-"]


def speech_pcap(
    path: Path,
    text: str,
    language: str,
    codec: int = PCMU,
    *,
    ssrc: int | None = None,
    seq_start: int | None = None,
    ts_start: int | None = None,
) -> RtpStream:
    """``text`` spoken by espeak-ng (voice ``language``), G.711 by sox, 160 bytes a packet."""
    wav = _run(["espeak-ng", "-v", language, "--stdout", text], "espeak-ng")
    audio = _run(["sox", "-V1", "-t", "wav", "-", *_sox_to_g711(codec)], "sox", stdin=wav)
    ssrc, seq_start, ts_start = _start(ssrc, seq_start, ts_start)
    return write_rtp_pcap(
        path,
        _frames(audio, codec),
        payload_type=codec,
        ssrc=ssrc,
        seq_start=seq_start,
        ts_start=ts_start,
    )


def tone_pcap(
    path: Path,
    freq_hz: float,
    seconds: float,
    codec: int = PCMU,
    *,
    ssrc: int | None = None,
    seq_start: int | None = None,
    ts_start: int | None = None,
) -> RtpStream:
    """A sine tone at -6 dBFS (sox synth): a leg's audio that is easy to recognise in a
    recording's channel."""
    synth = ["synth", str(seconds), "sine", str(freq_hz), "gain", "-6"]
    audio = _run(["sox", "-V1", "-n", *_sox_to_g711(codec), *synth], "sox")
    ssrc, seq_start, ts_start = _start(ssrc, seq_start, ts_start)
    return write_rtp_pcap(
        path,
        _frames(audio, codec),
        payload_type=codec,
        ssrc=ssrc,
        seq_start=seq_start,
        ts_start=ts_start,
    )


def dtmf_pcap(
    path: Path,
    digits: str,
    *,
    payload_type: int = 101,
    ssrc: int | None = None,
    seq_start: int | None = None,
    ts_start: int | None = None,
    tone_ms: int = 100,
    gap_ms: int = 200,
    volume: int = 10,
    codec: int = PCMU,
) -> RtpStream:
    """Key presses as RFC 4733 telephone-events between frames of G.711 silence.

    The stream starts and ends with ``gap_ms`` of silence and has as much between two
    digits, as a phone sends it: audio and events share the SSRC, the sequence numbers
    and the 8 kHz clock, one packet every 20 ms.  Each digit (RFC 4733 §2.5.1):

    * an event packet every 20 ms with the event's start as its timestamp and a duration
      that grows by 160; the marker bit on the first (§2.5.1.3);
    * at ``tone_ms`` the end bit, sent three times with the same timestamp and duration
      and new sequence numbers (§2.5.1.4);
    * then silence again, whose timestamps follow the clock (the 40 ms of the two
      retransmitted end packets are not audio either side counted).

    ``volume`` is the power in -dBm0 (§2.3.4), 0–63.
    """
    unknown = sorted(set(digits.upper()) - set(DTMF_EVENTS))
    if unknown or not digits:
        raise ValueError(f"digits {digits!r}: only {DTMF_EVENTS} (RFC 4733 §3.2)")
    if tone_ms % 20 or gap_ms % 20 or tone_ms <= 0:
        raise ValueError(f"tone_ms {tone_ms} and gap_ms {gap_ms} must be multiples of 20 ms")
    ssrc, seq_start, ts_start = _start(ssrc, seq_start, ts_start)
    step = CLOCK_RATE // 50  # samples in 20 ms
    silence = bytes([SILENCE_BYTE[codec]]) * step
    packets: list[RtpPacket] = []

    def send(pt: int, payload: bytes, *, timestamp: int, marker: bool = False) -> None:
        seq = (seq_start + len(packets)) & 0xFFFF
        packets.append(RtpPacket(pt, seq, timestamp & 0xFFFFFFFF, ssrc, payload, marker=marker))

    def pause() -> None:
        for _ in range(gap_ms // 20):
            # Every packet is 20 ms after the one before: slot i is at ts_start + i*step.
            send(codec, silence, timestamp=ts_start + len(packets) * step, marker=not packets)

    pause()
    for digit in digits.upper():
        event = DTMF_EVENTS.index(digit)
        start = ts_start + len(packets) * step
        updates = tone_ms // 20
        for i in range(1, updates + 3):
            end = i >= updates
            duration = min(i, updates) * step
            payload = struct.pack("!BBH", event, (0x80 if end else 0) | volume, duration)
            send(payload_type, payload, timestamp=start, marker=i == 1)
        pause()
    return _write_stream(
        path,
        packets,
        ssrc=ssrc,
        seq_start=seq_start,
        ts_start=ts_start,
        next_timestamp=ts_start + len(packets) * step,
        ptime_ms=20,
    )


def decode_dtmf(packets: Iterable[RtpPacket], payload_type: int = 101) -> str:
    """The keys pressed: one per event (RFC 4733 §2.5.2.2: an event is its timestamp),
    counted at its first end packet; retransmitted end packets are ignored."""
    digits, ended = [], set()
    for packet in packets:
        if packet.payload_type != payload_type or len(packet.payload) < 4:
            continue
        event, flags = packet.payload[0], packet.payload[1]
        if flags & 0x80 and (packet.ssrc, packet.timestamp) not in ended:
            ended.add((packet.ssrc, packet.timestamp))
            digits.append(DTMF_EVENTS[event] if event < len(DTMF_EVENTS) else "?")
    return "".join(digits)
