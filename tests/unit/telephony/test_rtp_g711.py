"""G.711 tables: the standard's values, CPython's audioop bit for bit, round trips."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hotline.telephony.rtp import (
    alaw_to_linear,
    alaw_to_ulaw,
    linear_to_alaw,
    linear_to_ulaw,
    ulaw_to_alaw,
    ulaw_to_linear,
)

ALL_CODES = bytes(range(256))
ALL_SAMPLES = np.arange(-32768, 32768).astype(np.int16)

# SHA-256 of CPython 3.11 audioop's lin2ulaw / lin2alaw over every int16 sample (in
# uint16 order) and of ulaw2lin / alaw2lin over every code (little-endian int16):
# audioop implemented the reference G.711 code, and call recordings made with it must
# sound the same once it is gone (Python 3.13).
AUDIOOP_SHA256 = {
    "lin2ulaw": "617fa4850d68d3906597e949f7625fb2fc46db479e29707f33159b3d131721cb",
    "lin2alaw": "f77c76aa923ee25617453f87514828a12896227f82ff383bf3bb53d6ac7c2a0f",
    "ulaw2lin": "3dab54339e520bb2c924826e3b72a917a2b612e9fd12fc867500f1d983a75827",
    "alaw2lin": "e04788d110e58ff8c70c93b8480190d973e3b67876b6119abbaec766cc75c174",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("code", "value"),
    [(0xFF, 0), (0x7F, 0), (0x00, -32124), (0x80, 32124), (0xFE, 8), (0x7E, -8)],
)
def test_ulaw_decodes_to_the_standard_values(code: int, value: int) -> None:
    assert ulaw_to_linear(bytes([code])).tolist() == [value]


@pytest.mark.parametrize(
    ("code", "value"),
    [(0xD5, 8), (0x55, -8), (0xAA, 32256), (0x2A, -32256), (0xD4, 24), (0x54, -24)],
)
def test_alaw_decodes_to_the_standard_values(code: int, value: int) -> None:
    assert alaw_to_linear(bytes([code])).tolist() == [value]


def test_silence_encodes_to_the_idle_codes() -> None:
    zero = np.zeros(1, np.int16)
    assert (linear_to_ulaw(zero), linear_to_alaw(zero)) == (b"\xff", b"\xd5")


def test_tables_match_audioop_bit_for_bit() -> None:
    as_uint16_order = np.arange(65536, dtype=np.uint16).view(np.int16)
    assert sha256(linear_to_ulaw(as_uint16_order)) == AUDIOOP_SHA256["lin2ulaw"]
    assert sha256(linear_to_alaw(as_uint16_order)) == AUDIOOP_SHA256["lin2alaw"]
    assert sha256(ulaw_to_linear(ALL_CODES).astype("<i2").tobytes()) == AUDIOOP_SHA256["ulaw2lin"]
    assert sha256(alaw_to_linear(ALL_CODES).astype("<i2").tobytes()) == AUDIOOP_SHA256["alaw2lin"]


def test_encoding_a_decoded_code_gives_it_back() -> None:
    # µ-law has two zeros (0xFF and 0x7F, "negative zero"); the encoder picks 0xFF.
    assert linear_to_ulaw(ulaw_to_linear(ALL_CODES)) == ALL_CODES.replace(b"\x7f", b"\xff")
    assert linear_to_alaw(alaw_to_linear(ALL_CODES)) == ALL_CODES


@pytest.mark.parametrize(
    ("encode", "decode"),
    [(linear_to_ulaw, ulaw_to_linear), (linear_to_alaw, alaw_to_linear)],
    ids=["ulaw", "alaw"],
)
def test_quantisation_is_monotone_and_within_one_16th(
    encode: Callable[[npt.NDArray[np.int16]], bytes],
    decode: Callable[[bytes], npt.NDArray[np.int16]],
) -> None:
    decoded = decode(encode(ALL_SAMPLES)).astype(np.int64)
    error = np.abs(decoded - ALL_SAMPLES)
    # Steps double per segment, 16 per segment: the error stays under 1/16 of the
    # value (6.25 %), or 16 near zero.
    assert np.all(error <= np.maximum(np.abs(ALL_SAMPLES.astype(np.int64)) / 16, 16))
    assert np.all(np.diff(decoded) >= 0)


@given(arrays(np.int16, st.integers(0, 400)))
def test_encoders_give_one_byte_per_sample(samples: npt.NDArray[np.int16]) -> None:
    assert len(linear_to_ulaw(samples)) == len(linear_to_alaw(samples)) == len(samples)


def test_transcoding_equals_decoding_then_encoding() -> None:
    assert ulaw_to_alaw(ALL_CODES) == linear_to_alaw(ulaw_to_linear(ALL_CODES))
    assert alaw_to_ulaw(ALL_CODES) == linear_to_ulaw(alaw_to_linear(ALL_CODES))


def test_transcoding_there_and_back_stays_within_the_quantisation_error() -> None:
    for there, back, decode in [
        (ulaw_to_alaw, alaw_to_ulaw, ulaw_to_linear),
        (alaw_to_ulaw, ulaw_to_alaw, alaw_to_linear),
    ]:
        original = decode(ALL_CODES).astype(np.int64)
        returned = decode(back(there(ALL_CODES))).astype(np.int64)
        assert np.all(np.abs(original - returned) <= np.maximum(np.abs(original) / 16, 16))
