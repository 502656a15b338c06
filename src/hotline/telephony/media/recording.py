"""Recordings: received frames placed on a timeline, turned into WAV off the event loop.

Theory of operation:

Rule 1. A :class:`Track` is one channel of a recording: the audio received from one
leg.  Each frame is kept as it came (its G.711 payload, the ``bytes`` object the packet
parser made) with its position in samples since the recording started (an ``array`` of
64-bit integers) and its payload type (a ``bytearray``): three appends a frame, no
decoding on the event loop, and no Python object made per frame that the garbage
collector would walk (``bytes`` hold no references: the collector ignores them).

Rule 2. Positions come from RTP timestamps anchored to arrival time: the first frame
of a stream sits where it arrived (``(arrival - start) * 8000``), the following ones
``timestamp - anchor timestamp`` samples later, so jitter does not shake the timeline
and a sender's silence suppression leaves the right gap.  A new SSRC, or a drift of
more than :data:`RESYNC_SAMPLES` between the timestamp's position and the arrival's
(a clock that runs fast, a sender that jumped), re-anchors at arrival.  Both channels
share the recording's start, so the caller and the operator line up.

Rule 3. Memory is bounded: :meth:`Recording.take_pending` hands the frames kept so far
to :func:`spill`, which an executor runs to decode them in bulk (one table lookup for
all of them) into one ``.part`` file per channel (16-bit samples at their positions;
holes read as silence).  :func:`finish` writes the WAV, under a temporary name then
renamed, so a reader never sees half a file: from memory when nothing was spilled (most
calls are shorter than a spill), else by spilling the rest and streaming the parts.
"""

from __future__ import annotations

import contextlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from hotline.telephony.media.audio import SAMPLE_RATE, StereoWavWriter
from hotline.telephony.media.base import Codec, MediaError, RecordingResult
from hotline.telephony.rtp.g711 import alaw_to_linear, ulaw_to_linear
from hotline.telephony.rtp.packet import RtpPacket

__all__ = [
    "RESYNC_SAMPLES",
    "SPILL_SAMPLES",
    "Pending",
    "Recording",
    "Track",
    "finish",
    "spill",
]

#: Rule 2: 200 ms, well beyond the 60 ms a reorder buffer holds plus network jitter.
RESYNC_SAMPLES: Final = SAMPLE_RATE // 5
#: Rule 3: 30 s of audio per channel (240 kB of G.711) stays in memory at most, give or
#: take the time one spill takes.
SPILL_SAMPLES: Final = 30 * SAMPLE_RATE
_WRITE_BLOCK: Final = 10 * SAMPLE_RATE  # Samples per channel read and written at a time.
_SAMPLE_BYTES: Final = 2
#: Rule 3: a recording never spilled is written from memory up to this length (two
#: spills' worth: more stays in memory only when spilling failed, then the parts serve).
_IN_MEMORY_SAMPLES: Final = 2 * SPILL_SAMPLES

#: One channel's frames taken from a track (Rule 1): positions, payload types, payloads.
Pending = tuple["array[int]", bytearray, list[bytes]]


