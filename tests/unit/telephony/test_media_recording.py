"""Recordings: frames placed on the timeline (pure), then spilled and written to WAV."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hotline.telephony.media.base import Codec
from hotline.telephony.media.recording import (
    RESYNC_SAMPLES,
    Recording,
    Track,
    finish,
    spill,
)
from hotline.telephony.rtp import RtpPacket, linear_to_alaw, linear_to_ulaw

SSRC = 0x1234
FRAME = 160


def frame(value: int, codec: Codec = Codec.PCMU) -> bytes:
    samples = np.full(FRAME, value, np.int16)
    return linear_to_ulaw(samples) if codec == Codec.PCMU else linear_to_alaw(samples)


def packet(payload_type: int, ssrc: int, timestamp: int, payload: bytes) -> RtpPacket:
    return RtpPacket(payload_type, 0, timestamp, ssrc, payload)


def positions(track: Track) -> list[int]:
    return list(track.positions)


def read_wav(path: Path) -> tuple[int, npt.NDArray[np.int16]]:
    with wave.open(str(path), "rb") as file:
        channels = file.getnchannels()
        assert (file.getframerate(), file.getsampwidth()) == (8000, 2)
        data = np.frombuffer(file.readframes(file.getnframes()), "<i2")
    return channels, data.reshape(-1, channels)


def test_the_first_frame_sits_where_it_arrived_and_the_next_by_timestamp() -> None:
    track = Track(start=100.0)
    track.add(packet(0, SSRC, 5000, frame(0)), arrival=100.5)
    track.add(packet(0, SSRC, 5160, frame(0)), arrival=100.5)  # Came in a burst: no matter.
    track.add(packet(0, SSRC, 5000 + 160 * 10, frame(0)), arrival=100.7)  # Silence suppressed.
    assert positions(track) == [4000, 4160, 5600]
    assert track.pending == 3 * FRAME


def test_timestamps_wrap_at_32_bits() -> None:
    track = Track(start=0.0)
    track.add(packet(0, SSRC, 0xFFFFFF60, frame(0)), arrival=0.0)
    track.add(packet(0, SSRC, 0x00000000, frame(0)), arrival=0.02)
    assert positions(track) == [0, 160]


def test_a_new_ssrc_or_a_drifting_clock_reanchors_at_arrival() -> None:
    track = Track(start=0.0)
    track.add(packet(0, SSRC, 1000, frame(0)), arrival=0.0)
    track.add(packet(0, SSRC + 1, 1160, frame(0)), arrival=1.0)  # A new source.
    drift = RESYNC_SAMPLES + 8
    track.add(packet(0, SSRC + 1, 1160 + 8000 + drift, frame(0)), arrival=2.0)
    assert positions(track) == [0, 8000, 16000]


def test_frames_sampled_before_the_start_are_dropped() -> None:
    track = Track(start=0.0)
    track.add(packet(0, SSRC, 1000, frame(0)), arrival=0.0)
    track.add(packet(0, SSRC, 840, frame(0)), arrival=0.001)  # A late one from before.
    assert positions(track) == [0]


def test_spill_and_finish_write_aligned_channels(tmp_path: Path) -> None:
    path = tmp_path / "calls" / "call.wav"  # The directory is created.
    recording = Recording("k", path, 0.0, [Track(0.0), Track(0.0)])
    left, right = recording.tracks
    left.add(packet(0, SSRC, 0, frame(1000)), arrival=0.0)
    left.add(packet(0, SSRC, 160, frame(2000)), arrival=0.02)
    spill(recording.part_paths, recording.take_pending())
    assert recording.pending == 0
    right.add(packet(8, SSRC, 0, frame(-3000, Codec.PCMA)), arrival=0.04)
    left.add(packet(0, SSRC, 160, frame(2000)), arrival=0.021)  # A duplicate, after the spill.
    result = finish(path, recording.part_paths, recording.take_pending(), duration=0.1)
    assert (result.path, result.channels, result.duration_seconds) == (path, 2, 0.1)
    assert result.size_bytes == path.stat().st_size == 44 + 800 * 4
    channels, samples = read_wav(path)
    assert channels == 2
    expected_left = np.zeros(800, np.int64)
    expected_left[0:160], expected_left[160:320] = 1000, 2000
    expected_right = np.zeros(800, np.int64)
    expected_right[320:480] = -3000
    assert np.all(np.abs(samples[:, 0] - expected_left) <= 2000 / 16)
    assert np.all(np.abs(samples[:, 1] - expected_right) <= 3000 / 16)
    assert sorted(p.name for p in path.parent.iterdir()) == ["call.wav"]  # No leftovers.


def test_a_mono_recording_is_cut_at_its_duration(tmp_path: Path) -> None:
    path = tmp_path / "voicemail.wav"
    recording = Recording("vm", path, 0.0, [Track(0.0)])
    for i in range(10):
        recording.tracks[0].add(packet(0, SSRC, 160 * i, frame(500)), arrival=0.02 * i)
    result = finish(path, recording.part_paths, recording.take_pending(), duration=0.1)
    channels, samples = read_wav(path)
    assert (channels, len(samples), result.channels) == (1, 800, 1)
    assert np.all(samples[:, 0] == samples[0, 0])


def test_give_back_puts_the_frames_of_a_failed_spill_first() -> None:
    recording = Recording("k", Path("x.wav"), 0.0, [Track(0.0)])
    track = recording.tracks[0]
    track.add(packet(0, SSRC, 0, frame(0)), arrival=0.0)
    taken = recording.take_pending()
    track.add(packet(0, SSRC, 160, frame(0)), arrival=0.02)
    recording.give_back(taken)
    assert positions(track) == [0, 160]
    assert recording.pending == 2 * FRAME


def test_a_wav_written_from_memory_equals_one_streamed_from_spilled_parts(
    tmp_path: Path,
) -> None:
    # Gaps, a duplicate that differs (the later one wins), a 10 ms frame, the codec
    # changed by a re-INVITE, a frame past the duration (cut): both ways of writing
    # (Rule 3) must give the same file, and that file what is placed by hand here.
    sends = [
        (0, 0, frame(100)),
        (160, 0, frame(200)),
        (480, 8, frame(-300, Codec.PCMA)),  # 320-479 lost
        (640, 0, frame(400)[:80]),  # a 10 ms frame
        (720, 0, frame(500)),
        (720, 0, frame(600)),  # the same timestamp again: the later one wins
        (7900, 0, frame(700)),  # half of it past 8000 samples: cut
    ]
    expected = np.zeros(8000, np.int64)
    for position, value, length in [
        (0, 100, 160), (160, 200, 160), (480, -300, 160), (640, 400, 80), (720, 600, 160),
        (7900, 700, 100),
    ]:  # fmt: skip
        expected[position : position + length] = value
    results = []
    for spilled in (False, True):
        path = tmp_path / f"spilled-{spilled}.wav"
        recording = Recording("k", path, 0.0, [Track(0.0)])
        track = recording.tracks[0]
        for n, (timestamp, payload_type, payload) in enumerate(sends):
            track.add(packet(payload_type, SSRC, timestamp, payload), arrival=timestamp / 8000)
            if spilled and n in (1, 4):
                spill(recording.part_paths, recording.take_pending())
        finish(path, recording.part_paths, recording.take_pending(), duration=1.0)
        channels, samples = read_wav(path)
        assert channels == 1
        # G.711 keeps 4 mantissa bits: within 1/16 of the value placed
        assert np.all(np.abs(samples[:, 0] - expected) <= np.abs(expected) / 16 + 8)
        results.append(path.read_bytes())
    assert results[0] == results[1]
