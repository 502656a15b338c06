"""DTMF as RTP telephone events (RFC 4733), sent and received; pure, no clock.

Payload (RFC 4733 §2.3)::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |     event     |E|R| volume    |          duration             |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

Theory of operation of :class:`DtmfReceiver` (one key press reported exactly once):

Rule 1. An event is named by its RTP timestamp: every packet of one key press, the
three redundant end packets included, carries the timestamp of the event's start
(§2.5.1.2, §2.5.1.4).  A new timestamp is a new key press (so is a new event code
under the same timestamp, which only replayed captures produce).  Sequence numbers and SSRC
are not looked at, so a stream that restarts its numbering (SIPp's stock DTMF pcaps
reuse them) loses no digit.

Rule 2. A press is reported when its first end packet (E bit) arrives.  Its later end
packets, and any straggler of an event already reported, are duplicates: a short
memory of recent timestamps drops them.

Rule 3. When every end packet is lost, the press is reported when the next event
starts (a new timestamp), or when no packet of it came for
:data:`END_TIMEOUT_S` seconds (:meth:`DtmfReceiver.handle_timer`; the driver asks
:meth:`DtmfReceiver.next_deadline`).

Rule 4. Events that are not DTMF (codes above 15, e.g. flash, fax tones) are dropped
(§3.2 lists codes 0-15 as the DTMF digits).
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DTMF_DIGITS",
    "END_TIMEOUT_S",
    "DtmfPacket",
    "DtmfReceiver",
    "TelephoneEvent",
    "digit_for_event",
    "dtmf_packets",
    "event_for_digit",
    "parse_telephone_event",
]

#: RFC 4733 §3.2 (Table 3): event codes 0-15 in order.
DTMF_DIGITS: Final = "0123456789*#ABCD"
#: Our choice, not the RFC's: senders refresh an event every 20-50 ms (the audio
#: packet interval, §2.5.1.2), so half a second of silence means its end packets were
#: lost.
END_TIMEOUT_S: Final = 0.5
_PAYLOAD: Final = struct.Struct("!BBH")
# Timestamps remembered after their event ended (Rule 2): far more than can be in
# flight between two presses.
_RECENT_EVENTS: Final = 16
_SAMPLES_PER_MS: Final = 8  # telephone-event/8000 (RFC 4733 §2.1, the usual clock).


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One telephone-event payload (RFC 4733 §2.3).

    ``volume`` is the power level in -dBm0 (0-63, §2.3.4); ``duration`` counts
    timestamp units since the event began (§2.3.5).
    """

    event: int
    end: bool
    volume: int
    duration: int

    def to_bytes(self) -> bytes:
        """The 4-byte payload (the R bit is sent as 0, §2.3)."""
        return _PAYLOAD.pack(
            self.event & 0xFF,
            (0x80 if self.end else 0) | (self.volume & 0x3F),
            self.duration & 0xFFFF,
        )


@dataclass(frozen=True, slots=True)
class DtmfPacket:
    """What a sender puts in one RTP packet of a key press (:func:`dtmf_packets`)."""

    marker: bool
    timestamp: int
    payload: bytes


def parse_telephone_event(payload: bytes) -> TelephoneEvent | None:
    """Parse a telephone-event payload; ``None`` when shorter than 4 bytes.

    Only the first event is read: a payload may carry several (§2.5.1.5 redundancy),
    the first being the current one.
    """
    if len(payload) < _PAYLOAD.size:
        return None
    event, flags, duration = _PAYLOAD.unpack_from(payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


def digit_for_event(event: int) -> str | None:
    """The DTMF digit of an event code, ``None`` for other events (Rule 4)."""
    return DTMF_DIGITS[event] if 0 <= event < len(DTMF_DIGITS) else None


def event_for_digit(digit: str) -> int:
    """The event code of a DTMF digit (``0``-``9``, ``*``, ``#``, ``A``-``D``)."""
    index = DTMF_DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if index < 0:
        raise ValueError(f"{digit!r} is not a DTMF digit (0-9, *, #, A-D): a bug in the caller")
    return index


def dtmf_packets(
    digit: str,
    timestamp: int,
    *,
    duration_ms: int = 100,
    volume: int = 10,
    interval_ms: int = 20,
    end_repeats: int = 3,
) -> Iterator[DtmfPacket]:
    """The packets a sender emits for one key press, ``interval_ms`` apart.

    RFC 4733 §2.5.1.2: the first packet has the marker bit and every packet the
    timestamp of the event's start, with a growing duration; §2.5.1.4: the final
    packet, with the E bit and the full duration, is sent ``end_repeats`` times
    (3 recommended).  ``volume`` is in -dBm0 (10 is a usual keypad level).
    """
    event = event_for_digit(digit)
    total = duration_ms * _SAMPLES_PER_MS
    step = interval_ms * _SAMPLES_PER_MS
    elapsed = step
    first = True
    while elapsed < total:
        yield DtmfPacket(first, timestamp, TelephoneEvent(event, False, volume, elapsed).to_bytes())
        first = False
        elapsed += step
    end = TelephoneEvent(event, True, volume, total).to_bytes()
    for _ in range(end_repeats):
        yield DtmfPacket(first, timestamp, end)
        first = False


class DtmfReceiver:
    """Turns received telephone events into key presses, each reported once.

    Feed it every telephone-event packet's timestamp and payload with
    :meth:`receive`; see the module's Rules 1-4.  ``now`` is any monotonic clock in
    seconds; it only serves Rule 3's timeout.
    """

    __slots__ = ("_last_packet_at", "_open_digit", "_open_event", "_open_timestamp", "_recent")

    def __init__(self) -> None:
        self._open_timestamp: int | None = None
        self._open_event = -1
        self._open_digit: str | None = None
        self._last_packet_at = 0.0
        self._recent: deque[tuple[int, int]] = deque(maxlen=_RECENT_EVENTS)

    def receive(self, timestamp: int, payload: bytes, now: float) -> list[str]:
        """Digits completed by this packet, oldest first (usually none or one)."""
        event = parse_telephone_event(payload)
        if event is None:
            return []
        key = (timestamp, event.event)
        if key in self._recent:
            return []  # Rule 2: an end packet repeated, or a straggler.
        digits: list[str] = []
        if self._open_timestamp is not None and (self._open_timestamp, self._open_event) != key:
            digits.extend(self._close())  # Rule 3: a new event ends the open one.
        if event.end:
            self._recent.append(key)
            self._open_timestamp = None
            digit = digit_for_event(event.event)
            if digit is not None:
                digits.append(digit)
            return digits
        self._open_timestamp, self._open_event = key
        self._open_digit = digit_for_event(event.event)
        self._last_packet_at = now
        return digits

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timer` may end a press whose end packets were lost."""
        if self._open_timestamp is None:
            return None
        return self._last_packet_at + END_TIMEOUT_S

    def handle_timer(self, now: float) -> list[str]:
        """Rule 3: report the open press if nothing of it came for a while."""
        deadline = self.next_deadline()
        if deadline is None or now < deadline:
            return []
        return self._close()

    def _close(self) -> list[str]:
        timestamp, self._open_timestamp = self._open_timestamp, None
        if timestamp is None:
            return []
        self._recent.append((timestamp, self._open_event))
        return [] if self._open_digit is None else [self._open_digit]
