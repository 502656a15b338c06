"""Recordings: received frames placed on a timeline, turned into WAV off the event loop.

Theory of operation:

Rule 1. A :class:`Track` is one channel of a recording: the audio received from one
leg.  Each frame is kept as it came (G.711 bytes and payload type) with its position in
samples since the recording started; nothing is decoded on the event loop.

Rule 2. Positions come from RTP timestamps anchored to arrival time: the first frame
of a stream sits where it arrived (``(arrival - start) * 8000``), the following ones
``timestamp - anchor timestamp`` samples later, so jitter does not shake the timeline
and a sender's silence suppression leaves the right gap.  A new SSRC, or a drift of
more than :data:`RESYNC_SAMPLES` between the timestamp's position and the arrival's
(a clock that runs fast, a sender that jumped), re-anchors at arrival.  Both channels
share the recording's start, so the caller and the operator line up.

Rule 3. Memory is bounded: :meth:`Recording.take_pending` hands the frames kept so far
to :func:`spill`, which an executor runs to decode them into one ``.part`` file per
channel (16-bit samples at their positions; holes read as silence).  :func:`finish`
spills the rest and streams the part files into the WAV, written under a temporary name
and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
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
    "Chunk",
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

#: A frame on the timeline: position in samples, payload type (0 or 8), G.711 bytes.
Chunk = tuple[int, int, bytes]


class Track:
    """The frames received from one leg since a recording began (Rules 1 and 2)."""

    __slots__ = (
        "_anchor_position",
        "_anchor_ssrc",
        "_anchor_timestamp",
        "chunks",
        "pending",
        "start",
    )

    def __init__(self, start: float) -> None:
        self.start = start
        self.chunks: list[Chunk] = []
        self.pending = 0  # Samples in ``chunks``.
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
                    self.chunks.append((position, packet.payload_type, payload))
                    self.pending += len(payload)
                return
        self._anchor_ssrc = packet.ssrc
        self._anchor_timestamp = packet.timestamp
        self._anchor_position = position = max(round((arrival - self.start) * SAMPLE_RATE), 0)
        self.chunks.append((position, packet.payload_type, packet.payload))
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

    def take_pending(self) -> list[list[Chunk]]:
        """The frames kept so far, one list per channel, for :func:`spill`."""
        taken = [track.chunks for track in self.tracks]
        for track in self.tracks:
            track.chunks = []
            track.pending = 0
        return taken

    def give_back(self, chunks: list[list[Chunk]]) -> None:
        """Undo :meth:`take_pending` after a failed spill: nothing received is lost."""
        for track, old in zip(self.tracks, chunks, strict=True):
            track.chunks[:0] = old
            track.pending += sum(len(payload) for _, _, payload in old)


def spill(part_paths: list[Path], chunks: list[list[Chunk]]) -> None:
    """Decode frames into the part files (Rule 3).  Blocking: run it in an executor."""
    try:
        part_paths[0].parent.mkdir(parents=True, exist_ok=True)
        for part, channel in zip(part_paths, chunks, strict=True):
            _spill_channel(part, channel)
    except OSError as exc:
        raise MediaError(
            f"recording {part_paths[0].parent}: cannot write ({exc.strerror or exc}); "
            "check that the directory is writable and the disk not full"
        ) from exc


def finish(
    path: Path, part_paths: list[Path], chunks: list[list[Chunk]], duration: float
) -> RecordingResult:
    """Spill what is left, write the WAV and remove the part files (Rule 3).

    ``duration`` (seconds) sets the length: frames beyond it are cut, silence fills
    the channels up to it.  Blocking: run it in an executor.
    """
    total = round(duration * SAMPLE_RATE)
    temporary = path.with_name(f"{path.name}.tmp")
    try:
        spill(part_paths, chunks)
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


def _spill_channel(part: Path, chunks: list[Chunk]) -> None:
    if not chunks:
        return
    positions = np.fromiter((c[0] for c in chunks), dtype=np.int64, count=len(chunks))
    lengths = np.fromiter((len(c[2]) for c in chunks), dtype=np.int64, count=len(chunks))
    is_alaw = np.fromiter((c[1] == Codec.PCMA for c in chunks), dtype=bool, count=len(chunks))
    joined = b"".join(c[2] for c in chunks)
    samples = np.where(np.repeat(is_alaw, lengths), alaw_to_linear(joined), ulaw_to_linear(joined))
    starts = np.cumsum(lengths) - lengths
    index = np.repeat(positions - starts, lengths) + np.arange(len(joined))
    low, high = int(index.min()), int(index.max()) + 1
    # Read, overlay, write back: frames of an earlier spill may share this region.
    region = _read_region(part, low, high - low)
    region[index - low] = samples  # A later duplicate overwrites an earlier one.
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
