"""G.711 µ-law (PCMU) and A-law (PCMA) by lookup tables (ITU-T G.711, 11/88).

``audioop`` left the standard library in Python 3.13, so the four conversions are numpy
table lookups built once at import: 256 entries to decode, 65 536 (one per 16-bit
sample) to encode.  The encoders follow the segment search of the reference code
published with G.711 (the "g711.c" of Sun Microsystems that ``audioop`` also used):
µ-law on 14 bits with a bias of 33, A-law on 13 bits.  The decoders give the values of
G.711 Tables 1 and 2 scaled to 16 bits (µ-law ±32 124, A-law ±32 256).

:func:`ulaw_to_alaw` and :func:`alaw_to_ulaw` go through the linear value and are
``bytes.translate`` tables: a bridge transcodes a 160-byte frame in well under a
microsecond.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALAW_SILENCE",
    "ALAW_TO_ULAW",
    "ULAW_SILENCE",
    "ULAW_TO_ALAW",
    "alaw_to_linear",
    "alaw_to_ulaw",
    "linear_to_alaw",
    "linear_to_ulaw",
    "ulaw_to_alaw",
    "ulaw_to_linear",
]

#: The code of a zero sample, to pad frames with silence.
ULAW_SILENCE: Final = 0xFF
ALAW_SILENCE: Final = 0xD5

# Segment end points of the reference encoder (µ-law on 14-bit, A-law on 13-bit input).
_ULAW_SEGMENT_ENDS: Final = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEGMENT_ENDS: Final = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
_ULAW_BIAS: Final = 0x84  # 132: G.711 §3.2 biases µ-law magnitudes by 33 (on 14 bits).
_ULAW_CLIP: Final = 8159  # Largest 14-bit magnitude before the bias pushes it past 8191.


def _ulaw_decode_table() -> npt.NDArray[np.int16]:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(code & 0x80, -magnitude, magnitude).astype(np.int16)


def _alaw_decode_table() -> npt.NDArray[np.int16]:
    code = np.arange(256, dtype=np.int32) ^ 0x55  # G.711 inverts the even bits.
    segment = (code & 0x70) >> 4
    value = ((code & 0x0F) << 4) + np.where(segment == 0, 8, 0x108)
    value = np.where(segment > 1, value << np.maximum(segment - 1, 0), value)
    return np.where(code & 0x80, value, -value).astype(np.int16)


def _all_samples() -> npt.NDArray[np.int32]:
    # Index i of an encode table is the int16 sample whose bits read as the uint16 i.
    return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = _all_samples() >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(pcm), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = np.searchsorted(_ULAW_SEGMENT_ENDS, magnitude, side="left")
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8)


def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = _all_samples() >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    magnitude = np.where(pcm >= 0, pcm, -pcm - 1)
    segment = np.searchsorted(_ALAW_SEGMENT_ENDS, magnitude, side="left")
    shift = np.where(segment < 2, 1, segment)
    code = (segment << 4) | ((magnitude >> shift) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8)


_ULAW_TO_LINEAR: Final = _ulaw_decode_table()
_ALAW_TO_LINEAR: Final = _alaw_decode_table()
_LINEAR_TO_ULAW: Final = _ulaw_encode_table()
_LINEAR_TO_ALAW: Final = _alaw_encode_table()

#: ``bytes.translate`` tables between the two laws (through the linear value).
ULAW_TO_ALAW: Final = _LINEAR_TO_ALAW[_ULAW_TO_LINEAR.view(np.uint16)].tobytes()
ALAW_TO_ULAW: Final = _LINEAR_TO_ULAW[_ALAW_TO_LINEAR.view(np.uint16)].tobytes()


def ulaw_to_linear(data: bytes) -> npt.NDArray[np.int16]:
    """Decode µ-law bytes to 16-bit samples (one per byte)."""
    return _ULAW_TO_LINEAR[np.frombuffer(data, dtype=np.uint8)]


def alaw_to_linear(data: bytes) -> npt.NDArray[np.int16]:
    """Decode A-law bytes to 16-bit samples (one per byte)."""
    return _ALAW_TO_LINEAR[np.frombuffer(data, dtype=np.uint8)]


def linear_to_ulaw(samples: npt.NDArray[np.int16]) -> bytes:
    """Encode 16-bit samples to µ-law, one byte each (other integer types are cast)."""
    return _LINEAR_TO_ULAW[np.asarray(samples, dtype=np.int16).view(np.uint16)].tobytes()


def linear_to_alaw(samples: npt.NDArray[np.int16]) -> bytes:
    """Encode 16-bit samples to A-law, one byte each (other integer types are cast)."""
    return _LINEAR_TO_ALAW[np.asarray(samples, dtype=np.int16).view(np.uint16)].tobytes()


def ulaw_to_alaw(data: bytes) -> bytes:
    """Transcode µ-law to A-law (a bridge between a PCMU and a PCMA leg)."""
    return data.translate(ULAW_TO_ALAW)


def alaw_to_ulaw(data: bytes) -> bytes:
    """Transcode A-law to µ-law."""
    return data.translate(ALAW_TO_ULAW)
