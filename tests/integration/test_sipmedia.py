"""sipmedia's pcaps: well-formed on disk, and the real SIPp 3.6.1 plays them to a callee.

The callee is a few lines of Python over two UDP sockets on 127.0.0.1: it answers
SIPp's INVITE with an SDP naming its RTP socket, collects as many packets as the pcap
holds, then hangs up with BYE (``sipp/uac_pcap.xml`` waits for it).  Nothing sleeps:
every wait is a socket timeout.  ``play_pcap_audio`` sends from a raw socket, so SIPp
must run as root or with CAP_NET_RAW (CI runs as root).
"""

from __future__ import annotations

import itertools
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.integration.sipmedia import (
    LINKTYPE_ETHERNET,
    LINKTYPE_RAW,
    PCMA,
    PCMU,
    RtpPacket,
    RtpStream,
    decode_dtmf,
    dtmf_pcap,
    read_pcap,
    read_rtp_pcap,
    speech_pcap,
    tone_pcap,
    write_pcap,
    write_rtp_pcap,
)

UAC_SCENARIO = Path(__file__).parent / "sipp" / "uac_pcap.xml"
WAIT_S = 10.0
SIPP_EXIT_S = 20.0


def internet_checksum(data: bytes) -> int:
    """RFC 1071 one's-complement sum: 0 over a header whose checksum is right."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def g711_to_linear(codec: int, data: bytes) -> np.ndarray:
    """ITU-T G.711 decoding (µ-law §2 / A-law §1), written out for the test's own use."""
    code = np.frombuffer(data, dtype=np.uint8).astype(np.int32)
    if codec == PCMU:
        code = ~code & 0xFF
        magnitude = (((code & 0x0F) << 3) + 0x84) << ((code >> 4) & 0x07)
        return np.where(code & 0x80, 0x84 - magnitude, magnitude - 0x84)
    code ^= 0x55
    exponent, mantissa = (code >> 4) & 0x07, code & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(code & 0x80, magnitude, -magnitude)


def dominant_hz(samples: np.ndarray, rate: int = 8000) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def assert_one_stream(packets: list[RtpPacket], stream: RtpStream) -> None:
    """One SSRC, sequence numbers +1 each (mod 2^16), timestamps never going back."""
    assert len(packets) == stream.packets
    assert {p.ssrc for p in packets} == {stream.ssrc}
    assert [p.sequence for p in packets] == [
        (stream.first_sequence + i) & 0xFFFF for i in range(len(packets))
    ]
    assert packets[0].timestamp == stream.first_timestamp
    steps = [(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in itertools.pairwise(packets)]
    assert all(step < 0x80000000 for step in steps), steps


# --- the files ---------------------------------------------------------------------------


def test_given_payloads_when_write_rtp_pcap_then_ethernet_ipv4_udp_rtp_20ms_apart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.pcap"
    payloads = [bytes([i]) * 160 for i in range(5)]
    stream = write_rtp_pcap(
        path, payloads, payload_type=PCMU, ssrc=0xDEADBEEF, seq_start=65534, ts_start=0xFFFFFF00
    )
    assert (stream.next_sequence, stream.next_timestamp) == (3, 0x220)
    data = path.read_bytes()
    magic, major, minor, _, _, snaplen, linktype = struct.unpack_from("<IHHiIII", data)
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, LINKTYPE_ETHERNET)
    offset, times = 24, []
    for i, payload in enumerate(payloads):
        seconds, micros, included, original = struct.unpack_from("<IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + included]
        offset += 16 + included
        times.append(seconds * 1_000_000 + micros)
        assert included == original == len(frame) <= snaplen
        assert frame[12:14] == b"\x08\x00"  # IPv4 after a dummy Ethernet header
        ip = frame[14:]
        assert ip[0] == 0x45 and ip[9] == 17  # IPv4, 20-byte header, UDP
        assert internet_checksum(ip[:20]) == 0
        assert struct.unpack_from("!H", ip, 2)[0] == len(ip)
        src_port, dst_port, udp_length, _ = struct.unpack_from("!HHHH", ip, 20)
        assert (src_port, dst_port, udp_length) == (6000, 6001, len(ip) - 20)
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, udp_length)
        assert internet_checksum(pseudo + ip[20:]) == 0
        rtp = RtpPacket.decode(ip[28:])
        sequence, timestamp = (65534 + i) & 0xFFFF, (0xFFFFFF00 + 160 * i) & 0xFFFFFFFF
        assert rtp == RtpPacket(PCMU, sequence, timestamp, 0xDEADBEEF, payload, marker=i == 0)
    assert offset == len(data)
    assert [b - a for a, b in itertools.pairwise(times)] == [20_000] * 4


