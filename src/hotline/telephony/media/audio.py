"""WAV files in and out: prompts to 8 kHz mono samples, recordings to 8 kHz WAV.

Both directions do file I/O and CPU work, so both run in an executor, never on the
media event loop (a 1.8 s stall was measured when a disk write ran on it).

Reading (:func:`load_prompt`) parses the RIFF chunks itself: the stdlib ``wave`` module
of Python 3.11 reads only format tag 1, while prompts arrive as 8/16/24/32-bit PCM,
32/64-bit float, G.711 (tags 6 and 7) or WAVE_FORMAT_EXTENSIBLE wrappers of those,
at any rate, mono or stereo.  Channels are averaged, then :func:`resample` converts to
8 kHz with a polyphase windowed-sinc filter (Kaiser window), so 44.1 and 48 kHz sources
do not alias into the telephone band.  An 8 kHz file passes through unchanged.

Writing (:class:`StereoWavWriter`, :func:`write_wav`) uses the stdlib ``wave`` module: 8 kHz,
16-bit PCM, one or two channels.
"""

from __future__ import annotations

import functools
import math
import struct
import wave
from pathlib import Path
from types import TracebackType
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from hotline.telephony.media.base import MediaError
from hotline.telephony.rtp.g711 import alaw_to_linear, ulaw_to_linear

__all__ = ["SAMPLE_RATE", "StereoWavWriter", "load_prompt", "read_wav", "resample", "write_wav"]

#: G.711's sampling rate (ITU-T G.711 §1), the only rate our legs speak.
SAMPLE_RATE: Final = 8000

_RIFF_CHUNK: Final = struct.Struct("<4sI")
_FMT: Final = struct.Struct("<HHIIHH")
# WAVE format tags (Microsoft RIFF registry, mmreg.h).
_PCM: Final = 0x0001
_IEEE_FLOAT: Final = 0x0003
_ALAW: Final = 0x0006
_MULAW: Final = 0x0007
_EXTENSIBLE: Final = 0xFFFE
# Streaming writers leave the data size unknown; the data then runs to the end of file.
_UNKNOWN_SIZES: Final = (0, 0xFFFFFFFF)
# Rates we resample from: below 4 kHz nothing of the voice band is left, and above
# 384 kHz (the highest common studio rate) the filter would grow without purpose.
_MIN_RATE: Final = 4000
_MAX_RATE: Final = 384_000
_INT16_MIN: Final = -32768
_INT16_MAX: Final = 32767

# Resampling filter (our choice, for telephone audio): keep 0-85 % of the lower
# Nyquist frequency flat (0-3.4 kHz, the G.711 voice band, at 8 kHz out), reach the
# stop band at that Nyquist frequency (4 kHz), 80 dB down there.  Kaiser's formulas
# (Oppenheim & Schafer, "Discrete-Time Signal Processing", §7.5.3) size the filter.
_PASSBAND: Final = 0.85
_ATTENUATION_DB: Final = 80.0
_BLOCK: Final = 4096  # Output samples per vectorised step (bounds memory to a few MB).


def load_prompt(path: Path) -> npt.NDArray[np.int16]:
    """Read a WAV prompt as 8 kHz mono 16-bit samples (any rate, channels, PCM depth).

    Raises :class:`MediaError` naming the file and what is wrong with it (unreadable,
    not a WAV file, an encoding we do not decode).  Blocking: call it in an executor.
    """
    samples, rate = read_wav(path)
    if rate != SAMPLE_RATE:
        samples = resample(samples, rate, SAMPLE_RATE)
    return _to_int16(samples)