class Track:
    """The frames received from one leg since a recording began (Rules 1 and 2)."""

    __slots__ = (
        "_anchor_position",
        "_anchor_ssrc",
        "_anchor_timestamp",
        "payloads",
        "pending",
        "positions",
        "start",
        "types",
    )

    def __init__(self, start: float) -> None:
        self.start = start
        self.positions: array[int] = array("q")
        self.types = bytearray()
        self.payloads: list[bytes] = []
        self.pending = 0  # Samples in ``payloads`` (one byte each).
        self._anchor_ssrc: int | None = None
        self._anchor_timestamp = 0
        self._anchor_position = 0

    def add(self, packet: RtpPacket, arrival: float) -> None:
        """Place one frame received at ``arrival`` (same clock as ``start``)."""
        # Runs once per received frame per recording: the steady state first, in
        # literals (8000.0 is SAMPLE_RATE), re-anchoring out of line.
        if packet.ssrc == self._anchor_ssrc:
            # Signed 32-bit distance between RTP timestamps (RFC 3550 §5.1: they wrap).
            position = self._anchor_position + (
                ((packet.timestamp - self._anchor_timestamp + 0x80000000) & 0xFFFFFFFF) - 0x80000000
            )
            drift = position - (arrival - self.start) * 8000.0
            if -RESYNC_SAMPLES <= drift <= RESYNC_SAMPLES:
                if position >= 0:  # Else sampled before the recording started.
                    payload = packet.payload
                    self.positions.append(position)
                    self.types.append(packet.payload_type)
                    self.payloads.append(payload)
                    self.pending += len(payload)
                return
        self._anchor_ssrc = packet.ssrc
        self._anchor_timestamp = packet.timestamp
        self._anchor_position = position = max(round((arrival - self.start) * SAMPLE_RATE), 0)
        self.positions.append(position)
        self.types.append(packet.payload_type)
        self.payloads.append(packet.payload)
        self.pending += len(packet.payload)


@dataclass(slots=True)
class Recording:
    """A recording in progress: one track (mono) or two (left, right)."""

    key: str
    path: Path
    start: float
    tracks: list[Track]
    part_paths: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        names = ("left", "right") if len(self.tracks) == 2 else ("mono",)
        self.part_paths = [self.path.with_name(f"{self.path.name}.{n}.part") for n in names]

    @property
    def pending(self) -> int:
        """Samples kept in memory on the busiest channel."""
        return max(track.pending for track in self.tracks)

    def take_pending(self) -> list[Pending]:
        """The frames kept so far, one entry per channel, for :func:`spill`."""
        taken = [(track.positions, track.types, track.payloads) for track in self.tracks]
        for track in self.tracks:
            track.positions = array("q")
            track.types = bytearray()
            track.payloads = []
            track.pending = 0
        return taken

    def give_back(self, pending: list[Pending]) -> None:
        """Undo :meth:`take_pending` after a failed spill: nothing received is lost."""
        for track, (positions, types, payloads) in zip(self.tracks, pending, strict=True):
            track.positions[:0] = positions
            track.types[:0] = types
            track.payloads[:0] = payloads
            track.pending += sum(map(len, payloads))


def spill(part_paths: list[Path], pending: list[Pending]) -> None:
    """Decode frames into the part files (Rule 3).  Blocking: run it in an executor."""
    try:
        part_paths[0].parent.mkdir(parents=True, exist_ok=True)
        for part, channel in zip(part_paths, pending, strict=True):
            _spill_channel(part, channel)
    except OSError as exc:
        raise MediaError(
            f"recording {part_paths[0].parent}: cannot write ({exc.strerror or exc}); "
            "check that the directory is writable and the disk not full"
        ) from exc


def finish(
    path: Path, part_paths: list[Path], pending: list[Pending], duration: float
) -> RecordingResult:
    """Write the WAV and remove the part files (Rule 3).

    ``duration`` (seconds) sets the length: frames beyond it are cut, silence fills
    the channels up to it.  Blocking: run it in an executor.
    """
    total = round(duration * SAMPLE_RATE)
    temporary = path.with_name(f"{path.name}.tmp")
    try:
        if total <= _IN_MEMORY_SAMPLES and not any(part.exists() for part in part_paths):
            path.parent.mkdir(parents=True, exist_ok=True)
            channels = [_in_memory(channel, total) for channel in pending]
            with StereoWavWriter(temporary, len(part_paths)) as writer:
                writer.write(*channels)
        else:
            spill(part_paths, pending)
            with StereoWavWriter(temporary, len(part_paths)) as writer:
                for start in range(0, total, _WRITE_BLOCK):
                    count = min(_WRITE_BLOCK, total - start)
                    blocks = [_read_region(part, start, count) for part in part_paths]
                    writer.write(*blocks)
        temporary.replace(path)
        size = path.stat().st_size
    except OSError as exc:
        raise MediaError(
            f"recording {path}: cannot write it ({exc.strerror or exc}); "
            "check that the directory is writable and the disk not full"
        ) from exc
    finally:
        for part in part_paths:
            with contextlib.suppress(OSError):
                part.unlink()
        with contextlib.suppress(OSError):
            temporary.unlink()
    return RecordingResult(path, total / SAMPLE_RATE, len(part_paths), size)


