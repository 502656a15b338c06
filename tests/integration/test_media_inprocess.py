"""The in-process media backend against raw UDP sockets that play the phones.

Each test opens legs on 127.0.0.1 and drives them with :class:`Phone`, a plain
non-blocking socket.  Nothing sleeps to synchronise: a test awaits the packets or the
listener reports it expects (with a timeout), and "nothing else was sent" is read from
the socket buffer once a later event proves the backend got that far (loopback UDP is
delivered within ``sendto``).  The only sleeps pace a phone's own sending at 20 ms,
as a real phone does, where a recording's length depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import socket
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from hotline.telephony.media.audio import write_wav
from hotline.telephony.media.base import Codec, MediaError, RemoteMedia
from hotline.telephony.media.inprocess import InProcessMedia
from hotline.telephony.rtp import (
    RtpPacket,
    alaw_to_linear,
    alaw_to_ulaw,
    build_rtp,
    dtmf_packets,
    linear_to_alaw,
    linear_to_ulaw,
    parse_rtp,
    seq_distance,
    ulaw_to_alaw,
    ulaw_to_linear,
)

TIMEOUT_S = 5.0
FRAME = 160
DTMF_PT = 101
Address = tuple[str, int]


class Events:
    """The backend's listener: what it reported, in order."""

    def __init__(self) -> None:
        self.digits: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.finished: asyncio.Queue[tuple[str, int]] = asyncio.Queue()

    def on_dtmf(self, leg_id: str, digit: str) -> None:
        self.digits.put_nowait((leg_id, digit))

    def on_playback_finished(self, leg_id: str, playback_id: int) -> None:
        self.finished.put_nowait((leg_id, playback_id))

    async def next_digit(self) -> tuple[str, str]:
        return await asyncio.wait_for(self.digits.get(), TIMEOUT_S)

    async def next_finished(self) -> tuple[str, int]:
        return await asyncio.wait_for(self.finished.get(), TIMEOUT_S)


