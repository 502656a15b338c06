"""Prompts in (any WAV to 8 kHz mono), recordings out (8 kHz 16-bit WAV)."""

from __future__ import annotations

import struct
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hotline.telephony.media.audio import load_prompt, resample, write_wav
from hotline.telephony.media.base import MediaError
from hotline.telephony.rtp import linear_to_alaw, linear_to_ulaw

PCM, FLOAT, ALAW, MULAW, EXTENSIBLE = 1, 3, 6, 7, 0xFFFE


def tone(
    freq: float, rate: int, seconds: float, amplitude: float = 10_000
) -> npt.NDArray[np.float64]:
    t = np.arange(round(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def riff(
    tag: int, channels: int, rate: int, bits: int, data: bytes, *, extra: bytes = b""
) -> bytes:
    """A WAV file written by hand, to reach the formats the stdlib cannot write."""
    align = channels * ((bits + 7) // 8)
    fmt_tag = EXTENSIBLE if extra else tag
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * align, align, bits)
    if extra:  # cbSize, valid bits, channel mask, SubFormat GUID (tag first).
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + extra
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # an odd chunk, padded
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pcm24(samples: npt.NDArray[np.float64]) -> bytes:
    """Little-endian 24-bit two's complement, 3 bytes a sample (16-bit scale in)."""
    values = (np.round(samples).astype(np.int64) * 256).tolist()
    return b"".join(int(v).to_bytes(3, "little", signed=True) for v in values)


def save(tmp_path: Path, data: bytes, name: str = "prompt.wav") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def dominant_frequency(
    samples: npt.NDArray[np.int16] | npt.NDArray[np.float64], rate: int
) -> float:
    spectrum = np.abs(np.fft.rfft(np.asarray(samples, np.float64) * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def rms(samples: npt.NDArray[np.int16] | npt.NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(np.asarray(samples, np.float64) ** 2)))


def test_an_8khz_16bit_mono_prompt_passes_through_unchanged(tmp_path: Path) -> None:
    samples = np.random.default_rng(1).integers(-32768, 32768, 4000).astype(np.int16)
    path = tmp_path / "exact.wav"
    write_wav(path, samples)
    assert np.array_equal(load_prompt(path), samples)


@pytest.mark.parametrize(
    ("bits", "encode"),
    [
        (8, lambda s: (np.round(s / 256) + 128).astype(np.uint8).tobytes()),
        (16, lambda s: np.round(s).astype("<i2").tobytes()),
        (24, pcm24),
        (32, lambda s: (np.round(s).astype(np.int64) * 65536).astype("<i4").tobytes()),
    ],
    ids=["8bit", "16bit", "24bit", "32bit"],
)
def test_pcm_depths_decode_to_the_same_signal(
    tmp_path: Path, bits: int, encode: Callable[[npt.NDArray[np.float64]], bytes]
) -> None:
    signal = tone(440, 8000, 0.1)
    loaded = load_prompt(save(tmp_path, riff(PCM, 1, 8000, bits, encode(signal))))
    tolerance = 128 if bits == 8 else 1  # 8-bit PCM keeps 8 bits.
    assert np.max(np.abs(loaded - signal)) <= tolerance


def test_float_g711_and_extensible_formats_are_read(tmp_path: Path) -> None:
    signal = np.round(tone(440, 8000, 0.1)).astype(np.int16)
    as_float = (signal / 32768).astype("<f4").tobytes()
    guid_tail = bytes.fromhex("000000001000800000aa00389b71")
    cases = {
        "float": riff(FLOAT, 1, 8000, 32, as_float),
        "ulaw": riff(MULAW, 1, 8000, 8, linear_to_ulaw(signal)),
        "alaw": riff(ALAW, 1, 8000, 8, linear_to_alaw(signal)),
        "extensible": riff(PCM, 1, 8000, 16, signal.astype("<i2").tobytes(), extra=guid_tail),
    }
    for name, data in cases.items():
        loaded = load_prompt(save(tmp_path, data, f"{name}.wav"))
        error = np.abs(loaded.astype(np.int64) - signal)
        assert np.all(error <= np.maximum(np.abs(signal) / 16, 16)), name


def test_stereo_is_averaged_to_mono(tmp_path: Path) -> None:
    left = tone(440, 8000, 0.1)
    frames = np.stack([left, -left], axis=1).round().astype("<i2").tobytes()
    opposite = load_prompt(save(tmp_path, riff(PCM, 2, 8000, 16, frames)))
    assert np.max(np.abs(opposite)) <= 1
    frames = np.stack([left, left], axis=1).round().astype("<i2").tobytes()
    same = load_prompt(save(tmp_path, riff(PCM, 2, 8000, 16, frames)))
    assert np.max(np.abs(same - left)) <= 1


@pytest.mark.parametrize("rate", [48000, 44100, 16000, 22050, 11025])
def test_resampling_keeps_frequency_amplitude_and_timing(tmp_path: Path, rate: int) -> None:
    source = tone(1000, rate, 1.0)
    path = tmp_path / "hd.wav"
    write_wav_at(path, source, rate)
    loaded = load_prompt(path)
    assert len(loaded) == 8000
    core = loaded[400:-400]  # Away from the edges, where the filter sees silence.
    assert dominant_frequency(core, 8000) == pytest.approx(1000, abs=1)
    assert rms(core) == pytest.approx(10_000 / np.sqrt(2), rel=0.01)
    # No delay: output sample n is the input at n / 8000 s.
    expected = tone(1000, 8000, 1.0)
    assert np.max(np.abs(core - expected[400:-400])) < 100


@pytest.mark.parametrize("rate", [48000, 44100])
def test_a_tone_above_4khz_does_not_alias_into_the_telephone_band(
    tmp_path: Path, rate: int
) -> None:
    path = tmp_path / "alias.wav"
    write_wav_at(path, tone(6000, rate, 1.0), rate)
    loaded = load_prompt(path)
    # Naive decimation would fold 6 kHz onto 2 kHz at full level (7071 RMS): we want it
    # 60 dB down at least (the filter is designed for 80).
    assert rms(loaded[400:-400]) < 10_000 / np.sqrt(2) / 1000


def test_resample_of_an_unchanged_rate_is_the_identity() -> None:
    samples = tone(300, 8000, 0.01)
    assert np.array_equal(resample(samples, 8000, 8000), samples)


def write_wav_at(path: Path, samples: npt.NDArray[np.float64], rate: int) -> None:
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(np.round(samples).astype("<i2").tobytes())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ID3\x03 an mp3 file", "not a RIFF/WAVE file"),
        (riff(0x55, 1, 8000, 16, bytes(320)), "format tag 0x0055"),
        (riff(PCM, 1, 8000, 16, bytes(320))[:-100], "truncated"),
        (riff(PCM, 1, 8000, 16, bytes(320)).replace(b"fmt ", b"junk"), "data chunk before the fmt"),
        (
            riff(PCM, 2, 8000, 16, bytes(320)).replace(b"\x04\x00\x10\x00", b"\x03\x00\x10\x00"),
            "block align",
        ),
        (b"RIFF\x04\x00\x00\x00WAVE", "no fmt chunk"),
        (riff(PCM, 1, 100, 16, bytes(320)), "100 Hz is outside"),
    ],
    ids=["mp3", "tag", "truncated", "no-fmt", "align", "empty", "rate"],
)
def test_bad_files_raise_media_error_naming_the_file(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = save(tmp_path, data, "bad.wav")
    with pytest.raises(MediaError, match=message) as caught:
        load_prompt(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_raises_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot read it"):
        load_prompt(tmp_path / "absent.wav")


def test_a_streamed_wav_with_an_unknown_data_size_is_read_to_the_end(tmp_path: Path) -> None:
    signal = np.arange(100, dtype=np.int16)
    data = bytearray(riff(PCM, 1, 8000, 16, signal.astype("<i2").tobytes()))
    data[data.index(b"data") + 4 : data.index(b"data") + 8] = b"\xff\xff\xff\xff"
    assert np.array_equal(load_prompt(save(tmp_path, bytes(data))), signal)


def test_write_wav_writes_8khz_16bit_mono_and_stereo(tmp_path: Path) -> None:
    left = np.arange(10, dtype=np.int16)
    right = -np.arange(6, dtype=np.int16)
    write_wav(tmp_path / "mono.wav", left)
    write_wav(tmp_path / "stereo.wav", left, right)
    with wave.open(str(tmp_path / "mono.wav"), "rb") as mono:
        assert (mono.getnchannels(), mono.getframerate(), mono.getsampwidth()) == (1, 8000, 2)
        assert np.array_equal(np.frombuffer(mono.readframes(100), "<i2"), left)
    with wave.open(str(tmp_path / "stereo.wav"), "rb") as stereo:
        assert stereo.getnchannels() == 2
        frames = np.frombuffer(stereo.readframes(100), "<i2").reshape(-1, 2)
    assert np.array_equal(frames[:, 0], left)
    assert np.array_equal(frames[:, 1], np.concatenate([right, np.zeros(4, np.int16)]))