class _Frames:
    """A channel's pending frames decoded in bulk, and where their samples go."""

    __slots__ = ("contiguous", "lengths", "positions", "samples")

    def __init__(self, pending: Pending) -> None:
        positions_array, types_array, payloads = pending
        count = len(payloads)
        self.positions = positions = np.frombuffer(positions_array, dtype=np.int64)
        self.lengths = lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=count)
        raw = b"".join(payloads)
        types = np.frombuffer(types_array, dtype=np.uint8)
        is_alaw = types == Codec.PCMA  # Anything else was µ-law (we accept only those).
        if not is_alaw.any():
            self.samples = ulaw_to_linear(raw)
        elif is_alaw.all():
            self.samples = alaw_to_linear(raw)
        else:  # A re-INVITE changed the codec mid-recording.
            self.samples = np.where(
                np.repeat(is_alaw, lengths), alaw_to_linear(raw), ulaw_to_linear(raw)
            )
        # The usual case: each frame starts where the previous one ended, so together
        # they cover one stretch with nothing to overlay.
        self.contiguous = bool(np.array_equal(positions[1:], positions[:-1] + lengths[:-1]))

    @property
    def low(self) -> int:
        return int(self.positions[0])

    def indexes(self) -> npt.NDArray[np.int64]:
        """The position of every sample, frame after frame (a later duplicate wins)."""
        lengths = self.lengths
        size = int(lengths[0])
        if np.all(lengths == size):
            return (self.positions[:, np.newaxis] + np.arange(size)).ravel()
        starts = np.cumsum(lengths) - lengths
        return np.repeat(self.positions - starts, lengths) + np.arange(len(self.samples))


def _in_memory(pending: Pending, total: int) -> npt.NDArray[np.int16]:
    """One channel of ``total`` samples: the frames at their positions, silence between."""
    channel = np.zeros(total, np.int16)
    if not pending[2]:
        return channel
    decoded = _Frames(pending)
    if decoded.contiguous:
        low = decoded.low
        end = min(low + len(decoded.samples), total)
        if low < end:
            channel[low:end] = decoded.samples[: end - low]
    else:
        index = decoded.indexes()
        kept = index < total  # Cut at the duration.
        channel[index[kept]] = decoded.samples[kept]
    return channel


def _spill_channel(part: Path, pending: Pending) -> None:
    if not pending[2]:
        return
    decoded = _Frames(pending)
    if decoded.contiguous:
        low, region = decoded.low, decoded.samples  # Covers its stretch: nothing to read.
    else:
        index = decoded.indexes()
        low, high = int(index.min()), int(index.max()) + 1
        # Read, overlay, write back: frames of an earlier spill may share this region.
        region = _read_region(part, low, high - low)
        region[index - low] = decoded.samples  # A later duplicate overwrites an earlier one.
    with part.open("r+b" if part.exists() else "w+b") as file:
        file.seek(low * _SAMPLE_BYTES)
        file.write(region.astype("<i2").tobytes())


def _read_region(part: Path, start: int, count: int) -> npt.NDArray[np.int16]:
    region = np.zeros(count, dtype=np.int16)
    try:
        with part.open("rb") as file:
            file.seek(start * _SAMPLE_BYTES)
            data = file.read(count * _SAMPLE_BYTES)
    except FileNotFoundError:
        return region
    got = np.frombuffer(data[: len(data) - len(data) % _SAMPLE_BYTES], dtype="<i2")
    region[: len(got)] = got
    return region