class Log:
    """A structlog stand-in that keeps what was logged."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def info(self, event: str, **kw: Any) -> None:
        self.events.append((event, kw))

    def warning(self, event: str, **kw: Any) -> None:
        self.events.append((event, kw))


class Phone:
    """One UDP socket acting as a phone's RTP endpoint."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.host = host
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.ssrc = random.getrandbits(32)
        self._seq = itertools.count(random.getrandbits(15))

    async def receive(self) -> tuple[RtpPacket, float, Address]:
        loop = asyncio.get_running_loop()
        data, source = await asyncio.wait_for(loop.sock_recvfrom(self.sock, 2048), TIMEOUT_S)
        packet = parse_rtp(data)
        assert packet is not None, data
        return packet, loop.time(), source

    async def receive_many(self, count: int) -> list[RtpPacket]:
        return [(await self.receive())[0] for _ in range(count)]

    def waiting(self) -> list[RtpPacket]:
        """Whatever already sits in the socket buffer (does not wait)."""
        packets = []
        with contextlib.suppress(BlockingIOError):
            while True:
                packet = parse_rtp(self.sock.recv(2048))
                assert packet is not None
                packets.append(packet)
        return packets

    def send(
        self, to: int, payload: bytes, *, pt: int, timestamp: int, marker: bool = False
    ) -> None:
        packet = build_rtp(pt, next(self._seq), timestamp, self.ssrc, payload, marker=marker)
        self.sock.sendto(packet, ("127.0.0.1", to))

    def send_digits(self, to: int, digits: str, *, first_timestamp: int = 0) -> None:
        for i, digit in enumerate(digits):
            for p in dtmf_packets(digit, first_timestamp + 8000 * i):
                self.send(to, p.payload, pt=DTMF_PT, timestamp=p.timestamp, marker=p.marker)

    async def talk(self, to: int, frames: list[bytes], *, pt: int) -> None:
        """Send frames 20 ms apart on absolute deadlines, as a phone's sound card does."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, frame in enumerate(frames):
            await asyncio.sleep(max(0.0, start + 0.02 * i - loop.time()))
            self.send(to, frame, pt=pt, timestamp=FRAME * i, marker=i == 0)

    def close(self) -> None:
        self.sock.close()


def tone(freq: float, seconds: float, amplitude: float = 8000) -> npt.NDArray[np.int16]:
    t = np.arange(round(8000 * seconds)) / 8000
    return np.round(amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def frames_of(samples: npt.NDArray[np.int16], codec: Codec) -> list[bytes]:
    encoded = linear_to_ulaw(samples) if codec == Codec.PCMU else linear_to_alaw(samples)
    return [encoded[i : i + FRAME] for i in range(0, len(encoded), FRAME)]


def level_at(samples: npt.NDArray[np.int16], freq: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(spectrum[round(freq * len(samples) / 8000)])


def bindable_even_ports(count: int) -> int:
    """A base port such that base, base+2, ... (count ports) are free right now."""
    for _ in range(100):
        base = random.randrange(20000, 60000, 2)
        probes: list[socket.socket] = []
        try:
            for port in range(base, base + 2 * count, 2):
                probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no free UDP port range on 127.0.0.1")


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
async def media(events: Events, log: Log) -> AsyncIterator[InProcessMedia]:
    base = bindable_even_ports(16)
    backend = InProcessMedia("127.0.0.1", base, base + 31, events, log=log)
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
def phones() -> Iterator[tuple[Phone, Phone]]:
    pair = Phone(), Phone()
    yield pair
    for phone in pair:
        phone.close()


async def connected(
    media: InProcessMedia, leg_id: str, phone: Phone, codec: Codec = Codec.PCMU, **kw: Any
) -> int:
    local = await media.open_leg(leg_id)
    media.connect(leg_id, RemoteMedia("127.0.0.1", phone.port, codec, **kw))
    return local.port


@pytest.mark.parametrize("codec", [Codec.PCMU, Codec.PCMA], ids=["PCMU", "PCMA"])
async def test_given_a_connected_leg_when_playing_a_wav_then_paced_rtp_carries_its_samples(
    media: InProcessMedia, events: Events, phones: tuple[Phone, Phone], tmp_path: Path, codec: Codec
) -> None:
    phone, _ = phones
    samples = tone(440, 0.5)
    write_wav(tmp_path / "welcome.wav", samples)
    port = await connected(media, "caller", phone, codec)

    playback_id = await media.play("caller", [tmp_path / "welcome.wav"])
    received = [await phone.receive() for _ in range(25)]

    assert await events.next_finished() == ("caller", playback_id)
    assert phone.waiting() == []  # The last frame was the 25th.
    packets = [packet for packet, _, _ in received]
    assert {source for _, _, source in received} == {("127.0.0.1", port)}
    assert {(p.payload_type, p.ssrc) for p in packets} == {(codec, packets[0].ssrc)}
    assert [p.marker for p in packets] == [True] + [False] * 24
    first = packets[0]
    assert [p.sequence_number for p in packets] == [
        (first.sequence_number + i) & 0xFFFF for i in range(25)
    ]
    assert [p.timestamp for p in packets] == [
        (first.timestamp + FRAME * i) & 0xFFFFFFFF for i in range(25)
    ]
    payload = b"".join(p.payload for p in packets)
    if codec == Codec.PCMU:
        assert np.array_equal(ulaw_to_linear(payload), ulaw_to_linear(linear_to_ulaw(samples)))
    else:
        assert np.array_equal(alaw_to_linear(payload), alaw_to_linear(linear_to_alaw(samples)))
    arrivals = [arrival for _, arrival, _ in received]
    assert (arrivals[-1] - arrivals[0]) / 24 == pytest.approx(0.020, abs=0.004)


async def test_given_a_phone_pressing_keys_then_each_digit_is_reported_once_in_order(
    media: InProcessMedia, events: Events, phones: tuple[Phone, Phone]
) -> None:
    phone, _ = phones
    port = await connected(media, "caller", phone, dtmf_payload_type=DTMF_PT)

    phone.send_digits(port, "12#", first_timestamp=8000)
    # SIPp's stock pcaps replay one SSRC with sequence numbers that start again: a
    # receiver keyed on sequence numbers would drop this digit.
    phone._seq = itertools.count(0)
    phone.send_digits(port, "4", first_timestamp=800_000)
    got = [await events.next_digit() for _ in range(4)]
    phone.send_digits(port, "9", first_timestamp=900_000)

    assert got == [("caller", d) for d in "12#4"]
    assert await events.next_digit() == ("caller", "9")  # No duplicate came before it.
    assert events.digits.empty()


async def test_given_all_end_packets_lost_then_the_digit_is_reported_after_a_timeout(
    media: InProcessMedia, events: Events, phones: tuple[Phone, Phone]
) -> None:
    phone, _ = phones
    port = await connected(media, "caller", phone, dtmf_payload_type=DTMF_PT)
    for p in list(dtmf_packets("8", 4000))[:-3]:  # Without its three end packets.
        phone.send(port, p.payload, pt=DTMF_PT, timestamp=p.timestamp, marker=p.marker)
    assert await events.next_digit() == ("caller", "8")  # Reported by the pacing clock.
    assert events.digits.empty()


async def test_given_two_bridged_legs_then_audio_is_relayed_both_ways_and_transcoded(
    media: InProcessMedia, events: Events, phones: tuple[Phone, Phone]
) -> None:
    caller, operator = phones
    caller_port = await connected(media, "caller", caller, Codec.PCMU, dtmf_payload_type=DTMF_PT)
    operator_port = await connected(media, "operator", operator, Codec.PCMA, dtmf_payload_type=96)
    media.bridge("caller", "operator")

    ulaw = frames_of(tone(500, 0.1), Codec.PCMU)
    for i, frame in enumerate(ulaw):
        caller.send(caller_port, frame, pt=Codec.PCMU, timestamp=1000 + FRAME * i)
    to_operator = await operator.receive_many(len(ulaw))
    alaw = frames_of(tone(700, 0.1), Codec.PCMA)
    for i, frame in enumerate(alaw):
        operator.send(operator_port, frame, pt=Codec.PCMA, timestamp=FRAME * i)
    to_caller = await caller.receive_many(len(alaw))

    assert [p.payload for p in to_operator] == [ulaw_to_alaw(f) for f in ulaw]
    assert [p.payload for p in to_caller] == [alaw_to_ulaw(f) for f in alaw]
    assert {p.payload_type for p in to_operator} == {Codec.PCMA}
    assert {p.payload_type for p in to_caller} == {Codec.PCMU}
    # Re-stamped as the leg's own stream: its SSRC, consecutive numbers, +160 each.
    for relayed, source in [(to_operator, caller), (to_caller, operator)]:
        assert len({p.ssrc for p in relayed} - {source.ssrc}) == 1
        assert [p.sequence_number - relayed[0].sequence_number for p in relayed] == list(
            range(len(relayed))
        )
        assert [(p.timestamp - relayed[0].timestamp) % 2**32 for p in relayed] == [
            FRAME * i for i in range(len(relayed))
        ]
        assert relayed[0].marker

    # DTMF is relayed as events, under the other leg's payload type, and reported.
    caller.send_digits(caller_port, "5", first_timestamp=50_000)
    assert await events.next_digit() == ("caller", "5")
    relayed_dtmf = operator.waiting()
    assert relayed_dtmf
    assert {p.payload_type for p in relayed_dtmf} == {96}

    # Unbridged: nothing is relayed any more.
    media.unbridge("operator")
    caller.send(caller_port, ulaw[0], pt=Codec.PCMU, timestamp=90_000)
    caller.send_digits(caller_port, "6", first_timestamp=100_000)
    assert await events.next_digit() == ("caller", "6")
    assert operator.waiting() == []


async def test_given_a_bridged_call_when_recorded_then_each_voice_is_in_its_channel(
    media: InProcessMedia, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    caller, operator = phones
    caller_port = await connected(media, "caller", caller, Codec.PCMU)
    operator_port = await connected(media, "operator", operator, Codec.PCMA)
    media.bridge("caller", "operator")
    path = tmp_path / "recordings" / "call.wav"

    media.start_recording("call", path, "caller", "operator")
    await asyncio.gather(
        caller.talk(caller_port, frames_of(tone(1000, 0.4), Codec.PCMU), pt=Codec.PCMU),
        operator.talk(operator_port, frames_of(tone(2000, 0.4), Codec.PCMA), pt=Codec.PCMA),
        operator.receive_many(20),  # The relayed frames prove the backend got them.
        caller.receive_many(20),
    )
    result = await media.stop_recording("call")

    assert (result.path, result.channels) == (path, 2)
    assert 0.37 <= result.duration_seconds < 2.0  # 19 intervals of 20 ms, then stop.
    assert result.size_bytes == path.stat().st_size
    with wave.open(str(path), "rb") as file:
        assert (file.getnchannels(), file.getframerate(), file.getsampwidth()) == (2, 8000, 2)
        assert file.getnframes() == round(result.duration_seconds * 8000)
        stereo = np.frombuffer(file.readframes(file.getnframes()), "<i2").reshape(-1, 2)
    left, right = stereo[:, 0], stereo[:, 1]
    assert level_at(left, 1000) > 30 * level_at(left, 2000)
    assert level_at(right, 2000) > 30 * level_at(right, 1000)
    # Both parties spoke from the start: their first sounds line up within 100 ms.
    onsets = [int(np.argmax(np.abs(channel) > 1000)) for channel in (left, right)]
    assert abs(onsets[0] - onsets[1]) < 800


async def test_given_a_voicemail_when_recorded_then_the_file_is_mono(
    media: InProcessMedia, events: Events, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    caller, _ = phones
    port = await connected(media, "caller", caller, dtmf_payload_type=DTMF_PT)
    path = tmp_path / "voicemail.wav"
    media.start_recording("vm", path, "caller", None)
    await caller.talk(port, frames_of(tone(800, 0.2), Codec.PCMU), pt=Codec.PCMU)
    caller.send_digits(port, "#", first_timestamp=10_000)  # Ends the message, as users do.
    assert await events.next_digit() == ("caller", "#")
    result = await media.stop_recording("vm")
    with wave.open(str(path), "rb") as file:
        mono = np.frombuffer(file.readframes(file.getnframes()), "<i2")
    assert (result.channels, file.getnchannels()) == (1, 1)
    assert level_at(mono, 800) > 0


async def test_given_a_running_recording_when_the_backend_closes_then_the_file_is_saved(
    events: Events, log: Log, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    caller, _ = phones
    base = bindable_even_ports(1)
    media = InProcessMedia("127.0.0.1", base, base + 1, events, log=log)
    port = await connected(media, "caller", caller, dtmf_payload_type=DTMF_PT)
    media.start_recording("vm", tmp_path / "vm.wav", "caller", None)
    caller.send(port, b"\x80" * FRAME, pt=Codec.PCMU, timestamp=0, marker=True)
    caller.send_digits(port, "1", first_timestamp=160)
    await events.next_digit()  # The audio frame before it was received too.
    await media.close()
    assert (tmp_path / "vm.wav").exists()
    assert ("media.recording_saved_at_close", {"key": "vm", "path": str(tmp_path / "vm.wav")}) in (
        log.events
    )


async def test_given_a_peer_behind_nat_then_media_latches_to_its_real_source(
    media: InProcessMedia, events: Events, log: Log, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    # The SDP names the decoy (127.0.0.1); packets come from another address, as when a
    # NAT rewrote them: 127.0.0.2 is another host on the loopback interface.
    _, decoy = phones
    real = Phone("127.0.0.2")
    write_wav(tmp_path / "hold.wav", tone(300, 2.0))
    try:
        port = await connected(media, "caller", decoy, dtmf_payload_type=DTMF_PT)
        await media.play("caller", [tmp_path / "hold.wav"])
        before_latch, _, _ = await decoy.receive()

        real.send(port, b"\xff" * FRAME, pt=Codec.PCMU, timestamp=0, marker=True)
        after_latch, _, _ = await real.receive()

        # Whatever the decoy got was sent before the first packet to the real source.
        assert all(
            seq_distance(p.sequence_number, after_latch.sequence_number) < 0
            for p in decoy.waiting()
        )
        assert before_latch.sequence_number != after_latch.sequence_number
        latched = {
            "leg": "caller",
            "sdp": ("127.0.0.1", decoy.port),
            "source": (real.host, real.port),
        }
        assert ("media.latched", latched) in log.events
        # Latched: a packet from another source is dropped and counted.
        decoy.send(port, b"\xff" * FRAME, pt=Codec.PCMU, timestamp=0)
        real.send_digits(port, "7")
        assert await events.next_digit() == ("caller", "7")
        assert media.stats()["packets_foreign"] == 1
    finally:
        real.close()


async def test_given_a_peer_sending_from_another_port_of_its_sdp_host_then_media_stays_put(
    media: InProcessMedia, events: Events, log: Log, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    # SIPp and some gateways receive on the SDP port and send from another one: no NAT
    # rewrote anything, so we keep sending where the SDP says and take their packets.
    listening, sending = phones
    write_wav(tmp_path / "hold.wav", tone(300, 2.0))
    port = await connected(media, "caller", listening, dtmf_payload_type=DTMF_PT)
    sending.send_digits(port, "3")
    assert await events.next_digit() == ("caller", "3")
    await media.play("caller", [tmp_path / "hold.wav"])
    await listening.receive()
    assert sending.waiting() == []
    assert [event for event, _ in log.events if event == "media.latched"] == []
    assert media.stats()["packets_foreign"] == 0


async def test_given_a_held_peer_then_nothing_is_sent_until_it_resumes(
    media: InProcessMedia, events: Events, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    phone, _ = phones
    write_wav(tmp_path / "short.wav", tone(440, 0.1))
    await media.open_leg("caller")
    media.connect("caller", RemoteMedia("127.0.0.1", phone.port, Codec.PCMU, send=False))
    held = await media.play("caller", [tmp_path / "short.wav"])
    assert await events.next_finished() == ("caller", held)  # Time passed all the same.
    assert phone.waiting() == []

    media.connect("caller", RemoteMedia("127.0.0.1", phone.port, Codec.PCMU))
    resumed = await media.play("caller", [tmp_path / "short.wav"])
    packets = await phone.receive_many(5)
    assert await events.next_finished() == ("caller", resumed)
    assert [p.marker for p in packets] == [True, False, False, False, False]


async def test_given_a_playback_when_replaced_or_stopped_then_only_the_last_finishes(
    media: InProcessMedia, events: Events, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    phone, _ = phones
    write_wav(tmp_path / "long.wav", tone(440, 3.0))
    write_wav(tmp_path / "short.wav", tone(440, 0.06))
    await connected(media, "caller", phone)
    await media.play("caller", [tmp_path / "long.wav"])
    await phone.receive()
    media.stop_playback("caller")
    await media.play("caller", [tmp_path / "long.wav"])
    last = await media.play("caller", [tmp_path / "short.wav", tmp_path / "short.wav"])
    assert await events.next_finished() == ("caller", last)
    assert events.finished.empty()


async def test_given_music_on_hold_then_the_prompt_repeats_without_finishing(
    media: InProcessMedia, events: Events, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    phone, _ = phones
    samples = tone(440, 0.06)  # Three frames.
    write_wav(tmp_path / "moh.wav", samples)
    await connected(media, "caller", phone)
    await media.play("caller", [tmp_path / "moh.wav"], loop=True)
    packets = await phone.receive_many(9)
    media.stop_playback("caller")
    assert [p.payload for p in packets[3:]] == [p.payload for p in packets[:6]]
    assert events.finished.empty()


async def test_given_a_full_port_range_then_open_leg_raises_and_a_closed_leg_frees_its_port(
    events: Events,
) -> None:
    base = bindable_even_ports(3)
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squatter.bind(("127.0.0.1", base))  # Another process holds the first port.
    media = InProcessMedia("127.0.0.1", base, base + 5, events)
    try:
        first = await media.open_leg("a")
        second = await media.open_leg("b")
        assert (first.port, second.port) == (base + 2, base + 4)
        with pytest.raises(MediaError, match=f"no free RTP port in {base}-{base + 4}"):
            await media.open_leg("c")
        await media.close_leg("a")
        assert (await media.open_leg("c")).port == base + 2
    finally:
        squatter.close()
        await media.close()


async def test_unknown_legs_and_misuse_raise_media_error(
    media: InProcessMedia, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    phone, _ = phones
    with pytest.raises(MediaError, match="no leg ghost"):
        media.connect("ghost", RemoteMedia("127.0.0.1", phone.port, Codec.PCMU))
    with pytest.raises(MediaError, match="no leg ghost"):
        await media.play("ghost", [tmp_path / "x.wav"])
    await media.open_leg("caller")
    with pytest.raises(MediaError, match="already open"):
        await media.open_leg("caller")
    with pytest.raises(MediaError, match="play before connect"):
        await media.play("caller", [tmp_path / "x.wav"])
    with pytest.raises(MediaError, match="not an IP address"):
        media.connect("caller", RemoteMedia("phone.example", 4000, Codec.PCMU))
    media.connect("caller", RemoteMedia("127.0.0.1", phone.port, Codec.PCMU))
    with pytest.raises(MediaError, match=r"prompt .*absent\.wav: cannot read it"):
        await media.play("caller", [tmp_path / "absent.wav"])
    with pytest.raises(MediaError, match="no recording nothing"):
        await media.stop_recording("nothing")
    with pytest.raises(MediaError, match="bridged to itself"):
        media.bridge("caller", "caller")
    await media.open_leg("operator")
    media.bridge("caller", "operator")
    with pytest.raises(MediaError, match="bridged to operator: unbridge it first"):
        await media.play("caller", [tmp_path / "x.wav"])
    await media.open_leg("third")
    with pytest.raises(MediaError, match="bridged to"):
        media.bridge("third", "operator")


async def test_given_a_tapped_leg_then_listeners_get_its_packets_unchanged_from_its_port(
    media: InProcessMedia, phones: tuple[Phone, Phone]
) -> None:
    caller, operator = phones
    monitor = Phone()
    try:
        caller_port = await connected(media, "caller", caller)
        await connected(media, "operator", operator)
        media.bridge("caller", "operator")
        media.tap("caller", [("127.0.0.1", monitor.port)])
        frames = frames_of(tone(440, 0.1), Codec.PCMU)
        for i, frame in enumerate(frames):
            caller.send(caller_port, frame, pt=Codec.PCMU, timestamp=FRAME * i)
        copies = [await monitor.receive() for _ in frames]
        # the very packets the caller sent (its SSRC and numbering), from the leg's port
        assert [p.payload for p, _, _ in copies] == frames
        assert {p.ssrc for p, _, _ in copies} == {caller.ssrc}
        assert {source for _, _, source in copies} == {("127.0.0.1", caller_port)}
        assert len(await operator.receive_many(len(frames))) == len(frames)  # still relayed

        media.tap("caller", [])
        caller.send(caller_port, frames[0], pt=Codec.PCMU, timestamp=FRAME * 99)
        await operator.receive()  # the relay goes on; the copy has stopped
        assert monitor.waiting() == []
        with pytest.raises(MediaError, match="no leg nobody"):
            media.tap("nobody", [])
    finally:
        monitor.close()