def test_given_raw_linktype_then_records_start_with_the_ip_header(tmp_path: Path) -> None:
    path = tmp_path / "raw.pcap"
    assert write_pcap(path, [b"x" * 12, b"y" * 12], linktype=LINKTYPE_RAW) == 2
    data = path.read_bytes()
    assert struct.unpack_from("<I", data, 20)[0] == LINKTYPE_RAW
    assert data[24 + 16] == 0x45
    assert [r.payload for r in read_pcap(path)] == [b"x" * 12, b"y" * 12]


def test_given_digits_when_dtmf_pcap_then_rfc4733_events_between_silence(tmp_path: Path) -> None:
    stream = dtmf_pcap(
        tmp_path / "d.pcap", "1#", ssrc=7, seq_start=10, ts_start=1000, tone_ms=100, gap_ms=60
    )
    packets = read_rtp_pcap(stream.path)
    assert_one_stream(packets, stream)
    silence = RtpPacket(PCMU, 0, 0, 7, b"\xff" * 160)
    # 3 silence, 4 updates + 3 end packets, 3 silence, 7 event packets, 3 silence.
    kinds = "".join("E" if p.payload_type == 101 else "s" for p in packets)
    assert kinds == "sss" + "E" * 7 + "sss" + "E" * 7 + "sss"
    for slot, packet in enumerate(packets):
        if packet.payload_type == PCMU:
            assert packet.payload == silence.payload
            assert packet.timestamp == 1000 + 160 * slot  # audio follows the clock
            assert packet.marker == (slot == 0)
    for first, key in ((3, 1), (13, 11)):
        events = packets[first : first + 7]
        assert {p.timestamp for p in events} == {1000 + 160 * first}  # the event's start
        assert [p.marker for p in events] == [True] + [False] * 6
        fields = [struct.unpack("!BBH", p.payload) for p in events]
        assert (
            fields
            == [(key, 10, 160), (key, 10, 320), (key, 10, 480), (key, 10, 640)]
            + [(key, 0x80 | 10, 800)] * 3
        )
    assert decode_dtmf(packets) == "1#"
    assert stream.next_timestamp == 1000 + 160 * len(packets)


def test_given_seq_start_near_the_top_then_sequence_numbers_wrap(tmp_path: Path) -> None:
    stream = dtmf_pcap(tmp_path / "w.pcap", "9", ssrc=1, seq_start=65533, ts_start=0)
    packets = read_rtp_pcap(stream.path)
    assert [p.sequence for p in packets[:5]] == [65533, 65534, 65535, 0, 1]
    assert_one_stream(packets, stream)


def test_given_two_files_when_the_second_continues_the_first_then_one_stream(
    tmp_path: Path,
) -> None:
    first = tone_pcap(tmp_path / "t.pcap", 440, 0.2, ssrc=5, seq_start=1, ts_start=0)
    second = dtmf_pcap(
        tmp_path / "d.pcap",
        "5",
        ssrc=first.ssrc,
        seq_start=first.next_sequence,
        ts_start=first.next_timestamp,
    )
    packets = read_rtp_pcap(first.path) + read_rtp_pcap(second.path)
    assert [p.sequence for p in packets] == list(range(1, 1 + len(packets)))
    assert packets[len(read_rtp_pcap(first.path))].timestamp == first.next_timestamp


def test_given_unknown_key_then_value_error_names_the_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"0123456789\*#ABCD"):
        dtmf_pcap(tmp_path / "x.pcap", "12x")


@pytest.mark.parametrize("codec", [PCMU, PCMA], ids=["pcmu", "pcma"])
def test_given_text_when_speech_pcap_then_160_byte_frames_of_speech(
    tmp_path: Path, codec: int
) -> None:
    stream = speech_pcap(tmp_path / "s.pcap", "Press one for accounting", "en", codec)
    packets = read_rtp_pcap(stream.path)
    assert_one_stream(packets, stream)
    assert 0.8 < stream.duration_s < 5
    assert {p.payload_type for p in packets} == {codec}
    assert {len(p.payload) for p in packets} == {160}
    samples = g711_to_linear(codec, b"".join(p.payload for p in packets))
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 300  # speech, not silence


