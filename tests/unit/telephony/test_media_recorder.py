"""The recording path from received packets to the WAV: reordering, loss, duplicates.

Packets go through :func:`recorder.feed` as ``InProcessMedia`` hands them over, on a
loop whose clock the test sets (arrival times and the recording's length are then
exact).  Each frame is one µ-law byte repeated, so every 20 ms of the WAV must hold
one value: the byte decoded by hand below (ITU-T G.711), or silence where nothing
arrived.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hotline.telephony.media.legs import Leg
from hotline.telephony.media.recorder import Recorder, feed
from hotline.telephony.rtp import RtpPacket

FRAME = 160
START = 500.0


def ulaw_by_hand(byte: int) -> int:
    """G.711 µ-law expansion: complement, then sign, 3-bit segment, 4-bit mantissa."""
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84 << ((byte >> 4) & 0x07)) - 0x84
    return -magnitude if byte & 0x80 else magnitude


class _Clock(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self.now = START

    def time(self) -> float:
        return self.now


class _Log:
    def warning(self, event: str, **kw: object) -> None:
        raise AssertionError(f"unexpected warning {event} {kw}")


def _frames(path: Path) -> tuple[int, npt.NDArray[np.int16]]:
    with wave.open(str(path), "rb") as file:
        assert (file.getframerate(), file.getsampwidth()) == (8000, 2)
        channels = file.getnchannels()
        data = np.frombuffer(file.readframes(file.getnframes()), "<i2")
    return channels, data.reshape(-1, channels)


def _packet(ssrc: int, index: int) -> RtpPacket:
    """Frame ``index`` of a stream: sequence 65530 + index (it wraps), one byte value."""
    return RtpPacket(
        0, (65530 + index) & 0xFFFF, 4000 + FRAME * index, ssrc, bytes([index]) * FRAME
    )


async def _record(tmp_path: Path, sends: dict[int, list[tuple[int, float]]]) -> Path:
    """Feed (frame index, arrival after START) per side (0 caller, 1 operator)."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, _Clock)
    legs = [Leg("caller", 1, 1, 1, 1), Leg("operator", 2, 2, 2, 2)]
    recorder = Recorder(loop, None, _Log())
    path = tmp_path / "call.wav"
    recorder.start("k", path, legs)
    arrivals = sorted(
        (START + at, side, index) for side, frames in sends.items() for index, at in frames
    )
    for at, side, index in arrivals:
        loop.now = at
        feed(legs[side], _packet(0x100 + side, index), at)
    loop.now = START + 1.0  # the recording lasted one second: 50 frames
    result = await recorder.stop("k")
    assert (result.channels, result.duration_seconds) == (2, 1.0)
    return path


def test_given_reordered_lost_and_duplicated_packets_then_each_frame_is_where_it_was_sampled(
    tmp_path: Path,
) -> None:
    # Caller: in order from 0.1 s, frames 5 and 6 lost.  Operator: from 0.2 s, with
    # 2 and 3 swapped, 8 two places late (within the 3-frame reorder depth), 12
    # twice, and 20 so late that 24 arrived before it (given up: not recorded).
    caller = [(i, 0.1 + 0.02 * i) for i in range(30) if i not in (5, 6)]
    operator_order = [0, 1, 3, 2, 4, 5, 6, 7, 9, 10, 8, 11, 12, 12, 13, 14, 15, 16, 17]
    operator_order += [18, 19, 21, 22, 23, 24, 20, 25, 26, 27, 28, 29]
    operator = [(i, 0.2 + 0.02 * n) for n, i in enumerate(operator_order)]
    with asyncio.Runner(loop_factory=_Clock) as runner:
        path = runner.run(_record(tmp_path, {0: caller, 1: operator}))

    channels, samples = _frames(path)
    assert (channels, len(samples)) == (2, 8000)
    # Where each frame must be: the stream's first frame where it arrived (0.1 s: 800
    # samples; 0.2 s: 1600), the others 160 samples apart by timestamp.
    expected = np.zeros((8000, 2), np.int64)
    for side, first, frames in ((0, 800, {i for i, _ in caller}), (1, 1600, set(range(30)))):
        for index in frames - ({20} if side == 1 else set()):
            expected[first + FRAME * index : first + FRAME * (index + 1), side] = ulaw_by_hand(
                index
            )
    assert np.array_equal(samples, expected)
    # Lost frames are silence, not the neighbour's audio.
    assert not samples[800 + 5 * FRAME : 800 + 7 * FRAME, 0].any()
    assert not samples[1600 + 20 * FRAME : 1600 + 21 * FRAME, 1].any()


def test_ulaw_by_hand_matches_known_values() -> None:
    # G.711 Table 2a: 0xFF and 0x7F are the two zeros, 0x00 / 0x80 the extremes.
    assert [ulaw_by_hand(b) for b in (0xFF, 0x7F, 0x80, 0x00, 0xF0, 0x70)] == [
        0,
        0,
        32124,
        -32124,
        120,
        -120,
    ]