def read_wav(path: Path) -> tuple[npt.NDArray[np.float64], int]:
    """Read a WAV file as mono samples on the 16-bit scale, and its sampling rate."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MediaError(f"prompt {path}: cannot read it ({exc.strerror or exc})") from exc
    return _parse_wav(data, path)


def _parse_wav(data: bytes, path: Path) -> tuple[npt.NDArray[np.float64], int]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise MediaError(f"prompt {path}: not a RIFF/WAVE file (convert it to WAV)")
    fmt: _Format | None = None
    offset = 12
    while offset + _RIFF_CHUNK.size <= len(data):
        chunk_id, size = _RIFF_CHUNK.unpack_from(data, offset)
        body = offset + _RIFF_CHUNK.size
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(data[body : body + size], path)
        elif chunk_id == b"data":
            if fmt is None:
                raise MediaError(f"prompt {path}: data chunk before the fmt chunk (corrupt WAV)")
            end = body + size
            if end > len(data):
                if size not in _UNKNOWN_SIZES:
                    raise MediaError(
                        f"prompt {path}: truncated: the data chunk says {size} bytes, "
                        f"the file holds {len(data) - body}"
                    )
                end = len(data)
            return _decode(data[body:end], fmt, path), fmt.rate
        offset = body + size + (size & 1)  # RIFF chunks are padded to even sizes.
    raise MediaError(f"prompt {path}: no {'data' if fmt else 'fmt'} chunk (corrupt WAV)")


class _Format(NamedTuple):
    """What the fmt chunk says (tag already unwrapped from WAVE_FORMAT_EXTENSIBLE)."""

    tag: int
    channels: int
    rate: int
    block_align: int
    bits: int


def _parse_fmt(chunk: bytes, path: Path) -> _Format:
    if len(chunk) < _FMT.size:
        raise MediaError(f"prompt {path}: fmt chunk of {len(chunk)} bytes (corrupt WAV)")
    tag, channels, rate, _byte_rate, block_align, bits = _FMT.unpack_from(chunk)
    if tag == _EXTENSIBLE:
        # WAVEFORMATEXTENSIBLE: the real tag opens the SubFormat GUID at byte 24.
        if len(chunk) < 26:
            raise MediaError(f"prompt {path}: WAVE_FORMAT_EXTENSIBLE without a SubFormat")
        (tag,) = struct.unpack_from("<H", chunk, 24)
    if channels < 1 or bits < 1:
        raise MediaError(f"prompt {path}: {channels} channels of {bits} bits (corrupt WAV)")
    if not _MIN_RATE <= rate <= _MAX_RATE:
        raise MediaError(
            f"prompt {path}: {rate} Hz is outside {_MIN_RATE}-{_MAX_RATE} Hz (resample it)"
        )
    return _Format(tag, channels, rate, block_align, bits)


def _decode(raw: bytes, fmt: _Format, path: Path) -> npt.NDArray[np.float64]:
    tag, channels, _rate, block_align, bits = fmt
    width = (bits + 7) // 8
    if block_align != width * channels:
        raise MediaError(
            f"prompt {path}: block align {block_align} for {channels} channels of {bits} "
            "bits (corrupt WAV)"
        )
    raw = raw[: len(raw) - len(raw) % block_align]  # A torn last frame is dropped.
    samples: npt.NDArray[np.float64]
    if tag == _PCM and width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) * 256.0
    elif tag == _PCM and width == 2:
        samples = np.frombuffer(raw, "<i2").astype(np.float64)
    elif tag == _PCM and width == 3:
        triples = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        packed = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        samples = (np.where(packed & 0x800000, packed - 0x1000000, packed) / 256.0).astype(
            np.float64
        )
    elif tag == _PCM and width == 4:
        samples = np.frombuffer(raw, "<i4").astype(np.float64) / 65536.0
    elif tag == _IEEE_FLOAT and width in (4, 8):
        samples = np.frombuffer(raw, "<f4" if width == 4 else "<f8").astype(np.float64) * 32768.0
    elif tag == _MULAW and width == 1:
        samples = ulaw_to_linear(raw).astype(np.float64)
    elif tag == _ALAW and width == 1:
        samples = alaw_to_linear(raw).astype(np.float64)
    else:
        raise MediaError(
            f"prompt {path}: WAV format tag 0x{tag:04X} with {bits}-bit samples is not "
            "supported (use PCM, float or G.711: sox IN -e signed -b 16 OUT.wav)"
        )
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples


def resample(
    samples: npt.NDArray[np.float64], from_rate: int, to_rate: int
) -> npt.NDArray[np.float64]:
    """Change the sampling rate by a rational factor with a polyphase FIR filter.

    The filter runs at ``from_rate * up`` where ``up / down = to_rate / from_rate`` in
    lowest terms; only the output samples are computed, each from one phase of the
    filter.  Its delay is compensated, so output sample ``n`` is the input at time
    ``n / to_rate`` (no leading silence).
    """
    if from_rate == to_rate:
        return np.asarray(samples, dtype=np.float64)
    common = math.gcd(from_rate, to_rate)
    up, down = to_rate // common, from_rate // common
    phases, delay = _polyphase_filter(up, down)
    taps = phases.shape[1]
    x = np.asarray(samples, dtype=np.float64)
    count = -(-len(x) * up // down)
    # Zero padding so that every input index below reads as silence.
    padded = np.concatenate([np.zeros(taps), x, np.zeros(delay // up + 2)])
    output = np.empty(count)
    back = np.arange(taps)
    for start in range(0, count, _BLOCK):
        position = np.arange(start, min(start + _BLOCK, count)) * down + delay
        window = padded[(position // up + taps)[:, None] - back]
        output[start : start + len(position)] = np.einsum("nk,nk->n", phases[position % up], window)
    return output


@functools.lru_cache(maxsize=32)
def _polyphase_filter(up: int, down: int) -> tuple[npt.NDArray[np.float64], int]:
    """The filter for ``up / down`` split into ``up`` phases, and its delay."""
    # Frequencies in cycles per sample of the upsampled signal (input rate * up): the
    # lower of the two Nyquist frequencies is min(1/up, 1/down) / 2 there.
    stop = min(1.0 / up, 1.0 / down) / 2
    passband = _PASSBAND * stop
    cutoff = (passband + stop) / 2
    transition = 2 * math.pi * (stop - passband)
    length = math.ceil((_ATTENUATION_DB - 7.95) / (2.285 * transition)) + 1
    length += 1 - length % 2  # Odd: the delay is a whole number of samples.
    beta = 0.1102 * (_ATTENUATION_DB - 8.7)  # Kaiser's beta for attenuation above 50 dB.
    n = np.arange(length) - (length - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.kaiser(length, beta) * up
    taps = -(-length // up)
    h = np.concatenate([h, np.zeros(taps * up - length)])
    return np.ascontiguousarray(h.reshape(taps, up).T), (length - 1) // 2


def _to_int16(samples: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.rint(samples), _INT16_MIN, _INT16_MAX).astype(np.int16)


class StereoWavWriter:
    """Writes an 8 kHz 16-bit PCM WAV, stereo (left, right) or mono, block by block.

    Blocking: use it in an executor.  The header's sizes are fixed when it closes.
    """

    def __init__(self, path: Path, channels: int = 2) -> None:
        if channels not in (1, 2):
            raise ValueError(f"WAV of {channels} channels asked by our code: 1 or 2")
        self.path = path
        self.channels = channels
        self._wave = wave.open(str(path), "wb")  # noqa: SIM115 -- closed by close()
        self._wave.setnchannels(channels)
        self._wave.setsampwidth(2)
        self._wave.setframerate(SAMPLE_RATE)

    def write(
        self, left: npt.NDArray[np.int16], right: npt.NDArray[np.int16] | None = None
    ) -> None:
        """Append samples; in stereo the shorter channel is padded with silence."""
        if self.channels == 1:
            if right is not None:
                raise ValueError("a right channel given to a mono WAV writer (our bug)")
            frames = np.asarray(left, dtype="<i2")
        else:
            right = np.zeros(0, np.int16) if right is None else right
            frames = np.zeros((max(len(left), len(right)), 2), dtype="<i2")
            frames[: len(left), 0] = left
            frames[: len(right), 1] = right
        self._wave.writeframes(frames.tobytes())

    def close(self) -> None:
        """Patch the header and close the file."""
        self._wave.close()

    def __enter__(self) -> StereoWavWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def write_wav(
    path: Path, left: npt.NDArray[np.int16], right: npt.NDArray[np.int16] | None = None
) -> None:
    """Write a whole 8 kHz 16-bit WAV: mono when ``right`` is ``None``, else stereo."""
    with StereoWavWriter(path, 1 if right is None else 2) as writer:
        writer.write(left, right)
