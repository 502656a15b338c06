"""The rtpengine media backend against the real daemon (Debian's rtpengine 10.5).

The same behaviours as ``test_media_inprocess.py``, observed the same way: raw UDP
sockets play the phones (:class:`Phone` from there), the backend's listener records
what it reported.  Where rtpengine behaves differently by design (it re-encodes
through ffmpeg, paces with its own clock, keeps the peer's SSRC when relaying) the
assertions check the property the call flow needs — the audio is the prompt, the
voice reaches the other side in its codec — not our backend's bit-exact output.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hotline.telephony.media import ng
from hotline.telephony.media.audio import write_wav
from hotline.telephony.media.base import Codec, MediaError, RemoteMedia
from hotline.telephony.media.ng_client import NgClient
from hotline.telephony.media.rtpengine import RtpengineMedia
from hotline.telephony.rtp import alaw_to_linear, ulaw_to_linear
from tests.integration.rtpengine_daemon import (
    RTPENGINE,
    Daemon,
    free_udp_port,
    running_rtpengine,
)
from tests.integration.test_media_inprocess import (
    DTMF_PT,
    FRAME,
    Events,
    Log,
    Phone,
    frames_of,
    level_at,
    tone,
)

pytestmark = pytest.mark.skipif(
    not Path(RTPENGINE).exists(), reason="rtpengine is not installed (Debian: rtpengine)"
)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_rtpengine(tmp_path_factory.mktemp("rtpengine")) as running:
        yield running


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
async def media(
    daemon: Daemon, events: Events, log: Log, tmp_path: Path
) -> AsyncIterator[RtpengineMedia]:
    backend = await RtpengineMedia.start(
        daemon.ng,
        events,
        dtmf_address=daemon.dtmf,
        recording_dir=daemon.recording_dir,
        cache_dir=tmp_path / "prompt-cache",
        log=log,
    )
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
    media: RtpengineMedia, leg_id: str, phone: Phone, codec: Codec = Codec.PCMU, **kw: object
) -> int:
    local = await media.open_leg(leg_id)
    assert local.host == "127.0.0.1"  # where the phone must send: the daemon's interface
    media.connect(leg_id, RemoteMedia("127.0.0.1", phone.port, codec, **kw))  # type: ignore[arg-type]
    # Packets that reach the daemon before it has our ``answer`` are relayed but not
    # decoded (no codec known yet), so a phone's digit could go unreported.
    await media.settled(leg_id)
    return local.port


def decoded(payload: bytes, codec: int) -> npt.NDArray[np.int16]:
    return ulaw_to_linear(payload) if codec == Codec.PCMU else alaw_to_linear(payload)


def correlation(a: npt.NDArray[np.int16], b: npt.NDArray[np.int16]) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n].astype(np.float64), b[:n].astype(np.float64))[0, 1])


@pytest.mark.parametrize("codec", [Codec.PCMU, Codec.PCMA], ids=["PCMU", "PCMA"])
async def test_given_a_connected_leg_when_playing_a_wav_then_paced_rtp_carries_its_samples(
    media: RtpengineMedia, events: Events, phones: tuple[Phone, Phone], tmp_path: Path, codec: Codec
) -> None:
    phone, _ = phones
    samples = tone(440, 0.5)
    write_wav(tmp_path / "welcome.wav", samples)
    port = await connected(media, "caller", phone, codec)

    playback_id = await media.play("caller", [tmp_path / "welcome.wav"])
    received = [await phone.receive() for _ in range(25)]

    assert await events.next_finished() == ("caller", playback_id)
    packets = [packet for packet, _, _ in received]
    assert {source for _, _, source in received} == {("127.0.0.1", port)}
    assert {(p.payload_type, p.ssrc) for p in packets} == {(codec, packets[0].ssrc)}
    first = packets[0]
    assert [p.sequence_number for p in packets] == [
        (first.sequence_number + i) & 0xFFFF for i in range(25)
    ]
    assert [(p.timestamp - first.timestamp) % 2**32 for p in packets] == [
        FRAME * i for i in range(25)
    ]
    # The audio is the prompt: rtpengine re-encodes it (ffmpeg), so compare waveforms.
    audio = decoded(b"".join(p.payload for p in packets), codec)
    assert correlation(audio, samples) > 0.99
    arrivals = [arrival for _, arrival, _ in received]
    assert (arrivals[-1] - arrivals[0]) / 24 == pytest.approx(0.020, abs=0.004)
    assert phone.waiting() == []  # Nothing after the 25th frame: the prompt ended.


async def test_given_a_phone_pressing_keys_then_each_digit_is_reported_once_in_order(
    media: RtpengineMedia, events: Events, phones: tuple[Phone, Phone]
) -> None:
    phone, _ = phones
    port = await connected(media, "caller", phone, dtmf_payload_type=DTMF_PT)
    phone.send_digits(port, "12#", first_timestamp=8000)
    got = [await events.next_digit() for _ in range(3)]
    phone.send_digits(port, "9", first_timestamp=900_000)

    assert got == [("caller", d) for d in "12#"]
    assert await events.next_digit() == ("caller", "9")  # No duplicate came before it.
    assert events.digits.empty()


async def test_given_two_bridged_legs_then_audio_is_relayed_both_ways_and_transcoded(
    media: RtpengineMedia, events: Events, phones: tuple[Phone, Phone]
) -> None:
    caller, operator = phones
    caller_port = await connected(media, "caller", caller, Codec.PCMU, dtmf_payload_type=DTMF_PT)
    operator_port = await connected(media, "operator", operator, Codec.PCMA, dtmf_payload_type=96)
    media.bridge("caller", "operator")
    await media.settled("caller", "operator")

    to_operator = await talk_and_listen(caller, caller_port, operator, tone(500, 0.4), Codec.PCMU)
    to_caller = await talk_and_listen(operator, operator_port, caller, tone(700, 0.4), Codec.PCMA)

    assert {p.payload_type for p in to_operator} == {Codec.PCMA}
    assert {p.payload_type for p in to_caller} == {Codec.PCMU}
    heard_by_operator = decoded(b"".join(p.payload for p in to_operator), Codec.PCMA)
    heard_by_caller = decoded(b"".join(p.payload for p in to_caller), Codec.PCMU)
    assert level_at(heard_by_operator[:1600], 500) > 30 * level_at(heard_by_operator[:1600], 700)
    assert level_at(heard_by_caller[:1600], 700) > 30 * level_at(heard_by_caller[:1600], 500)

    # DTMF is relayed as events, under the other leg's payload type, and reported once.
    # rtpengine injects the digit into the partner's outgoing stream, so the caller keeps
    # talking (phones send RTP all call long) while the digit is pressed.
    operator.waiting()
    caller.send_digits(caller_port, "5", first_timestamp=50_000)
    talking = asyncio.ensure_future(
        caller.talk(caller_port, frames_of(tone(500, 0.4), Codec.PCMU), pt=Codec.PCMU)
    )
    assert await events.next_digit() == ("caller", "5")
    await talking
    relayed = await operator.receive_many(15)
    relayed_dtmf = [p for p in relayed if p.payload_type != Codec.PCMA]
    assert relayed_dtmf
    assert {p.payload_type for p in relayed_dtmf} == {96}
    assert {p.payload[0] for p in relayed_dtmf} == {5}  # the event for "5"

    # Unbridged: nothing is relayed any more.
    media.unbridge("operator")
    await media.settled("caller", "operator")
    operator.waiting()
    caller.send(caller_port, frames_of(tone(500, 0.02), Codec.PCMU)[0], pt=0, timestamp=90_000)
    caller.send_digits(caller_port, "6", first_timestamp=100_000)
    assert await events.next_digit() == ("caller", "6")
    assert events.digits.empty()
    assert operator.waiting() == []


async def talk_and_listen(
    speaker: Phone, port: int, listener: Phone, samples: npt.NDArray[np.int16], codec: Codec
) -> list[object]:
    """The speaker talks for ``samples``; returns the audio packets the listener got."""
    frames = frames_of(samples, codec)
    heard = asyncio.ensure_future(listener.receive_many(len(frames) - 2))
    await speaker.talk(port, frames, pt=codec)
    return [p for p in await heard if p.payload_type in (Codec.PCMU, Codec.PCMA)]


async def test_given_a_bridged_call_when_recorded_then_each_voice_is_in_its_channel(
    media: RtpengineMedia, daemon: Daemon, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    caller, operator = phones
    caller_port = await connected(media, "caller", caller, Codec.PCMU)
    operator_port = await connected(media, "operator", operator, Codec.PCMA)
    media.bridge("caller", "operator")
    path = tmp_path / "recordings" / "call.wav"

    media.start_recording("call", path, "caller", "operator")
    await media.settled("caller", "operator")
    await asyncio.gather(
        caller.talk(caller_port, frames_of(tone(1000, 0.4), Codec.PCMU), pt=Codec.PCMU),
        operator.talk(operator_port, frames_of(tone(2000, 0.4), Codec.PCMA), pt=Codec.PCMA),
        operator.receive_many(18),  # The relayed frames prove the daemon got them.
        caller.receive_many(18),
    )
    result = await media.stop_recording("call")

    assert (result.path, result.channels) == (path, 2)
    assert 0.37 <= result.duration_seconds < 2.0
    assert result.size_bytes == path.stat().st_size
    # The daemon's pcaps and metadata were turned into the WAV, then removed.
    assert not any((daemon.recording_dir / "pcaps").glob("*caller-*.pcap"))
    assert not any((daemon.recording_dir / "metadata").glob("*caller-*.txt"))
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
    # All 0.4 s of each voice and no more: as many loud samples as the sent tone has
    # (6 of 8 samples of a 1 kHz tone at 8 kHz exceed 1000, 2 of 4 at 2 kHz), ±2 frames.
    for channel, sent in ((left, tone(1000, 0.4)), (right, tone(2000, 0.4))):
        loud = int(np.count_nonzero(np.abs(channel) > 1000))
        assert abs(loud - int(np.count_nonzero(np.abs(sent) > 1000))) <= 2 * FRAME


async def test_given_a_voicemail_when_recorded_then_the_file_is_mono(
    media: RtpengineMedia, events: Events, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    caller, _ = phones
    port = await connected(media, "caller", caller, dtmf_payload_type=DTMF_PT)
    path = tmp_path / "voicemail.wav"
    media.start_recording("vm", path, "caller", None)
    await media.settled("caller")
    await caller.talk(port, frames_of(tone(800, 0.2), Codec.PCMU), pt=Codec.PCMU)
    caller.send_digits(port, "#", first_timestamp=10_000)  # Ends the message, as users do.
    assert await events.next_digit() == ("caller", "#")
    result = await media.stop_recording("vm")
    with wave.open(str(path), "rb") as file:
        mono = np.frombuffer(file.readframes(file.getnframes()), "<i2")
    assert (result.channels, file.getnchannels()) == (1, 1)
    assert level_at(mono, 800) > 30 * level_at(mono, 1600)
    assert correlation(mono[np.argmax(np.abs(mono) > 1000) :], tone(800, 0.2)) > 0.5


async def test_given_music_on_hold_then_the_prompt_repeats_without_finishing(
    media: RtpengineMedia, events: Events, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    phone, _ = phones
    write_wav(tmp_path / "moh.wav", tone(440, 0.06))  # Three frames.
    await connected(media, "caller", phone)
    await media.play("caller", [tmp_path / "moh.wav"], loop=True)
    packets = await phone.receive_many(9)
    media.stop_playback("caller")
    assert [p.payload for p in packets[3:]] == [p.payload for p in packets[:6]]
    assert events.finished.empty()


async def test_given_a_playback_when_replaced_or_stopped_then_only_the_last_finishes(
    media: RtpengineMedia, events: Events, phones: tuple[Phone, Phone], tmp_path: Path
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


async def test_unknown_legs_and_misuse_raise_media_error(
    media: RtpengineMedia, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    phone, _ = phones
    with pytest.raises(MediaError, match="unknown leg 'ghost'"):
        media.connect("ghost", RemoteMedia("127.0.0.1", phone.port, Codec.PCMU))
    with pytest.raises(MediaError, match="unknown leg 'ghost'"):
        await media.play("ghost", [tmp_path / "x.wav"])
    await media.open_leg("caller")
    with pytest.raises(MediaError, match="already open"):
        await media.open_leg("caller")
    media.connect("caller", RemoteMedia("127.0.0.1", phone.port, Codec.PCMU))
    with pytest.raises(MediaError, match=r"absent\.wav"):
        await media.play("caller", [tmp_path / "absent.wav"])
    with pytest.raises(MediaError, match="no recording 'nothing'"):
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


async def test_given_a_daemon_error_then_its_reason_is_in_the_exception(daemon: Daemon) -> None:
    client = await NgClient.open(daemon.ng)
    try:
        with pytest.raises(ng.NgError, match="Unknown call-ID") as caught:
            await client.request("play media", {"call-id": "nope", "from-tag": "x", "file": "/x"})
        assert caught.value.command == "play media"
        assert (await client.request("ping", {}))["result"] == b"pong"
    finally:
        client.close()


async def test_given_no_daemon_then_start_raises_naming_the_address(events: Events) -> None:
    port = free_udp_port()  # Nothing listens there.
    with pytest.raises(MediaError, match=rf"rtpengine ng at 127\.0\.0\.1:{port} did not answer"):
        await RtpengineMedia.start(
            ("127.0.0.1", port),
            events,
            dtmf_address=None,
            recording_dir=None,
            cache_dir=Path("/nonexistent"),
            reply_timeout=0.05,
            attempts=3,
        )


async def test_given_the_operator_leg_closed_first_then_the_recording_keeps_its_voice(
    media: RtpengineMedia, phones: tuple[Phone, Phone], tmp_path: Path
) -> None:
    # The B2BUA closes the operator's leg when the operator hangs up, then finishes the
    # call's recording: the daemon closes that leg's pcap on "delete".
    caller, operator = phones
    await connected(media, "caller", caller, Codec.PCMU)
    operator_port = await connected(media, "operator", operator, Codec.PCMA)
    media.bridge("caller", "operator")
    media.start_recording("call", tmp_path / "call.wav", "caller", "operator")
    await media.settled("caller", "operator")
    await operator.talk(operator_port, frames_of(tone(2000, 0.2), Codec.PCMA), pt=Codec.PCMA)
    await caller.receive_many(8)  # relayed: the daemon has the operator's frames
    await media.close_leg("operator")
    result = await media.stop_recording("call")
    with wave.open(str(result.path), "rb") as file:
        stereo = np.frombuffer(file.readframes(file.getnframes()), "<i2").reshape(-1, 2)
    assert level_at(stereo[:, 1], 2000) > 30 * level_at(stereo[:, 1], 1000)
    assert not stereo[:, 0].any()  # the caller said nothing