@pytest.mark.parametrize("codec", [PCMU, PCMA], ids=["pcmu", "pcma"])
@pytest.mark.parametrize("freq", [440, 1000])
def test_given_frequency_when_tone_pcap_then_that_tone(
    tmp_path: Path, codec: int, freq: int
) -> None:
    stream = tone_pcap(tmp_path / "t.pcap", freq, 1.0, codec)
    packets = read_rtp_pcap(stream.path)
    assert stream.packets == 50
    samples = g711_to_linear(codec, b"".join(p.payload for p in packets))
    assert abs(dominant_hz(samples) - freq) <= 4
    assert 0.4 < np.max(np.abs(samples)) / 32768 < 0.6  # -6 dBFS


# --- the real SIPp -----------------------------------------------------------------------


def sipp_binary() -> str:
    sipp = shutil.which("sipp")
    if sipp is None:
        pytest.fail("sipp not found on PATH: install Debian package sip-tester")
    return sipp


def free_media_port() -> int:
    """An even port with the next but one free too: SIPp binds -mp and -mp + 2 (video)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1] & ~1
        try:
            with ExitStack() as stack:
                for candidate in (port, port + 2):
                    sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                    sock.bind(("127.0.0.1", candidate))
        except (OSError, OverflowError):
            continue
        return port
    pytest.fail("no free UDP port pair for SIPp's media")


@dataclass(frozen=True)
class Arrival:
    at: float
    source: tuple[str, int]
    packet: RtpPacket


class Callee:
    """A UAS over two UDP sockets: answers one INVITE, collects RTP, hangs up."""

    def __init__(self) -> None:
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for sock in (self.sip, self.rtp):
            sock.bind(("127.0.0.1", 0))
        self.port: int = self.sip.getsockname()[1]
        self.invite = ""
        self.caller: tuple[str, int] = ("", 0)

    def close(self) -> None:
        self.sip.close()
        self.rtp.close()

    def header(self, name: str) -> str:
        found = re.search(rf"^{name}:[ \t]*(.*?)\r$", self.invite, re.MULTILINE | re.IGNORECASE)
        assert found, f"no {name} in INVITE:\n{self.invite}"
        return found.group(1)

    def receive_sip(self) -> str:
        self.sip.settimeout(WAIT_S)
        data, self.caller = self.sip.recvfrom(65535)
        return data.decode()

    def answer(self) -> None:
        """Answer the INVITE with 200 OK and our SDP; return once the ACK came
        (RFC 3261 §13.3.1.4: the INVITE's retransmissions get the same 200)."""
        self.invite = self.receive_sip()
        assert self.invite.startswith("INVITE "), self.invite
        sdp = (
            "v=0\r\no=callee 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {self.rtp.getsockname()[1]} RTP/AVP 0 8 101\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
        )
        ok = (
            f"SIP/2.0 200 OK\r\nVia: {self.header('Via')}\r\nFrom: {self.header('From')}\r\n"
            f"To: {self.header('To')};tag=callee\r\nCall-ID: {self.header('Call-ID')}\r\n"
            f"CSeq: {self.header('CSeq')}\r\nContact: <sip:callee@127.0.0.1:{self.port}>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
        ).encode()
        self.sip.sendto(ok, self.caller)
        while not (message := self.receive_sip()).startswith("ACK "):
            assert message.startswith("INVITE "), message
            self.sip.sendto(ok, self.caller)

    def collect(self, count: int) -> list[Arrival]:
        arrivals: list[Arrival] = []
        deadline = time.monotonic() + WAIT_S
        while len(arrivals) < count:
            self.rtp.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                data, source = self.rtp.recvfrom(2048)
            except TimeoutError:
                pytest.fail(f"{len(arrivals)} of {count} RTP packets arrived in {WAIT_S} s")
            arrivals.append(Arrival(time.monotonic(), source, RtpPacket.decode(data)))
        return arrivals

    def hang_up(self) -> None:
        """BYE, resent every 500 ms until its 200 OK (RFC 3261 §17.1.2.2, Timer E)."""
        contact = re.search(r"<sip:([^>;]+)", self.header("Contact"))
        assert contact, self.header("Contact")
        bye = (
            f"BYE sip:{contact.group(1)} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK-callee-bye\r\n"
            f"Max-Forwards: 70\r\nFrom: {self.header('To')};tag=callee\r\n"
            f"To: {self.header('From')}\r\nCall-ID: {self.header('Call-ID')}\r\n"
            "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        self.sip.settimeout(0.5)
        for _ in range(int(WAIT_S / 0.5)):
            self.sip.sendto(bye, self.caller)
            try:
                while not (answer := self.sip.recv(65535).decode()).startswith("SIP/2.0 200"):
                    pass
            except TimeoutError:
                continue
            assert "CSeq: 2 BYE" in answer, answer
            return
        pytest.fail("SIPp never answered BYE")


@contextmanager
def sipp_caller(
    tmp_path: Path, callee: Callee, media_port: int
) -> Iterator[subprocess.Popen[bytes]]:
    """SIPp running ``uac_pcap.xml`` (copied next to ``tmp_path/media.pcap``) once."""
    scenario = shutil.copy(UAC_SCENARIO, tmp_path / UAC_SCENARIO.name)
    argv = [
        sipp_binary(), f"127.0.0.1:{callee.port}", "-sf", str(scenario), "-m", "1",
        "-i", "127.0.0.1", "-p", "0", "-mi", "127.0.0.1", "-mp", str(media_port),
        "-timeout", f"{SIPP_EXIT_S:.0f}s", "-nostdin",
    ]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # the statistics screen, refreshed every second
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        if process.stderr is not None and not process.stderr.closed:
            process.communicate()  # reap it and close the pipes


def sipp_exit(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    try:
        _, stderr = process.communicate(timeout=SIPP_EXIT_S + 5)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return process.returncode, stderr.decode(errors="replace")


def play_through_sipp(tmp_path: Path, stream: RtpStream) -> list[Arrival]:
    """SIPp calls the callee and plays ``stream``; returns what reached the callee."""
    assert stream.path == tmp_path / "media.pcap"
    media_port = free_media_port()
    callee = Callee()
    try:
        with sipp_caller(tmp_path, callee, media_port) as process:
            callee.answer()
            arrivals = callee.collect(stream.packets)
            callee.hang_up()
            returncode, stderr = sipp_exit(process)
        assert returncode == 0, f"sipp exited {returncode} (root or CAP_NET_RAW?)\n{stderr}"
    finally:
        callee.close()
    assert {a.source for a in arrivals} == {("127.0.0.1", media_port)}
    return arrivals


@pytest.mark.parametrize(
    "make",
    [
        lambda path: speech_pcap(path, "You have reached the hotline", "en", PCMU),
        lambda path: speech_pcap(path, "Вы позвонили на горячую линию", "ru", PCMA),
        lambda path: tone_pcap(path, 1000, 1.0, PCMU),
    ],
    ids=["speech-en-pcmu", "speech-ru-pcma", "tone"],
)
def test_given_media_pcap_when_sipp_plays_it_then_callee_gets_every_packet_20ms_apart(
    tmp_path: Path, make: Callable[[Path], RtpStream]
) -> None:
    stream = make(tmp_path / "media.pcap")
    arrivals = play_through_sipp(tmp_path, stream)
    packets = [a.packet for a in arrivals]
    assert packets == read_rtp_pcap(stream.path)  # byte for byte, in order
    assert_one_stream(packets, stream)
    span = arrivals[-1].at - arrivals[0].at
    nominal = (stream.packets - 1) * 0.020
    assert nominal * 0.8 < span < nominal + 1.0, (span, nominal)  # paced, not bursted


def test_given_dtmf_pcap_when_sipp_plays_it_then_callee_decodes_the_digits(
    tmp_path: Path,
) -> None:
    stream = dtmf_pcap(tmp_path / "media.pcap", "159#*0")
    packets = [a.packet for a in play_through_sipp(tmp_path, stream)]
    assert_one_stream(packets, stream)
    assert decode_dtmf(packets) == "159#*0"


def test_given_raw_ip_pcap_when_sipp_loads_it_then_refused(tmp_path: Path) -> None:
    """A fact of SIPp 3.6.1 (``prepare_pcap.c``): only Ethernet and Linux cooked link
    types; libpcap reports LINKTYPE_RAW (101) as DLT_RAW, which is 12 on Linux."""
    payloads = [b"\x80\x00" + bytes(170)]
    write_pcap(tmp_path / "media.pcap", payloads, linktype=LINKTYPE_RAW)
    callee = Callee()
    try:
        with sipp_caller(tmp_path, callee, free_media_port()) as process:
            returncode, stderr = sipp_exit(process)
    finally:
        callee.close()
    assert returncode != 0
    assert "Unsupported link-type" in stderr, stderr
