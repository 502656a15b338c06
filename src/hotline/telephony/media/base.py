"""The one interface every media backend implements (in-process asyncio RTP, rtpengine).

Call control (``hotline.telephony.b2bua``) speaks only this :class:`MediaBackend`
protocol: it opens one *leg* per SIP dialog (caller, operator phone), tells the backend
where the peer sends and receives RTP (from the SDP), asks it to play prompts, to bridge
two legs and to record, and hears back through :class:`MediaListener` (digits received,
playback finished).  Which backend runs is configuration; both pass the same tests.

Legs are named by a string chosen by call control (e.g. the SIP dialog's Call-ID plus a
side) so log lines of both layers line up.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "Codec",
    "LocalMedia",
    "MediaBackend",
    "MediaError",
    "MediaListener",
    "RecordingResult",
    "RemoteMedia",
]


class Codec(enum.IntEnum):
    """G.711 payload types (RFC 3551 §6, static)."""

    PCMU = 0
    PCMA = 8


class MediaError(Exception):
    """A media operation could not be done (no free port, unknown leg, unreadable prompt)."""


@dataclass(frozen=True, slots=True)
class LocalMedia:
    """Where we receive RTP for a leg: goes into our SDP (``c=`` and ``m=audio``)."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class RemoteMedia:
    """What the peer's SDP said.

    ``dtmf_payload_type`` is the dynamic payload type of ``telephone-event/8000``
    (RFC 4733) or ``None`` when the peer did not offer it.  ``send`` / ``receive`` say
    whether we may send to the peer and whether it sends to us (from ``a=sendrecv`` /
    ``sendonly`` / ``recvonly`` / ``inactive``, seen from our side): a phone on hold sends
    ``sendonly``, so we stop sending but keep listening.
    """

    host: str
    port: int
    codec: Codec
    dtmf_payload_type: int | None = 101
    send: bool = True
    receive: bool = True


@dataclass(frozen=True, slots=True)
class RecordingResult:
    """A finished WAV file: 8 kHz, 16-bit, ``channels`` 1 (voicemail) or 2 (left caller,
    right operator)."""

    path: Path
    duration_seconds: float
    channels: int
    size_bytes: int


class MediaListener(Protocol):
    """What a backend reports back.  Called on the event loop, never concurrently."""

    def on_dtmf(self, leg_id: str, digit: str) -> None:
        """A digit (``0``–``9``, ``*``, ``#``, ``A``–``D``) was pressed on ``leg_id``:
        reported once per key press (RFC 4733 end of event, duplicates removed)."""

    def on_playback_finished(self, leg_id: str, playback_id: int) -> None:
        """The playback started by :meth:`MediaBackend.play` ended by itself (not when
        stopped or replaced)."""


class MediaBackend(Protocol):
    """Media for SIP legs.  All methods run on the event loop; none blocks it."""

    async def open_leg(self, leg_id: str) -> LocalMedia:
        """Reserve an RTP port (from the configured range) for a new leg.  Raises
        :class:`MediaError` when the range is exhausted."""

    def connect(self, leg_id: str, remote: RemoteMedia) -> None:
        """Set or change (re-INVITE) the peer's address, codec and direction.  With
        symmetric RTP the backend switches to the source address the peer's packets
        actually come from (callers behind NAT)."""

    async def play(self, leg_id: str, prompts: Sequence[Path], *, loop: bool = False) -> int:
        """Play the WAV files one after the other (any rate; converted to 8 kHz and to the
        leg's codec, cached), paced every 20 ms; replaces what was playing.  Returns a
        playback id; :meth:`MediaListener.on_playback_finished` reports its end unless
        ``loop`` (music on hold) or it is stopped first."""

    def stop_playback(self, leg_id: str) -> None:
        """Stop what is playing on ``leg_id`` (no finished report)."""

    def bridge(self, leg_a: str, leg_b: str) -> None:
        """Relay audio both ways between two legs (transcoding µ-law ↔ A-law when their
        codecs differ) and DTMF as events; stops playback on both."""

    def unbridge(self, leg_id: str) -> None:
        """Undo :meth:`bridge` for the pair ``leg_id`` is in (hold, transfer)."""

    def tap(self, leg_id: str, destinations: Sequence[tuple[str, int]]) -> None:
        """Also send a copy of every audio packet received on ``leg_id`` to each of
        ``destinations`` (supervisors' silent monitors), unchanged and from the leg's own
        port; an empty list stops.  Raises :class:`MediaError` when the backend cannot."""

    def start_recording(self, key: str, path: Path, left: str, right: str | None) -> None:
        """Record the audio *received from* ``left`` in the left channel and from
        ``right`` in the right channel (both parties' voices, time-aligned, silence where
        nothing arrived), or a mono file when ``right`` is ``None`` (voicemail).  File
        writes happen off the event loop."""

    async def stop_recording(self, key: str) -> RecordingResult:
        """Finish the recording ``key`` and return the closed file's facts."""

    async def close_leg(self, leg_id: str) -> None:
        """Stop everything on the leg and free its port; recordings that use it keep
        the audio received so far (stop them explicitly to get the result)."""

    async def close(self) -> None:
        """Close every leg and socket (shutdown)."""
