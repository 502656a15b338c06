"""The recordings of the in-process backend: which leg feeds which track, and the
executor jobs that spill and finish them (see :mod:`.recording` for the rules).

The event loop only appends frames to tracks (:func:`feed`): straight away while the
sequence numbers follow each other (the usual case, no item or list is built), through
the reorder buffer otherwise.  Decoding and every file write run in the executor, one
job at a time per recording.  A spill that fails gives its frames back and is not
retried: they wait in memory for :meth:`Recorder.stop`, whose own failure is the one
reported.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, Final, Protocol

from hotline.telephony.media import recording as rec
from hotline.telephony.media.base import MediaError, RecordingResult
from hotline.telephony.media.legs import Leg
from hotline.telephony.rtp.jitter import ReorderBuffer
from hotline.telephony.rtp.packet import RtpPacket

__all__ = ["REORDER_DEPTH", "Recorder", "feed", "flush"]

#: The reorder depth on the recording path: 3 frames, 60 ms (see rtp.jitter).
REORDER_DEPTH: Final = 3


class _Log(Protocol):
    def warning(self, event: str, **kw: Any) -> object: ...


def feed(leg: Leg, packet: RtpPacket, arrival: float) -> None:
    """Put a received audio packet through the leg's reorder buffer into its tracks."""
    reorder = leg.reorder
    if reorder is None:
        return
    ssrc = packet.ssrc
    if ssrc == leg.recorded_ssrc and reorder.next_in_line(packet.sequence_number):
        for track in leg.tracks:  # In order (the usual case): straight to the tracks.
            track.add(packet, arrival)
        return
    if ssrc != leg.recorded_ssrc:
        flush(leg)  # A new stream: its sequence numbers start afresh.
        leg.recorded_ssrc = ssrc
    for ordered, arrived in reorder.push(packet.sequence_number, (packet, arrival)):
        for track in leg.tracks:
            track.add(ordered, arrived)


def flush(leg: Leg) -> None:
    """Release what the leg's reorder buffer holds into its tracks."""
    if leg.reorder is None:
        return
    for packet, arrival in leg.reorder.flush():
        for track in leg.tracks:
            track.add(packet, arrival)


class Recorder:
    """Running recordings by key, and their spills to disk."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, executor: Executor | None, log: _Log
    ) -> None:
        self._loop = loop
        self._executor = executor
        self._log = log
        self._recordings: dict[str, rec.Recording] = {}
        self._sources: dict[str, list[tuple[Leg, rec.Track]]] = {}
        self._spills: dict[str, asyncio.Future[None]] = {}
        self._spill_failed: set[str] = set()

    def __len__(self) -> int:
        return len(self._recordings)

    def running(self) -> list[str]:
        """The keys of the recordings running."""
        return list(self._recordings)

    def start(self, key: str, path: Path, legs: list[Leg]) -> None:
        """Start recording what each leg sends us, one channel per leg."""
        if key in self._recordings:
            raise MediaError(f"recording {key} is already running (call control's bug)")
        start = self._loop.time()
        recording = rec.Recording(key, path, start, [rec.Track(start) for _ in legs])
        self._sources[key] = sources = list(zip(legs, recording.tracks, strict=True))
        for leg, track in sources:
            leg.tracks.append(track)
            if leg.reorder is None:
                leg.reorder = ReorderBuffer(REORDER_DEPTH)
        self._recordings[key] = recording

    async def stop(self, key: str) -> RecordingResult:
        """Detach the tracks, wait for a spill in flight, write the WAV (executor)."""
        recording = self._recordings.pop(key, None)
        if recording is None:
            raise MediaError(f"no recording {key} is running (call control's bug)")
        duration = self._loop.time() - recording.start
        for leg, track in self._sources.pop(key):
            flush(leg)
            if track in leg.tracks:
                leg.tracks.remove(track)
            if not leg.tracks:
                leg.reorder = None
        spilling = self._spills.pop(key, None)
        if spilling is not None:
            await asyncio.wait([spilling])  # A failure gave the frames back: see _spill.
        self._spill_failed.discard(key)
        return await self._loop.run_in_executor(
            self._executor,
            rec.finish,
            recording.path,
            recording.part_paths,
            recording.take_pending(),
            duration,
        )

    def spill_due(self) -> None:
        """Start a spill for each recording holding too much in memory."""
        for key, recording in self._recordings.items():
            if (
                recording.pending >= rec.SPILL_SAMPLES
                and key not in self._spills
                and key not in self._spill_failed
            ):
                self._spill(key, recording)

    def _spill(self, key: str, recording: rec.Recording) -> None:
        pending = recording.take_pending()
        future = self._loop.run_in_executor(
            self._executor, rec.spill, recording.part_paths, pending
        )
        self._spills[key] = future

        def done(future: asyncio.Future[None]) -> None:
            if self._spills.get(key) is future:
                del self._spills[key]
            if future.cancelled() or future.exception() is not None:
                recording.give_back(pending)  # Kept in memory; finish() tries again.
                self._spill_failed.add(key)
                self._log.warning(
                    "media.recording_spill_failed",
                    key=key,
                    error=str(None if future.cancelled() else future.exception()),
                )

        future.add_done_callback(done)
