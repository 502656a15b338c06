"""The softphone gateway's framing: any chunk sizes in, exact 160-sample frames out, and a
playout buffer whose cushion, underrun and overflow rules hold for any arrival pattern."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.webrtc.audio import FRAME_SAMPLES, SILENCE, Framer, PlayoutBuffer


def frame(value: int) -> np.ndarray:
    return np.full(FRAME_SAMPLES, value, dtype=np.int16)


@given(st.lists(st.integers(min_value=0, max_value=1000), max_size=40))
def test_given_chunks_of_any_size_when_framed_then_the_stream_is_cut_exactly(
    sizes: list[int],
) -> None:
    stream = np.arange(sum(sizes), dtype=np.int64).astype(np.int16)
    framer = Framer()
    out: list[np.ndarray] = []
    start = 0
    for size in sizes:
        out.extend(framer.push(stream[start : start + size]))
        start += size
    assert all(f.size == FRAME_SAMPLES for f in out)
    whole = len(stream) // FRAME_SAMPLES * FRAME_SAMPLES
    joined = np.concatenate(out) if out else np.zeros(0, dtype=np.int16)
    assert np.array_equal(joined, stream[:whole])
    assert framer.pending == len(stream) - whole


def test_given_a_framer_when_a_frame_is_returned_then_later_pushes_do_not_change_it() -> None:
    framer = Framer()
    chunk = np.arange(200, dtype=np.int16)
    (first,) = framer.push(chunk)
    chunk[:] = 0  # the caller reuses its buffer (as a resampler does)
    framer.push(np.ones(200, dtype=np.int16))
    assert np.array_equal(first, np.arange(160, dtype=np.int16))


def test_given_a_cushion_of_two_when_frames_arrive_then_silence_until_two_are_held() -> None:
    buffer = PlayoutBuffer(prefill=2, capacity=5)
    buffer.push(frame(1))
    assert buffer.pop() is SILENCE  # Rule 1: one frame is not yet a cushion
    buffer.push(frame(2))
    assert buffer.pop()[0] == 1
    assert buffer.pop()[0] == 2
    assert buffer.pop() is SILENCE  # Rule 2: underrun
    assert buffer.underruns == 1
    buffer.push(frame(3))
    assert buffer.pop() is SILENCE  # ... and the cushion is rebuilt first
    buffer.push(frame(4))
    assert [buffer.pop()[0], buffer.pop()[0]] == [3, 4]


def test_given_a_burst_when_over_capacity_then_the_oldest_frames_are_dropped() -> None:
    buffer = PlayoutBuffer(prefill=0, capacity=3)
    for value in range(1, 6):
        buffer.push(frame(value))
    assert buffer.dropped == 2
    assert [buffer.pop()[0] for _ in range(3)] == [3, 4, 5]  # Rule 3: no lasting delay
    assert buffer.pop() is SILENCE


@given(st.lists(st.booleans(), max_size=200))
def test_given_any_arrivals_when_played_then_frames_come_out_in_order_and_none_is_invented(
    pattern: list[bool],
) -> None:
    buffer = PlayoutBuffer(prefill=2, capacity=4)
    pushed = 0
    played: list[int] = []
    for arrives in pattern:  # True: a packet arrives; False: the track ticks
        if arrives:
            pushed += 1
            buffer.push(frame(pushed))
        else:
            out = buffer.pop()
            if out is not SILENCE:
                played.append(int(out[0]))
    assert played == sorted(played) and len(set(played)) == len(played)
    assert set(played) <= set(range(1, pushed + 1))
    assert len(played) + len(buffer) + buffer.dropped == pushed


def test_given_impossible_sizes_when_built_then_refused_with_the_rule() -> None:
    with pytest.raises(ValueError, match="prefill"):
        PlayoutBuffer(prefill=3, capacity=2)
